package tools_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// taskRunObj builds a task run as Prefect 3.8 serves it (see
// task_runs_filter.json in the reference samples).
func taskRunObj(id, flowRunID, name, key, stateType, stateName, msg string, start time.Time, seconds float64, inputs map[string]any) map[string]any {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
	end := start.Add(time.Duration(seconds * float64(time.Second)))
	state := map[string]any{
		"id": id + "-s", "type": stateType, "name": stateName, "timestamp": ts(end), "message": msg, "data": nil,
		"state_details": map[string]any{"flow_run_id": flowRunID, "task_run_id": id, "cache_key": nil, "cache_expiration": nil},
	}
	if inputs == nil {
		inputs = map[string]any{}
	}
	return map[string]any{
		"id": id, "created": ts(start.Add(-time.Second)), "updated": ts(end), "name": name, "flow_run_id": flowRunID,
		"task_key": key, "dynamic_key": "0", "cache_key": nil, "cache_expiration": nil, "task_version": nil,
		"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0, "retry_delay": 0, "retry_jitter_factor": nil},
		"tags":             []any{}, "labels": map[string]any{}, "state_id": id + "-s", "task_inputs": inputs,
		"state_type": stateType, "state_name": stateName, "state": state, "run_count": 1, "flow_run_run_count": 1,
		"expected_start_time": ts(start.Add(-time.Second)), "next_scheduled_start_time": nil,
		"start_time": ts(start), "end_time": ts(end), "total_run_time": seconds, "estimated_run_time": seconds,
		"estimated_start_time_delta": 0.01,
	}
}

func TestGetTaskRunsOfAFlowRun(t *testing.T) {
	e := newEnv(t)
	lynx := prefecttest.DemoID("flow_run", "gentle-lynx")
	out := e.ok(t, "get_task_runs", map[string]any{"filter": map[string]any{"flow_run_id": map[string]any{"any_": []string{lynx}}}})
	if g := rows(t, out, "flow_runs"); len(g) != 1 || g[0]["id"] != lynx || g[0]["name"] != "gentle-lynx" || out["count"] != 4.0 || out["truncated"] != nil {
		t.Fatalf("header: %v", out)
	}
	var got []string
	for _, r := range taskRunRows(t, out) {
		got = append(got, fmt.Sprint(r["name"], " ", r["state"]))
		if r["name"] == "render-chart-0" {
			if r["message"] != "Task run encountered an exception KeyError: 'region'" || r["task_key"] != nil ||
				r["start"] != ts(-79*time.Minute-48*time.Second) || r["duration"] != "8s" || r["id"] != prefecttest.DemoID("task_run", "gentle-lynx/render-chart") {
				t.Errorf("failing task row: %v", r)
			}
		}
	}
	// Task keys that only repeat the run's task name and a code hash are
	// left out.
	if out["task_keys"] != nil {
		t.Errorf("task keys: %v", out["task_keys"])
	}
	// Newest first.
	if want := []string{"publish-0 Completed", "render-chart-0 Failed", "fetch-costs-0 Completed", "fetch-sales-0 Completed"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	// A Pending task held by a tag limit shows its expected start and
	// tags; a running one holds its slots (get_concurrency_limits lists it).
	out = e.ok(t, "get_task_runs", map[string]any{"filter": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"PENDING", "RUNNING"}}}}})
	r := taskRunRows(t, out)
	if len(r) != 2 || r[0]["name"] != "load-archive-0" || r[0]["state"] != "Pending" || r[0]["expected_start"] != ts(-80*time.Second) || r[0]["start"] != nil ||
		fmt.Sprint(r[0]["tags"]) != "[database]" || r[0]["flow_run"] != "swift-ibis" {
		t.Errorf("pending task: %v", r)
	}
	if r[1]["state"] != "Running" || r[1]["tags"] != nil {
		t.Errorf("running task: %v", r[1])
	}
	// Rows of several flow runs: each flow run's name and id once, over
	// its task runs.
	out = e.ok(t, "get_task_runs", map[string]any{"filter": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"FAILED"}}}}})
	failed := taskRunRows(t, out)
	if g := rows(t, out, "flow_runs"); len(g) != 3 {
		t.Errorf("groups: %v", g)
	}
	var which []string
	for _, r := range failed {
		if r["flow_run_id"] != prefecttest.DemoID("flow_run", r["flow_run"].(string)) {
			t.Errorf("row's flow run: %v", r)
		}
		which = append(which, fmt.Sprint(r["flow_run"], "/", r["name"]))
		if r["name"] == "child-flow-0" && r["subflow_run_id"] != prefecttest.DemoID("flow_run", "tiny-crab") {
			t.Errorf("subflow tracking task: %v", r)
		}
	}
	if fmt.Sprint(which) != "[proud-walrus/child-flow-0 gentle-lynx/render-chart-0 crimson-falcon/validate-0]" {
		t.Errorf("failed tasks: %v", which)
	}
	noWrites(t, e.fake)
}

