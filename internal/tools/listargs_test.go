package tools_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// rowsWith checks every row has field == want and returns how many rows.
func rowsWith(t *testing.T, rs []map[string]any, field, want string) int {
	t.Helper()
	for _, r := range rs {
		if r[field] != want {
			t.Errorf("row %v: %s = %v, want %s", r["name"], field, r[field], want)
		}
	}
	return len(rs)
}

// The arguments people type narrow get_flow_runs like the Prefect filters
// they stand for, and Prefect's sibling filters are accepted beside filter.
func TestGetFlowRunsShortcuts(t *testing.T) {
	e := newEnv(t)
	etlHourly := prefecttest.DemoID("deployment", "etl-hourly")
	for _, tc := range []struct {
		name  string
		args  map[string]any
		field string // every row has this field = want
		want  string
		n     int // rows expected; -1: at least one
	}{
		{"flow name", map[string]any{"flow": "etl-pipeline"}, "flow", "etl-pipeline", -1},
		{"flows sibling filter", map[string]any{"flows": map[string]any{"name": map[string]any{"any_": []any{"etl-pipeline"}}}}, "flow", "etl-pipeline", -1},
		{"deployment slug", map[string]any{"deployment": "etl-pipeline/etl-hourly"}, "deployment", "etl-hourly", -1},
		{"deployment name", map[string]any{"deployment": "etl-hourly"}, "deployment", "etl-hourly", -1},
		{"deployment id", map[string]any{"deployment": etlHourly}, "deployment", "etl-hourly", -1},
		{"deployments sibling filter", map[string]any{"deployments": map[string]any{"id": map[string]any{"any_": []any{etlHourly}}}}, "deployment", "etl-hourly", -1},
		{"work pool", map[string]any{"work_pool": prefecttest.DemoKubernetesPool}, "work_pool", prefecttest.DemoKubernetesPool, -1},
		{"work_pools sibling filter", map[string]any{"work_pools": map[string]any{"name": map[string]any{"any_": []any{prefecttest.DemoKubernetesPool}}}}, "work_pool", prefecttest.DemoKubernetesPool, -1},
		{"work_pool_queues sibling filter", map[string]any{"work_pool_queues": map[string]any{"name": map[string]any{"any_": []any{"gpu"}}}}, "", "", 0},
		// Late is a state name (type SCHEDULED): the dashboard's late count.
		{"state Late", map[string]any{"state": []any{"Late"}}, "state", "Late (SCHEDULED)", 3},
		{"state late, any case", map[string]any{"state": []any{"late"}}, "state", "Late (SCHEDULED)", 3},
		{"state names and a type", map[string]any{"state": []any{"Late", "AwaitingConcurrencySlot", "PAUSED"}}, "", "", 5},
		{"flow and state", map[string]any{"flow": "train-model", "state": []any{"Late"}}, "flow", "train-model", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := e.ok(t, "get_flow_runs", tc.args)
			rs := rows(t, out, "flow_runs")
			if tc.field != "" {
				rowsWith(t, rs, tc.field, tc.want)
			}
			if (tc.n < 0 && len(rs) == 0) || (tc.n >= 0 && len(rs) != tc.n) {
				t.Errorf("%d rows, want %d", len(rs), tc.n)
			}
		})
	}

	// The time window is on the expected start: since -2h keeps only runs
	// expected in the last two hours, until excludes later ones.
	all := rows(t, e.ok(t, "get_flow_runs", map[string]any{"limit": 200}), "flow_runs")
	recent := rows(t, e.ok(t, "get_flow_runs", map[string]any{"since": "-2h", "limit": 200}), "flow_runs")
	if len(recent) == 0 || len(recent) >= len(all) {
		t.Errorf("since -2h: %d of %d runs", len(recent), len(all))
	}
	var body string
	for _, r := range e.fake.Requests() {
		if r.Route == "POST /flow_runs/filter" {
			body = string(r.Body)
		}
	}
	cut := now.Add(-2 * time.Hour).Format(time.RFC3339)
	if !strings.Contains(body, `"expected_start_time":{"after_":"`+cut+`"}`) {
		t.Errorf("since -2h sent %s", body)
	}
	older := rows(t, e.ok(t, "get_flow_runs", map[string]any{"until": "-2h", "limit": 200}), "flow_runs")
	if len(older)+len(recent) != len(all) {
		t.Errorf("until -2h %d + since -2h %d != %d", len(older), len(recent), len(all))
	}

	// Runs whose task runs failed, through the task_runs sibling filter.
	withFailedTasks := rows(t, e.ok(t, "get_flow_runs", map[string]any{"task_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"FAILED"}}}}}), "flow_runs")
	if len(withFailedTasks) == 0 || len(withFailedTasks) == len(all) {
		t.Errorf("runs with failed tasks: %d of %d", len(withFailedTasks), len(all))
	}
}

func TestGetFlowRunsShortcutErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"flows": map[string]any{"nme": map[string]any{}}}, []string{"invalid flows", "FlowFilter", "name"}},
		{map[string]any{"work_pool_queues": map[string]any{"name": map[string]any{"eq_": "x"}}}, []string{"invalid work_pool_queues", "WorkQueueFilter"}},
		{map[string]any{"task_runs": map[string]any{"state": "FAILED"}}, []string{"invalid task_runs"}},
		{map[string]any{"state": []any{"Late"}, "filter": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"FAILED"}}}}}, []string{"state and flow_runs.state", "give one"}},
		{map[string]any{"flow": "etl", "flows": map[string]any{"name": map[string]any{"like_": "x"}}}, []string{"flow and flows.name"}},
		{map[string]any{"state": []any{""}}, []string{"state"}},
		{map[string]any{"since": "last tuesday"}, []string{"since", "RFC 3339"}},
		{map[string]any{"since": "-1h", "until": "-2h"}, []string{"since", "until"}},
		{map[string]any{"flow": strings.Repeat("x", 5000)}, []string{"flow is 5000 characters"}},
	} {
		before := len(e.fake.Requests())
		msg := e.fail(t, "get_flow_runs", tc.args)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %q, want %q", tc.args, msg, w)
			}
		}
		if len(msg) > 2000 {
			t.Errorf("%v: error of %d bytes", tc.args, len(msg))
		}
		if n := len(e.fake.Requests()) - before; n != 0 {
			t.Errorf("%v: %d requests reached Prefect", tc.args, n)
		}
	}
	if msg := e.fail(t, "get_flow_runs", map[string]any{"deployment": "no-flow/no-deployment"}); !strings.Contains(msg, "no deployment") {
		t.Errorf("unknown slug: %q", msg)
	}
}

