package tools_test

import (
	"context"
	"encoding/json"
	"reflect"
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

// minimalArgs fills the required properties of a tool's input schema with
// plausible demo values, so the call reaches the handler (a wrong value
// still only makes a tool error).
func minimalArgs(schema any) map[string]any {
	raw, _ := json.Marshal(schema)
	var s jsonschema.Schema
	if json.Unmarshal(raw, &s) != nil {
		return map[string]any{}
	}
	args := map[string]any{}
	for _, name := range s.Required {
		p := s.Properties[name]
		if p == nil {
			continue
		}
		args[name] = sampleValue(name, p)
	}
	if s.Properties["flow_run_id"] != nil {
		args["flow_run_id"] = prefecttest.DemoID("flow_run", "amber-otter")
	}
	return args
}

func sampleValue(name string, p *jsonschema.Schema) any {
	if len(p.Enum) > 0 {
		return p.Enum[0]
	}
	typ := p.Type
	if typ == "" && len(p.Types) > 0 {
		typ = p.Types[0]
	}
	switch typ {
	case "integer", "number":
		if p.Minimum != nil {
			return *p.Minimum
		}
		return 1
	case "boolean":
		return false
	case "array":
		return []any{}
	case "object":
		return map[string]any{}
	}
	switch {
	case strings.Contains(name, "task_run"):
		return prefecttest.DemoID("task_run", "load")
	case strings.Contains(name, "automation"):
		return prefecttest.DemoID("automation", "pause-etl-after-3-failures")
	case strings.HasSuffix(name, "id"):
		return prefecttest.DemoID("flow_run", "amber-otter")
	case name == "query":
		return "retries"
	}
	return "etl-pipeline"
}

// TestEveryToolIsReadOnly calls every registered tool, with no arguments and
// with minimal valid ones, on the demo workspace: no call may end in a
// protocol error (tool errors are fine) and the fake must see no write.
func TestEveryToolIsReadOnly(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	deps, _ := staticDeps(t, httpClient(t, prefect.TLSOptions{}, 10*time.Second), target.Credentials{APIURL: fake.URL}, docsClient(t))

	called := map[string]int{}
	defs := map[string]tools.Definition{}
	for _, def := range tools.All() {
		defs[def.Name] = def
	}
	// KindKnown false offers Cloud-only and self-hosted-only tools together;
	// OAuth mode adds the OAuth-only ones.
	for _, sel := range []tools.Selection{{Docs: true}, {Docs: true, OAuth: true}} {
		e := connect(t, fake, deps, sel)
		list, err := e.session.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range list.Tools {
			for _, args := range []map[string]any{{}, minimalArgs(tool.InputSchema)} {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				res, err := e.session.CallTool(ctx, &mcp.CallToolParams{Name: tool.Name, Arguments: args})
				cancel()
				if err != nil {
					t.Errorf("%s(%v): protocol error: %v", tool.Name, args, err)
					continue
				}
				called[tool.Name]++
				if res.IsError {
					t.Logf("%s(%v): tool error: %.120s", tool.Name, args, res.Content[0].(*mcp.TextContent).Text)
					continue
				}
				decodesAsItsType(t, defs[tool.Name], res)
			}
		}
	}
	for _, def := range tools.All() {
		if called[def.Name] == 0 {
			t.Errorf("%s is registered but was never called", def.Name)
		}
	}
	if len(fake.Requests()) == 0 {
		t.Fatal("no request reached the fake: the tools were not exercised")
	}
	noWrites(t, fake)
	t.Logf("%d tools, %d upstream requests, 0 writes", len(called), len(fake.Requests()))
}

// decodesAsItsType checks that a result's text is exactly its tool's result
// type: it decodes into it with no field left over.
func decodesAsItsType(t *testing.T, def tools.Definition, res *mcp.CallToolResult) {
	t.Helper()
	typ := def.ResultType()
	if typ == nil || typ.Kind() == reflect.Interface {
		return // reported by TestToolResultShapesGolden
	}
	text := res.Content[0].(*mcp.TextContent).Text
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(reflect.New(typ).Interface()); err != nil {
		t.Errorf("%s: the result does not decode into %v: %v: %.200s", def.Name, typ, err, text)
	}
}