func TestGetTaskRunsUpstreamRetriesAndCache(t *testing.T) {
	e := newEnv(t)
	fr := prefecttest.DemoID("flow_run", "amber-otter")
	start := now.Add(-3 * time.Hour)
	up1, up2 := prefecttest.DemoID("task_run", "t/extract"), prefecttest.DemoID("task_run", "t/clean")
	tr := taskRunObj(prefecttest.DemoID("task_run", "t/load"), fr, "load-b44", "load-769aa01c", "COMPLETED", "Cached", "", start, 0.5, map[string]any{
		"rows":   []any{map[string]any{"input_type": "task_run", "id": up1}, map[string]any{"input_type": "task_run", "id": up2}},
		"table":  []any{map[string]any{"input_type": "parameter", "name": "table"}},
		"again":  []any{map[string]any{"input_type": "task_run", "id": up1}},
		"config": []any{},
	})
	tr["run_count"] = 3
	tr["empirical_policy"].(map[string]any)["retries"] = 4
	tr["cache_key"] = "load-rows-abc"
	tr["cache_expiration"] = "2026-11-27T12:00:00.000000Z"
	// total_run_time excludes the retry waits: end is not start + duration.
	tr["end_time"] = start.Add(30 * time.Second).Format(time.RFC3339Nano)
	e.fake.Put(prefecttest.TaskRuns, tr)
	out := e.ok(t, "get_task_runs", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []string{tr["id"].(string)}}}})
	r := taskRunRows(t, out)[0]
	if fmt.Sprint(r["upstream"]) != fmt.Sprint([]string{up1, up2}) {
		t.Errorf("upstream %v: want the distinct task runs fed into the inputs, not parameters", r["upstream"])
	}
	if r["state"] != "Cached (COMPLETED)" || r["run_count"] != 3.0 || r["retries"] != "2 of 4 retries used" ||
		r["cache_key"] != "load-rows-abc" || r["cache_expiration"] != "2026-11-27T12:00:00Z" ||
		r["end"] != start.Add(30*time.Second).Format(time.RFC3339) || r["duration"] != "500ms" {
		t.Errorf("row: %v", r)
	}
	// The description tells the model what task_inputs are.
	tools, err := e.session.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Name == "get_task_runs" && (!strings.Contains(tool.Description, "not argument values") || !strings.Contains(tool.Description, "upstream")) {
			t.Errorf("description does not explain task_inputs: %s", tool.Description)
		}
	}
}

// putTaskRuns adds n task runs to a flow run, alternating extract and
// transform tasks; with chain, each transform depends on the extract before.
func putTaskRuns(e *env, flowRunID, tag string, n int, chain bool, start time.Time) {
	var prev string
	for i := range n {
		id := prefecttest.DemoID("task_run", fmt.Sprintf("%s/%d", tag, i))
		var inputs map[string]any
		if chain && i%2 == 1 {
			inputs = map[string]any{"rows": []any{map[string]any{"input_type": "task_run", "id": prev}}, "factor": []any{}}
		}
		name := []string{"extract", "transform"}[i%2]
		tr := taskRunObj(id, flowRunID, fmt.Sprintf("%s-%03x", name, i*37), name+"-9c2e1f4b", "COMPLETED", "Completed", "", start.Add(time.Duration(i)*time.Second), 0.73, inputs)
		if i == n-8 {
			st := tr["state"].(map[string]any)
			tr["state_type"], tr["state_name"], st["type"], st["name"] = "FAILED", "Failed", "FAILED", "Failed"
			st["message"] = "Task run encountered an exception ValueError: Row value above threshold 10: max=14"
		}
		e.fake.Put(prefecttest.TaskRuns, tr)
		prev = id
	}
}

