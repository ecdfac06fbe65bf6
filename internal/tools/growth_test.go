package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// representativeCalls is, per tool, a call that selects one object by id or
// name in the demo workspace (the large workspace contains the demo, so the
// same call selects the same object there). Every tool must have one: a
// new tool is measured from the start.
var representativeCalls = map[string]map[string]any{
	tools.ToolCountEvents:              {"resource_id": "prefect.flow-run." + prefecttest.DemoID("flow_run", "crimson-falcon"), "since": "-7d"},
	tools.ToolDiagnoseAutomation:       {"automation_id": prefecttest.DemoID("automation", "pause-etl-after-3-failures")},
	tools.ToolDiagnoseFlowRun:          {"flow_run_id": prefecttest.DemoID("flow_run", "crimson-falcon")},
	tools.ToolDiagnoseLateRuns:         {"work_pool_name": prefecttest.DemoProcessPool},
	tools.ToolDiagnoseStuckRuns:        {"work_pool_name": prefecttest.DemoProcessPool},
	tools.ToolDocsGetReleaseNotes:      {"version": "latest"},
	tools.ToolDocsSearchPrefect:        {"query": "work pools"},
	tools.ToolGetArtifacts:             {"flow_run_id": prefecttest.DemoID("flow_run", "crimson-falcon")},
	tools.ToolGetAutomations:           {"filter": map[string]any{"enabled": map[string]any{"eq_": true}}},
	tools.ToolGetConcurrencyLimits:     {},
	tools.ToolGetDashboard:             {},
	tools.ToolGetDeploymentActivity:    {"window_days": 7, "limit": 5},
	tools.ToolGetDeployments:           {"filter": map[string]any{"id": map[string]any{"any_": []string{prefecttest.DemoID("deployment", "etl-hourly")}}}},
	tools.ToolGetFlowRunLogs:           {"flow_run_id": "crimson-falcon", "tail": true, "level": "error"},
	tools.ToolGetFlowRuns:              {"filter": map[string]any{"id": map[string]any{"any_": []string{prefecttest.DemoID("flow_run", "crimson-falcon")}}}},
	tools.ToolGetFlows:                 {"filter": map[string]any{"name": map[string]any{"any_": []string{"always-fails"}}}},
	tools.ToolGetIdentity:              {},
	tools.ToolGetObjectSchema:          {"object_type": "automation", "action_type": "run-deployment"},
	tools.ToolGetRunStateHistory:       {"flow_run_id": prefecttest.DemoID("flow_run", "crimson-falcon")},
	tools.ToolGetServerStatus:          {"rounds": 1},
	tools.ToolGetTaskRuns:              {"filter": map[string]any{"flow_run_id": map[string]any{"any_": []string{prefecttest.DemoID("flow_run", "crimson-falcon")}}}},
	tools.ToolGetVariables:             {"name": "etl_config"},
	tools.ToolGetWorkPools:             {"filter": map[string]any{"name": map[string]any{"any_": []string{prefecttest.DemoProcessPool}}}},
	tools.ToolGetWorkQueues:            {"work_pool_name": prefecttest.DemoProcessPool},
	tools.ToolListAuthorizedWorkspaces: {},
	tools.ToolReadEvents:               {"related_resource_id": "prefect.flow-run." + prefecttest.DemoID("flow_run", "crimson-falcon")},
	tools.ToolReviewRateLimits:         {"since": "-24h"},
	tools.ToolSearch:                   {"query": "etl"},
}

