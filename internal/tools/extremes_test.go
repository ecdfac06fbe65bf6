package tools_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// extremesConfig is one way the server runs: its tools, its fake, its deps.
type extremesConfig struct {
	name string
	sel  tools.Selection
	fake *prefecttest.Server
	deps *tools.Deps
}

// oneGrant is an OAuth grant reader with a single workspace.
type oneGrant struct{ ws target.GrantWorkspace }

func (g oneGrant) Grant(context.Context, target.Request) (*target.Grant, error) {
	return &target.Grant{ID: "grant", Workspaces: []target.GrantWorkspace{g.ws}, Selected: g.ws}, nil
}

// extremesConfigs are self-hosted, Cloud with an API key and Cloud OAuth,
// each on the demo workspace with the docs tools on.
func extremesConfigs(t *testing.T) []extremesConfig {
	t.Helper()
	dc := docsClient(t)
	hc := httpClient(t, prefect.TLSOptions{}, 10*time.Second)
	var out []extremesConfig
	for _, mode := range []string{"self-hosted", "cloud", "oauth"} {
		fake, creds := fakeWorkspace(t, mode != "self-hosted", prefecttest.WithData(prefecttest.Demo(now)), prefecttest.WithSpec(spec))
		deps, tgt := staticDeps(t, hc, creds, dc)
		sel := tools.Selection{Kind: tgt.Kind, KindKnown: true, Docs: true}
		if mode == "oauth" {
			sel.OAuth = true
			deps.Grants = oneGrant{target.GrantWorkspace{AccountID: cloudAccount, AccountHandle: "acme", WorkspaceID: cloudWorkspace, WorkspaceHandle: "prod"}}
		}
		out = append(out, extremesConfig{name: mode, sel: sel, fake: fake, deps: deps})
	}
	return out
}

// baseArgs are arguments with which each tool succeeds on the demo
// workspace; each extreme changes one of them.
func baseArgs(tool *mcp.Tool, s *jsonschema.Schema) map[string]any {
	args := minimalArgs(tool.InputSchema)
	for name, v := range map[string]map[string]any{
		tools.ToolDiagnoseFlowRun:    {"flow_run_id": prefecttest.DemoID("flow_run", "crimson-falcon")},
		tools.ToolGetRunStateHistory: {"flow_run_id": prefecttest.DemoID("flow_run", "crimson-falcon")},
		tools.ToolGetFlowRunLogs:     {"flow_run_id": prefecttest.DemoID("flow_run", "crimson-falcon")},
		tools.ToolGetObjectSchema:    {"object": "FlowRunFilter"},
		tools.ToolCountEvents:        {"countable": "time", "since": "-90s"}, // time_unit needs countable=time; seconds need a short window
	} {
		if name == tool.Name {
			for k, val := range v {
				if s.Properties[k] != nil {
					args[k] = val
				}
			}
		}
	}
	return args
}

// maxExactInt is the largest integer a JSON number carries exactly.
const maxExactInt = 1 << 53

// extremes lists, for each property, the values the schema advertises at
// its edges: integer minimum and maximum (0 and 2^53 when unbounded), every
// enum value (alone in a list for arrays of enums).
func extremes(s *jsonschema.Schema) map[string][]any {
	out := map[string][]any{}
	for name, p := range s.Properties {
		switch {
		case p.Type == "integer":
			lo, hi := 0.0, float64(maxExactInt)
			if p.Minimum != nil {
				lo = *p.Minimum
			}
			if p.Maximum != nil {
				hi = *p.Maximum
			}
			out[name] = []any{lo, hi}
		case len(p.Enum) > 0:
			out[name] = p.Enum
		case p.Type == "array" && p.Items != nil && len(p.Items.Enum) > 0:
			for _, v := range p.Items.Enum {
				out[name] = append(out[name], []any{v})
			}
		}
	}
	return out
}