func TestGetTaskRunsSizeAndRequests(t *testing.T) {
	e := newEnv(t)
	// Runs without task runs of their own: one with 60 independent tasks,
	// the shape of the demo's, one with 60 where half have an upstream.
	plain, chained := prefecttest.DemoID("flow_run", "brisk-heron"), prefecttest.DemoID("flow_run", "patient-badger")
	putTaskRuns(e, plain, "plain", 60, false, now.Add(-time.Hour-5*time.Minute))
	putTaskRuns(e, chained, "chained", 60, true, now.Add(-70*time.Minute))
	for _, tc := range []struct {
		flowRun string
		bound   int
	}{{plain, 8 << 10}, {chained, 8 << 10}} {
		filter := map[string]any{"flow_run_id": map[string]any{"any_": []string{tc.flowRun}}}
		counts := map[int][2]int{}
		for _, limit := range []int{5, 50} {
			e.fake.ResetLog()
			text, isErr := e.call(t, "get_task_runs", map[string]any{"filter": filter, "limit": limit})
			if isErr {
				t.Fatal(text)
			}
			counts[limit] = [2]int{e.fake.Count("POST /task_runs/filter"), e.fake.Count("POST /flow_runs/filter")}
			var out map[string]any
			if err := json.Unmarshal([]byte(text), &out); err != nil {
				t.Fatal(err)
			}
			if out["count"] != float64(limit) || out["truncated"] != true || out["next_offset"] != float64(limit) {
				t.Errorf("limit %d: paging %v %v %v", limit, out["count"], out["truncated"], out["next_offset"])
			}
			t.Logf("get_task_runs, %d task runs of %s: %d bytes", limit, tc.flowRun, len(text))
			if limit == 50 && len(text) > tc.bound {
				t.Errorf("50 task runs of %s take %d bytes, over %d", tc.flowRun, len(text), tc.bound)
			}
		}
		if counts[5] != [2]int{1, 1} || counts[50] != [2]int{1, 1} {
			t.Errorf("requests (task_runs, flow_runs) per call: %v; want 1 each whatever the rows", counts)
		}
	}
	// Rows of two flow runs: each flow run said once, over its rows.
	text, _ := e.call(t, "get_task_runs", map[string]any{"limit": 50, "filter": map[string]any{"flow_run_id": map[string]any{"any_": []string{plain, chained}}}, "offset": 35})
	t.Logf("get_task_runs, 50 task runs of two flow runs: %d bytes", len(text))
	if len(text) > 8<<10 {
		t.Errorf("50 task runs of two flow runs take %d bytes, over 8 KB", len(text))
	}
	noWrites(t, e.fake)
}

func TestGetTaskRunsBadInput(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"filter": map[string]any{"flow_run": map[string]any{}}}, []string{`"flow_run"`, "flow_run_id", "state"}},
		{map[string]any{"filter": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"BROKEN"}}}}}, []string{"BROKEN", "COMPLETED"}},
		{map[string]any{"limit": 201}, []string{"limit"}},
		{map[string]any{"offset": -1}, []string{"offset"}},
	}
	for _, tc := range cases {
		before := len(e.fake.Requests())
		msg := e.fail(t, "get_task_runs", tc.args)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: error %q does not mention %q", tc.args, msg, w)
			}
		}
		if len(e.fake.Requests()) != before {
			t.Errorf("%v: bad input reached Prefect", tc.args)
		}
	}
}

// taskRunRows flattens get_task_runs' flow-run groups into rows that name
// their group's flow run (flow_run, flow_run_id), checking that rows do
// not repeat it themselves.
func taskRunRows(t *testing.T, out map[string]any) []map[string]any {
	t.Helper()
	var all []map[string]any
	for _, g := range rows(t, out, "flow_runs") {
		for _, r := range rows(t, g, "task_runs") {
			if r["flow_run"] != nil || r["flow_run_id"] != nil {
				t.Errorf("row repeats its group's flow run: %v", r)
			}
			r["flow_run"], r["flow_run_id"] = g["name"], g["id"]
			all = append(all, r)
		}
	}
	return all
}
