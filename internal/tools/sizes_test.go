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

// TestDeploymentActivitySizeBudget: get_deployment_activity's default call
// fits in 12 KB on the large workspace, with truncation signalled.
func TestDeploymentActivitySizeBudget(t *testing.T) {
	e := newEnv(t, prefecttest.WithData(prefecttest.Large(now)))
	text, isErr := e.call(t, "get_deployment_activity", nil)
	if isErr {
		t.Fatal(text)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("get_deployment_activity: %d rows in %d bytes", len(rows(t, out, "deployments")), len(text))
	if len(text) > 12<<10 {
		t.Errorf("%d bytes, budget 12 KB", len(text))
	}
	if out["truncated"] != true || out["next_offset"] != 20.0 {
		t.Errorf("the large workspace has more than one page: truncated %v, next_offset %v", out["truncated"], out["next_offset"])
	}
}
