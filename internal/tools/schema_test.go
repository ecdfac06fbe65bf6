package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// allTools lists every tool as a client sees it, whatever its scope.
func allTools(t *testing.T) []*mcp.Tool {
	t.Helper()
	var all []*mcp.Tool
	for _, sel := range []tools.Selection{{Docs: true}, {OAuth: true}} {
		deps := &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: clockNow}
		s := server.New(server.Config{Version: "test", Deps: deps, Selection: sel})
		ct, st := mcp.NewInMemoryTransports()
		ss, err := s.Connect(context.Background(), st, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := mcp.NewClient(&mcp.Implementation{Name: "schema", Version: "1"}, nil)
		cs, err := c.Connect(context.Background(), ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range res.Tools {
			seen := false
			for _, have := range all {
				seen = seen || have.Name == tool.Name
			}
			if !seen {
				all = append(all, tool)
			}
		}
		_ = cs.Close()
		_ = ss.Close()
	}
	return all
}

// TestToolSchemasGolden snapshots each tool's definition (description,
// annotations, input schema). Refresh with UPDATE_GOLDEN=1; a missing
// snapshot fails so CI never passes on an unreviewed schema.
func TestToolSchemasGolden(t *testing.T) {
	g := newGoldenDir(t, "schemas", "schema")
	listed := allTools(t)
	if len(listed) != len(tools.All()) {
		t.Errorf("clients see %d tools, the registry has %d", len(listed), len(tools.All()))
	}
	for _, tool := range listed {
		g.check(tool.Name, tool)
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint || tool.Title == "" || tool.Description == "" {
			t.Errorf("%s: needs a title, a description and readOnlyHint", tool.Name)
		}
	}
	g.noStale()
}

// goldenDir compares values, as indented JSON, with their snapshots in one
// testdata directory (UPDATE_GOLDEN=1 rewrites them). A missing snapshot
// fails, so CI never passes on an unreviewed one, and so does a snapshot
// of a tool that no longer exists.
type goldenDir struct {
	t      *testing.T
	dir    string
	what   string
	update bool
	seen   map[string]bool
}

func newGoldenDir(t *testing.T, dir, what string) *goldenDir {
	return &goldenDir{t: t, dir: filepath.Join("testdata", dir), what: what, update: os.Getenv("UPDATE_GOLDEN") != "", seen: map[string]bool{}}
}

func (g *goldenDir) check(name string, v any) {
	g.t.Helper()
	g.seen[name+".json"] = true
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		g.t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join(g.dir, name+".json")
	if g.update {
		if err := os.MkdirAll(g.dir, 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			g.t.Fatal(err)
		}
		return
	}
	snap, err := os.ReadFile(path)
	if err != nil {
		g.t.Errorf("%s: no %s snapshot (%v); run UPDATE_GOLDEN=1 go test ./internal/tools/ and review the diff", name, g.what, err)
		return
	}
	if !bytes.Equal(snap, got) {
		g.t.Errorf("%s: %s changed; run UPDATE_GOLDEN=1 go test ./internal/tools/ and review the diff\ngot:\n%s", name, g.what, got)
	}
}

func (g *goldenDir) noStale() {
	g.t.Helper()
	if g.update {
		return
	}
	entries, _ := os.ReadDir(g.dir)
	for _, e := range entries {
		if !g.seen[e.Name()] {
			g.t.Errorf("stale %s snapshot %s: the tool no longer exists (or lost its result type); delete it", g.what, e.Name())
		}
	}
}

// TestToolsListBudget bounds what every client pays in context for our
// tools, in each real configuration: a multi-tenant HTTP server (self-hosted
// and Cloud tools), a stdio server on self-hosted or Cloud, and OAuth mode.
func TestToolsListBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		sel  tools.Selection
	}{
		{"multi-tenant", tools.Selection{Docs: true}},
		{"self-hosted", tools.Selection{Docs: true, Kind: target.SelfHosted, KindKnown: true}},
		{"cloud", tools.Selection{Docs: true, Kind: target.Cloud, KindKnown: true}},
		{"cloud-oauth", tools.Selection{Docs: true, OAuth: true}},
	} {
		deps := &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: clockNow}
		s := server.New(server.Config{Version: "test", Deps: deps, Selection: tc.sel})
		ct, st := mcp.NewInMemoryTransports()
		ss, err := s.Connect(context.Background(), st, nil)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "budget", Version: "1"}, nil).Connect(context.Background(), ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("tools/list %-12s %2d tools, %d bytes", tc.name, len(res.Tools), len(b))
		if len(b) > 20<<10 {
			t.Errorf("%s: tools/list is %d bytes, budget 20 KiB", tc.name, len(b))
		}
		_ = cs.Close()
		_ = ss.Close()
	}
}

// TestToolResultShapesGolden snapshots the shape of each tool's result (the
// JSON Schema of its Go result type) beside its input schema, so a change to
// what a tool answers is reviewed like a change to what it accepts. Refresh
// with UPDATE_GOLDEN=1.
func TestToolResultShapesGolden(t *testing.T) {
	g := newGoldenDir(t, "results", "result shape")
	for _, def := range tools.All() {
		typ := def.ResultType()
		if typ == nil || typ.Kind() == reflect.Interface {
			t.Errorf("%s returns %v: give its handler a result type", def.Name, typ)
			continue
		}
		schema, err := jsonschema.ForType(typ, nil)
		if err != nil {
			t.Errorf("%s: result shape of %v: %v", def.Name, typ, err)
			continue
		}
		g.check(def.Name, schema)
	}
	g.noStale()
}
