package tools_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// benchSession is a full in-process round trip for benchmarks (see newEnv)
// against the demo workspace plus extra flow runs.
func benchSession(b *testing.B, extraRuns int) *mcp.ClientSession {
	b.Helper()
	demo := prefecttest.Demo(now)
	base := demo.Objects(prefecttest.FlowRuns)
	for i := range extraRuns {
		run := maps.Clone(base[i%len(base)])
		run["id"] = prefecttest.DemoID("flow_run", fmt.Sprintf("bench-extra-%d", i))
		run["name"] = fmt.Sprintf("%s-x%d", run["name"], i)
		demo.Add(prefecttest.FlowRuns, run)
	}
	return newEnv(b, prefecttest.WithSpec(spec), prefecttest.WithData(demo), prefecttest.WithClock(func() time.Time { return now })).session
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
