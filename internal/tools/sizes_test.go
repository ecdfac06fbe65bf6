package tools_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// TestFlowRunsSizeBudget: 50 flow runs must fit in 18 KB (the official
// server's answer is 178 KB), with the decision-relevant fields kept.
func TestFlowRunsSizeBudget(t *testing.T) {
	data := prefecttest.Demo(now)
	var template map[string]any
	for _, r := range data.Objects(prefecttest.FlowRuns) {
		if r["name"] == "crimson-falcon" {
			template = r
		}
	}
	if template == nil {
		t.Fatal("demo lacks crimson-falcon")
	}
	for i := range 60 {
		r := maps.Clone(template)
		r["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		r["name"] = fmt.Sprintf("generated-run-%02d", i)
		data.Add(prefecttest.FlowRuns, r)
	}
	e := newEnv(t, prefecttest.WithData(data))
	out := e.ok(t, "get_flow_runs", map[string]any{"limit": 50})
	b, _ := json.Marshal(out)
	runs := rows(t, out, "flow_runs")
	t.Logf("get_flow_runs, %d runs: %d bytes (%d per row)", len(runs), len(b), len(b)/len(runs))
	if len(runs) != 50 || len(b) > 18<<10 {
		t.Fatalf("%d runs in %d bytes; budget 50 runs in 18 KB", len(runs), len(b))
	}
	for _, key := range []string{"id", "name", "flow", "state", "deployment"} {
		if runs[0][key] == nil {
			t.Errorf("rows lack %q: %v", key, runs[0])
		}
	}
}