// TestUpstreamRequestsDoNotGrowWithWorkspace calls every tool of every
// configuration the fake can serve (self-hosted and Cloud, OAuth-only tools
// included), with no arguments, with its required ones and with a
// representative selection by id or name, on the demo workspace and on the
// large one: the number of upstream requests must be the same.
func TestUpstreamRequestsDoNotGrowWithWorkspace(t *testing.T) {
	demo, large := prefecttest.Demo(now), prefecttest.Large(now)
	dc := docsClient(t)
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	type config struct {
		name  string
		cloud bool
		sel   tools.Selection
	}
	configs := []config{
		{"self-hosted", false, tools.Selection{Docs: true}},
		{"cloud", true, tools.Selection{Docs: true}},
		{"cloud-oauth", true, tools.Selection{Docs: true, OAuth: true}},
	}
	measured := map[string]bool{}
	// figures[tool] = requests on {demo, large} for no arguments and for
	// the representative call, from the first configuration offering it.
	figures := map[string][2][2]int{}
	for _, cfg := range configs {
		// One fake and session per workspace size.
		sessions := map[string]*env{}
		for _, ws := range []struct {
			name string
			data *prefecttest.Data
		}{{"demo", demo}, {"large", large}} {
			fake, creds := fakeWorkspace(t, cfg.cloud, clock, prefecttest.WithData(ws.data))
			deps, tgt := staticDeps(t, hc, creds, dc)
			sel := cfg.sel
			sel.Kind, sel.KindKnown = tgt.Kind, true
			sessions[ws.name] = connect(t, fake, deps, sel)
		}
		list, err := sessions["demo"].session.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range list.Tools {
			rep, ok := representativeCalls[tool.Name]
			if !ok {
				t.Errorf("%s has no representative call in representativeCalls", tool.Name)
				continue
			}
			var calls []map[string]any
			for _, args := range []map[string]any{{}, minimalArgs(tool.InputSchema), rep} {
				if !slices.ContainsFunc(calls, func(c map[string]any) bool { return argsJSON(c) == argsJSON(args) }) {
					calls = append(calls, args)
				}
			}
			_, recorded := figures[tool.Name]
			for _, args := range calls {
				n := map[string]int{}
				for ws, e := range sessions {
					e.fake.ResetLog()
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					_, err := e.session.CallTool(ctx, &mcp.CallToolParams{Name: tool.Name, Arguments: args})
					cancel()
					if err != nil {
						t.Fatalf("%s %s(%s) on the %s workspace: %v", cfg.name, tool.Name, argsJSON(args), ws, err)
					}
					n[ws] = len(e.fake.Requests())
				}
				measured[tool.Name] = true
				if f := figures[tool.Name]; !recorded {
					if argsJSON(args) == "{}" {
						f[0] = [2]int{n["demo"], n["large"]}
					}
					if argsJSON(args) == argsJSON(rep) {
						f[1] = [2]int{n["demo"], n["large"]}
					}
					figures[tool.Name] = f
				}
				if n["large"] > n["demo"] {
					t.Errorf("%s %s(%s): %d upstream requests on the demo, %d on the large workspace: requests must not grow with the workspace",
						cfg.name, tool.Name, argsJSON(args), n["demo"], n["large"])
				}
			}
		}
	}
	checkREADMESection(t, "requests", requestsTable(figures))
	for _, def := range tools.All() {
		if !measured[def.Name] {
			t.Errorf("%s is registered but was never measured", def.Name)
		}
	}
}

func argsJSON(args map[string]any) string {
	b, _ := json.Marshal(args)
	return string(b)
}

// requestsTable is the README's table of Prefect API requests per call.
func requestsTable(figures map[string][2][2]int) string {
	cell := func(n [2]int) string {
		if n[0] == n[1] {
			return fmt.Sprint(n[0])
		}
		return fmt.Sprintf("%d (demo) → %d (large workspace)", n[0], n[1])
	}
	var b strings.Builder
	b.WriteString("| tool | no arguments | selecting by id or name | call measured |\n|---|---|---|---|\n")
	for _, def := range tools.All() {
		f, ok := figures[def.Name]
		if !ok {
			continue
		}
		rep := uuidPattern.ReplaceAllString(argsJSON(representativeCalls[def.Name]), "<id>")
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` |\n", def.Name, cell(f[0]), cell(f[1]), rep)
	}
	return b.String()
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// checkREADMESection compares the README's section between
// <!-- name:start --> and <!-- name:end --> with body; UPDATE_README=1
// rewrites it.
func checkREADMESection(t *testing.T, name, body string) {
	t.Helper()
	const path = "../../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start, end := "<!-- "+name+":start -->\n", "<!-- "+name+":end -->"
	i, j := strings.Index(doc, start), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %s section (%s … %s)", name, strings.TrimSpace(start), end)
	}
	want := doc[:i+len(start)] + body + doc[j:]
	if want == doc {
		return
	}
	if os.Getenv("UPDATE_README") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's %s table is out of date; run UPDATE_README=1 go test ./internal/tools/ -run TestUpstreamRequestsDoNotGrowWithWorkspace\nwant:\n%s", name, body)
}