func TestGetTaskRunsShortcuts(t *testing.T) {
	e := newEnv(t)
	all := taskRunRows(t, e.ok(t, "get_task_runs", map[string]any{"limit": 200}))
	failed := taskRunRows(t, e.ok(t, "get_task_runs", map[string]any{"state": []any{"Failed"}, "limit": 200}))
	if len(failed) == 0 || len(failed) == len(all) {
		t.Fatalf("failed task runs: %d of %d", len(failed), len(all))
	}
	for _, r := range failed {
		if !strings.HasPrefix(r["state"].(string), "Failed") {
			t.Errorf("%v: state %v", r["name"], r["state"])
		}
	}
	// flow_run by name, as a model would type it: the rows' flow runs
	// come with names and ids.
	name, _ := failed[0]["flow_run"].(string)
	run, _ := failed[0]["flow_run_id"].(string)
	byName := taskRunRows(t, e.ok(t, "get_task_runs", map[string]any{"flow_run": name}))
	if len(byName) == 0 || byName[0]["flow_run_id"] != run || name == "" {
		t.Errorf("flow_run %s: %v", name, byName)
	}
	// Flow and deployment shortcuts and the flow_runs sibling filter.
	for _, args := range []map[string]any{
		{"flow": "etl-pipeline"},
		{"deployment": "etl-pipeline/etl-hourly"},
		{"flow_runs": map[string]any{"deployment_id": map[string]any{"any_": []any{prefecttest.DemoID("deployment", "etl-hourly")}}}},
	} {
		rs := taskRunRows(t, e.ok(t, "get_task_runs", args))
		if len(rs) == 0 || len(rs) == len(all) {
			t.Errorf("%v: %d of %d task runs", args, len(rs), len(all))
		}
	}
	if msg := e.fail(t, "get_task_runs", map[string]any{"flow_runs": map[string]any{"bogus": 1}}); !strings.Contains(msg, "invalid flow_runs") {
		t.Errorf("bad sibling: %q", msg)
	}
}

func TestGetDeploymentsShortcuts(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args  map[string]any
		field string
		want  string
		n     int
	}{
		{map[string]any{"flow": "etl-pipeline"}, "flow", "etl-pipeline", 2},
		{map[string]any{"flows": map[string]any{"name": map[string]any{"any_": []any{"etl-pipeline"}}}}, "flow", "etl-pipeline", 2},
		{map[string]any{"work_pool": prefecttest.DemoKubernetesPool}, "work_pool", prefecttest.DemoKubernetesPool, 1},
		{map[string]any{"work_pools": map[string]any{"name": map[string]any{"any_": []any{prefecttest.DemoKubernetesPool}}}}, "work_pool", prefecttest.DemoKubernetesPool, 1},
		// Deployments with a Late run, through the flow_runs sibling filter.
		{map[string]any{"flow_runs": map[string]any{"state": map[string]any{"name": map[string]any{"any_": []any{"Late"}}}}}, "name", "train-every-15m", 1},
	} {
		rs := rows(t, e.ok(t, "get_deployments", tc.args), "deployments")
		if len(rs) != tc.n {
			t.Errorf("%v: %d deployments, want %d", tc.args, len(rs), tc.n)
		}
		rowsWith(t, rs, tc.field, tc.want)
	}
	if msg := e.fail(t, "get_deployments", map[string]any{"work_pool_queues": map[string]any{"nope": 1}}); !strings.Contains(msg, "invalid work_pool_queues") {
		t.Errorf("bad sibling: %q", msg)
	}
}