func schemaOf(t *testing.T, tool *mcp.Tool) *jsonschema.Schema {
	t.Helper()
	raw, err := json.Marshal(tool.InputSchema)
	if err != nil {
		t.Fatal(err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func callText(ctx context.Context, t *testing.T, e *env, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := e.session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): protocol error: %v", name, args, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// TestEveryArgumentAtItsExtremes calls every tool of every configuration
// through a real MCP client with each integer argument at its schema
// minimum and maximum and each enum argument at every value: a tool error
// there is a failure. Beyond int64 an integer gets an argument error in
// words, never a Go decoder message.
func TestEveryArgumentAtItsExtremes(t *testing.T) {
	calls := 0
	for _, cfg := range extremesConfigs(t) {
		e := connect(t, cfg.fake, cfg.deps, cfg.sel)
		list, err := e.session.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range list.Tools {
			s := schemaOf(t, tool)
			base := baseArgs(tool, s)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			if text, isErr := callText(ctx, t, e, tool.Name, base); isErr {
				t.Errorf("%s/%s(%v): the base call failed: %.300s", cfg.name, tool.Name, base, text)
			}
			props := extremes(s)
			names := make([]string, 0, len(props))
			for name := range props {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				for _, v := range props[name] {
					args := maps.Clone(base)
					args[name] = v
					calls++
					if text, isErr := callText(ctx, t, e, tool.Name, args); isErr {
						t.Errorf("%s/%s: %s=%v: %.300s", cfg.name, tool.Name, name, v, text)
					}
				}
				if s.Properties[name].Type != "integer" {
					continue
				}
				args := maps.Clone(base)
				args[name] = 1e20
				text, isErr := callText(ctx, t, e, tool.Name, args)
				if !isErr || !strings.Contains(text, name) || strings.Contains(text, "json:") || strings.Contains(text, "Go ") || strings.Contains(text, "unmarshal") {
					t.Errorf("%s/%s: %s=1e20 answered (error %v) %q: want an argument error naming %s in words", cfg.name, tool.Name, name, isErr, text, name)
				}
			}
			cancel()
		}
		noWrites(t, cfg.fake)
	}
	t.Logf("%d calls at the extremes", calls)
	if calls < 150 {
		t.Errorf("only %d calls: the schemas were not walked", calls)
	}
}

// eachStringArgument calls visit for every free-text string argument of
// every tool in every configuration, with arguments that otherwise succeed.
func eachStringArgument(t *testing.T, visit func(cfg extremesConfig, e *env, tool *mcp.Tool, prop string, base map[string]any)) {
	for _, cfg := range extremesConfigs(t) {
		e := connect(t, cfg.fake, cfg.deps, cfg.sel)
		list, err := e.session.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range list.Tools {
			s := schemaOf(t, tool)
			base := baseArgs(tool, s)
			for prop, p := range s.Properties {
				if p.Type == "string" && len(p.Enum) == 0 {
					visit(cfg, e, tool, prop, base)
				}
			}
		}
	}
}

// argumentsAlone is base cut to the tool's required arguments.
func argumentsAlone(t *testing.T, tool *mcp.Tool, base map[string]any) map[string]any {
	alone := map[string]any{}
	for _, req := range schemaOf(t, tool).Required {
		alone[req] = base[req]
	}
	return alone
}

// TestHugeStringArguments gives every string argument of every tool 900 KB,
// beside the other arguments that succeed and alone (with only the required
// ones: get_artifacts echoed a key whole only without flow_run_id): the
// answer must not echo it whole, and no upstream request may carry it in
// its path.
func TestHugeStringArguments(t *testing.T) {
	huge := strings.Repeat("n", 900<<10)
	calls := 0
	eachStringArgument(t, func(cfg extremesConfig, e *env, tool *mcp.Tool, name string, base map[string]any) {
		for _, args := range []map[string]any{maps.Clone(base), argumentsAlone(t, tool, base)} {
			args[name] = huge
			cfg.fake.ResetLog()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			text, isErr := callText(ctx, t, e, tool.Name, args)
			cancel()
			calls++
			if len(text) > 16<<10 || strings.Contains(text, huge[:4096]) {
				t.Errorf("%s/%s: %s of 900 KB (with %d other arguments): the answer (error %v) is %d bytes and echoes it", cfg.name, tool.Name, name, len(args)-1, isErr, len(text))
			}
			for _, r := range cfg.fake.Requests() {
				if len(r.Path)+len(r.Query) > 4096 {
					t.Errorf("%s/%s: %s of 900 KB went upstream in a %d-byte path: %.80s", cfg.name, tool.Name, name, len(r.Path)+len(r.Query), r.Path)
				}
				if len(r.Body) > 64<<10 {
					t.Errorf("%s/%s: %s of 900 KB went upstream in a %d-byte body to %s", cfg.name, tool.Name, name, len(r.Body), r.Route)
				}
			}
		}
	})
	if calls < 60 {
		t.Errorf("only %d calls: the schemas were not walked", calls)
	}
}

// TestStringArgumentsAtTheirBound: every string argument, and each string of
// an array argument, holds up to 1024 characters (Prefect's longest names,
// counted in characters, not bytes); one more is an argument error naming
// the argument, before any request upstream.
func TestStringArgumentsAtTheirBound(t *testing.T) {
	e := newEnv(t)
	for _, args := range []map[string]any{
		{"flow": strings.Repeat("f", 1024)},
		{"flow": strings.Repeat("é", 1024)},
		{"state": []any{"Late", strings.Repeat("s", 1024)}},
	} {
		e.ok(t, tools.ToolGetFlowRuns, args)
	}
	for name, args := range map[string]map[string]any{
		"flow":  {"flow": strings.Repeat("é", 1025)},
		"state": {"state": []any{"Late", strings.Repeat("s", 1025)}},
		"key":   {"key": strings.Repeat("k", 1025)},
	} {
		tool := tools.ToolGetFlowRuns
		if name == "key" {
			tool = tools.ToolGetArtifacts
		}
		e.fake.ResetLog()
		msg := e.fail(t, tool, args)
		if !strings.Contains(msg, name+" is 1025 characters; at most 1024") {
			t.Errorf("%s of 1025 characters: %s", name, msg)
		}
		if n := len(e.fake.Requests()); n != 0 {
			t.Errorf("%s of 1025 characters: %d requests went upstream", name, n)
		}
	}
}

// TestNamesWithSlashesOrDots: a name Prefect cannot hold, or one that would
// move a URL path (/, .., \), is answered "no … is named …" (or another
// argument error), never a refused request or an unexpected error.
func TestNamesWithSlashesOrDots(t *testing.T) {
	names := []string{"a/b", "..", ".", "../../flows", `x\y`, "etl-pipeline/../x", "etl-pipeline/a/b"}
	calls := 0
	eachStringArgument(t, func(cfg extremesConfig, e *env, tool *mcp.Tool, prop string, base map[string]any) {
		for _, v := range names {
			// Beside the other arguments that succeed, and with only the required ones.
			for _, args := range []map[string]any{maps.Clone(base), argumentsAlone(t, tool, base)} {
				args[prop] = v
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				text, isErr := callText(ctx, t, e, tool.Name, args)
				cancel()
				calls++
				for _, bad := range []string{"Unexpected error", "encoded slash", "dot segments", "prefect: GET", "prefect: POST"} {
					if strings.Contains(text, bad) {
						t.Errorf("%s/%s: %s=%q (with %d other arguments): %.300s", cfg.name, tool.Name, prop, v, len(args)-1, text)
					}
				}
				if (prop == "work_pool_name" || (tool.Name == tools.ToolGetVariables && prop == "name")) && (!isErr || !strings.Contains(text, "is named")) {
					t.Errorf("%s/%s: %s=%q (with %d other arguments): want \"no … is named …\", got %.300s", cfg.name, tool.Name, prop, v, len(args)-1, text)
				}
			}
		}
	})
	if calls < 200 {
		t.Errorf("only %d calls", calls)
	}
}
