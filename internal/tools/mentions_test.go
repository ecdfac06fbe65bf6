package tools_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// toolLike matches snake_case words shaped like a tool name (a verb, then
// words), whether or not such a tool exists: get_events must be caught.
var toolLike = regexp.MustCompile(`\b(?:get|list|read|count|diagnose|review|docs|search|find|show|describe|query|fetch|inspect|check|lookup)_[a-z0-9_]*[a-z0-9]\b`)

// mentionedTools returns the tool names text mentions: tool-shaped words and
// every registered name with an underscore.
func mentionedTools(text string) []string {
	seen := map[string]bool{}
	for _, m := range toolLike.FindAllString(text, -1) {
		seen[m] = true
	}
	for _, d := range tools.All() {
		if strings.Contains(d.Name, "_") && regexp.MustCompile(`\b`+d.Name+`\b`).MatchString(text) {
			seen[d.Name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// mentionConfigs are the ways the server runs, each with the tools it offers.
var mentionConfigs = []struct {
	name string
	sel  tools.Selection
}{
	{"self-hosted", tools.Selection{Kind: target.SelfHosted, KindKnown: true, Docs: true}},
	{"cloud-api-key", tools.Selection{Kind: target.Cloud, KindKnown: true, Docs: true}},
	{"cloud-oauth", tools.Selection{OAuth: true, Docs: true}},
	{"multi-tenant-http", tools.Selection{Docs: true}},
	{"demo", tools.Selection{Kind: target.Demo, KindKnown: true, Docs: true}},
	{"self-hosted-no-docs", tools.Selection{Kind: target.SelfHosted, KindKnown: true}},
	{"toolsets-diagnosis", tools.Selection{Groups: []string{tools.GroupDiagnosis}, Kind: target.SelfHosted, KindKnown: true}},
	{"toolsets-runs-events", tools.Selection{Groups: []string{tools.GroupRuns, tools.GroupEvents}, Kind: target.Cloud, KindKnown: true}},
	{"toolsets-automations", tools.Selection{Groups: []string{tools.GroupAutomations}, OAuth: true}},
}

// TestToolMentions: in every configuration, every tool named by the server
// instructions, a tool description, or any text a tool answers (next steps,
// notes, error hints) is a tool that configuration registers. The texts
// come from running the tools on the demo workspace: every tool, every
// diagnosis the demo can produce, and the error paths of a failing API.
func TestToolMentions(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	deps, _ := staticDeps(t, httpClient(t, prefect.TLSOptions{}, 10*time.Second), target.Credentials{APIURL: fake.URL}, docsClient(t))

	mentioned := map[string]bool{}
	for _, cfg := range mentionConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			fake.ClearFaults()
			e := connect(t, fake, deps, cfg.sel)
			list, err := e.session.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			offered := map[string]bool{}
			for _, tool := range list.Tools {
				offered[tool.Name] = true
			}
			check := func(where, text string) {
				t.Helper()
				for _, m := range mentionedTools(text) {
					mentioned[m] = true
					if !offered[m] {
						t.Errorf("%s names %s, which this configuration does not offer:\n%s", where, m, text)
					}
				}
			}
			check("the instructions", e.session.InitializeResult().Instructions)
			for _, tool := range list.Tools {
				check(tool.Name+"'s description", tool.Description)
			}
			call := func(name string, args map[string]any) string {
				t.Helper()
				if !offered[name] {
					return ""
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res, err := e.session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
				if err != nil {
					t.Fatalf("%s(%v): protocol error: %v", name, args, err)
				}
				text := res.Content[0].(*mcp.TextContent).Text
				check(name+"'s answer", text)
				return text
			}
			for _, tool := range list.Tools {
				call(tool.Name, minimalArgs(tool.InputSchema))
				call(tool.Name, map[string]any{})
			}
			// Every diagnosis the demo holds: one run per state, every automation.
			for _, name := range demoNames(t, fake, "/flow_runs/filter", "state_name") {
				call(tools.ToolDiagnoseFlowRun, map[string]any{"flow_run_id": name})
			}
			for _, id := range demoNames(t, fake, "/automations/filter", "id") {
				call(tools.ToolDiagnoseAutomation, map[string]any{"automation": id})
			}
			// Not-found hints.
			missing := "00000000-0000-4000-8000-000000000000"
			for _, tool := range list.Tools {
				args := minimalArgs(tool.InputSchema)
				for k := range args {
					if strings.HasSuffix(k, "id") || k == "automation" {
						args[k] = missing
					}
				}
				call(tool.Name, args)
			}
			// A failing API: every tool's error text. The long Retry-After
			// makes the client give up at once instead of retrying.
			for _, f := range []prefecttest.Fault{{Status: 500}, {Status: 429, RetryAfter: "3600"}, {Status: 404, Body: `{"detail":"Not Found"}`}} {
				fake.ClearFaults()
				fake.AddFault(f)
				for _, tool := range list.Tools {
					call(tool.Name, minimalArgs(tool.InputSchema))
				}
			}
			fake.ClearFaults()
		})
	}
	// The checks above must have seen tools named; otherwise they prove nothing.
	for _, want := range []string{tools.ToolDiagnoseStuckRuns, tools.ToolGetFlowRunLogs, tools.ToolReadEvents, tools.ToolReviewRateLimits, tools.ToolListAuthorizedWorkspaces} {
		if !mentioned[want] {
			t.Errorf("no text named %s: the test no longer reaches the texts that name tools", want)
		}
	}
}

// demoNames reads one field of each row the fake holds at a filter route,
// one row per distinct value of by (state_name), or every row (id).
func demoNames(t *testing.T, fake *prefecttest.Server, path, by string) []string {
	t.Helper()
	resp, err := http.Post(fake.URL+path, "application/json", strings.NewReader(`{"limit":200}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rows []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		key, _ := r[by].(string)
		if seen[key] {
			continue
		}
		seen[key] = true
		id, _ := r["id"].(string)
		out = append(out, id)
	}
	if len(out) == 0 {
		t.Fatalf("the demo has no rows at %s", path)
	}
	return out
}

// TestToolNamesInSource: every string literal of the server's code that
// names a tool names one that exists, and the tools and server packages
// name tools only through the Tool* constants, so a mention is a
// compile-time reference and the texts above can drop what is not offered.
func TestToolNamesInSource(t *testing.T) {
	// Tool-shaped words that are not our tools.
	notTools := map[string]bool{
		"search_prefect": true, "get_release_notes": true, // the remote docs server's tools
		"list_type":  true, // an OpenAPI keyword
		"count_runs": true, // a fake's field
	}
	registered := map[string]bool{}
	for _, d := range tools.All() {
		registered[d.Name] = true
	}
	var files []string
	for _, dir := range []string{"..", "../../cmd"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	literals := 0
	for _, path := range files {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Packages that write texts for the model name tools by constant.
		own := slices.Contains([]string{"tools", "server", "diagnosis", "shape"}, filepath.Base(filepath.Dir(path)))
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			literals++
			for _, m := range mentionedTools(s) {
				switch {
				case notTools[m]:
				case !registered[m]:
					t.Errorf("%s: %q names %s, which is not a tool", path, clipText(s), m)
				case own && filepath.Base(path) != "toolnames.go":
					t.Errorf("%s: %q names %s literally; use the Tool* constant", path, clipText(s), m)
				}
			}
			return true
		})
	}
	if len(files) < 20 || literals < 500 {
		t.Fatalf("read %d files, %d string literals: the source walk is broken", len(files), literals)
	}
}

func clipText(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// TestToolNameConstants: the constants (package toolname, which tools.Tool*
// are) name exactly the registered tools.
func TestToolNameConstants(t *testing.T) {
	src, err := os.ReadFile("../toolname/toolname.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := regexp.MustCompile(`(?m)^\s+\w+\s+= "([a-z_]+)"$`).FindAllStringSubmatch(string(src), -1)
	var got, want []string
	for _, m := range consts {
		got = append(got, m[1])
	}
	for _, d := range tools.All() {
		want = append(want, d.Name)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("Tool* constants %v, registered tools %v", got, want)
	}
}
