package tools_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// benchSpec is loaded once for the benchmarks in this file.
var benchSpec = sync.OnceValues(openapi.Load)

// benchSession is a full in-process round trip for benchmarks: go-sdk
// client -> in-memory transport -> our server -> loopback HTTP -> fake
// Prefect seeded with the demo workspace plus extra flow runs.
func benchSession(b *testing.B, extraRuns int) *mcp.ClientSession {
	b.Helper()
	spec, err := benchSpec()
	if err != nil {
		b.Fatal(err)
	}
	clock := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	demo := prefecttest.Demo(clock)
	fake := prefecttest.New(prefecttest.WithSpec(spec), prefecttest.WithData(demo), prefecttest.WithClock(func() time.Time { return clock }))
	b.Cleanup(fake.Close)
	base := demo.Objects(prefecttest.FlowRuns)
	for i := range extraRuns {
		run := maps.Clone(base[i%len(base)])
		run["id"] = prefecttest.DemoID("flow_run", fmt.Sprintf("bench-extra-%d", i))
		run["name"] = fmt.Sprintf("%s-x%d", run["name"], i)
		fake.Put(prefecttest.FlowRuns, run)
	}
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	tgt, err := target.Builder{HTTPClient: hc, UserAgent: "prefect-mcp/bench"}.Build(target.Credentials{APIURL: fake.URL}, "")
	if err != nil {
		b.Fatal(err)
	}
	deps := &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: func() time.Time { return clock }}
	s := server.New(server.Config{Version: "bench", Deps: deps, Selection: tools.Selection{Kind: tgt.Kind, KindKnown: true}})
	ct, st := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cs.Close() })
	return cs
}

// BenchmarkToolCall measures whole tool calls in process (decode, validate,
// upstream requests to the fake over loopback, shaping, encoding). The fake's
// own work is included; compare sub-benchmarks and allocations over time
// rather than absolute times.
func BenchmarkToolCall(b *testing.B) {
	cases := []struct {
		name string
		tool string
		args map[string]any
	}{
		{"get_flow_runs_50", "get_flow_runs", map[string]any{"limit": 50}},
		{"get_flow_runs_failed_filter", "get_flow_runs", map[string]any{"limit": 50, "filter": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"FAILED", "CRASHED"}}}}}},
		{"get_dashboard", "get_dashboard", nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cs := benchSession(b, 200)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
				if err != nil {
					b.Fatal(err)
				}
				if res.IsError {
					b.Fatalf("%s: tool error: %v", c.tool, res.Content)
				}
			}
		})
	}
}
