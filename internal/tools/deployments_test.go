package tools_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// putInfraRuns adds n flow runs of a demo deployment in the given state so
// tests can check that request counts do not grow with the number of runs.
func putInfraRuns(e *env, n int, deployment, pool, queue, stateType, stateName string) {
	for i := range n {
		id := prefecttest.DemoID("flow_run", fmt.Sprintf("extra-%s-%s-%d", deployment, stateName, i))
		at := now.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339)
		e.fake.Put(prefecttest.FlowRuns, map[string]any{
			"id": id, "created": at, "updated": at, "name": fmt.Sprintf("extra-%d", i),
			"flow_id": prefecttest.DemoID("flow", "etl-pipeline"), "deployment_id": prefecttest.DemoID("deployment", deployment),
			"work_queue_id": prefecttest.DemoID("work_queue", pool+"/"+queue), "work_queue_name": queue,
			"work_pool_id": prefecttest.DemoID("work_pool", pool), "work_pool_name": pool,
			"state":               map[string]any{"id": prefecttest.DemoID("state", id), "type": stateType, "name": stateName, "timestamp": at, "message": "extra run"},
			"expected_start_time": at, "start_time": at, "end_time": at, "run_count": 1, "tags": []any{},
		})
	}
}

// resultSize returns the JSON size of a tool result.
func resultSize(t *testing.T, out map[string]any) int {
	t.Helper()
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func byName(t *testing.T, list []map[string]any, key, name string) map[string]any {
	t.Helper()
	for _, r := range list {
		if r[key] == name {
			return r
		}
	}
	t.Fatalf("no row with %s=%q in %v", key, name, list)
	return nil
}

func TestGetDeploymentsList(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_deployments", nil)
	size := resultSize(t, out)
	t.Logf("get_deployments list: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 6<<10 {
		t.Errorf("list is %d bytes, budget 6 KB", size)
	}
	deps := rows(t, out, "deployments")
	var names []string
	for _, d := range deps {
		names = append(names, d["name"].(string))
	}
	if want := []string{"backfill", "etl-hourly", "nightly", "train-every-15m", "weekly-report"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	etl := byName(t, deps, "name", "etl-hourly")
	checks := map[string]any{
		"flow": "etl-pipeline", "status": "READY", "work_pool": prefecttest.DemoProcessPool,
		"work_queue": "default", "concurrency": "1/1 slots in use", "id": prefecttest.DemoID("deployment", "etl-hourly"),
	}
	for k, want := range checks {
		if etl[k] != want {
			t.Errorf("etl-hourly %s = %v, want %v", k, etl[k], want)
		}
	}
	schedules := func(name string) string {
		b, _ := json.Marshal(byName(t, deps, "name", name)["schedules"])
		return string(b)
	}
	for name, want := range map[string]string{
		"etl-hourly":      `[{"active":true,"schedule":"every 1h","timezone":"UTC"}]`,
		"nightly":         `[{"active":true,"schedule":"cron \"0 2 * * *\"","timezone":"UTC"}]`,
		"weekly-report":   `[{"active":false,"schedule":"rrule DTSTART:20260105T090000; RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9","timezone":"UTC"}]`,
		"train-every-15m": `[{"active":true,"schedule":"cron \"*/15 * * * *\"","timezone":"UTC"}]`,
		"backfill":        `null`,
	} {
		if got := schedules(name); got != want {
			t.Errorf("%s schedules %s, want %s", name, got, want)
		}
	}
	if w := byName(t, deps, "name", "weekly-report"); w["paused"] != true {
		t.Errorf("weekly-report not shown paused: %v", w)
	}
	if k := byName(t, deps, "name", "train-every-15m"); k["status"] != "NOT_READY" || k["work_pool"] != prefecttest.DemoKubernetesPool {
		t.Errorf("train-every-15m: %v", k)
	}
	if _, ok := byName(t, deps, "name", "backfill")["paused"]; ok {
		t.Errorf("false flags must be left out: %v", byName(t, deps, "name", "backfill"))
	}
	// No N+1: one deployments call and one flows call, whatever the rows.
	if got := e.fake.Count("POST /deployments/filter"); got != 1 {
		t.Errorf("deployments/filter called %d times", got)
	}
	if got := e.fake.Count("POST /flows/filter"); got != 1 {
		t.Errorf("flows/filter called %d times", got)
	}
	if got := len(e.fake.Requests()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	noWrites(t, e.fake)
}

func TestGetDeploymentsParameterNames(t *testing.T) {
	e := newEnv(t)
	id := prefecttest.DemoID("deployment", "with-params")
	e.fake.Put(prefecttest.Deployments, map[string]any{
		"id": id, "name": "with-params", "flow_id": prefecttest.DemoID("flow", "etl-pipeline"), "paused": false,
		"schedules":  []any{map[string]any{"id": prefecttest.DemoID("schedule", "p"), "active": true, "schedule": map[string]any{"interval": 5400.0, "timezone": "Europe/Paris"}}},
		"parameters": map[string]any{"table": "events", "extra": 1},
		"parameter_openapi_schema": map[string]any{"type": "object", "properties": map[string]any{
			"source": map[string]any{"position": 0, "type": "string"}, "table": map[string]any{"position": 1, "type": "string"}, "n": map[string]any{"position": 2, "type": "integer"},
		}, "required": []any{"source"}},
		"concurrency_options":      map[string]any{"collision_strategy": "CANCEL_NEW"},
		"global_concurrency_limit": map[string]any{"id": prefecttest.DemoID("v2_limit", "p"), "name": "deployment:" + id, "limit": 3, "active_slots": 0, "active": false},
		"tags":                     []any{}, "work_pool_name": "gone-pool", "work_queue_name": "default",
	})
	out := e.ok(t, "get_deployments", map[string]any{"filter": map[string]any{"name": map[string]any{"any_": []any{"with-params"}}}})
	d := rows(t, out, "deployments")[0]
	if d["parameters"] != nil || d["slug"] != nil {
		t.Errorf("a list row carries parameters or slug (detail mode's): %v", d)
	}
	if got, _ := json.Marshal(d["schedules"]); string(got) != `[{"active":true,"schedule":"every 1h30m","timezone":"Europe/Paris"}]` {
		t.Errorf("schedules %s", got)
	}
	if d["concurrency"] != "0/3 slots in use (limit inactive), collision strategy CANCEL_NEW" {
		t.Errorf("concurrency %v", d["concurrency"])
	}

	// Detail mode on the same deployment: defaults, schema, missing pool.
	out = e.ok(t, "get_deployments", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []any{id}}}})
	d = rows(t, out, "deployments")[0]
	if got, _ := json.Marshal(d["parameters"]); string(got) != `["source","table","n","extra"]` {
		t.Errorf("parameter names %s", got)
	}
	if got, _ := json.Marshal(d["parameter_defaults"]); string(got) != `{"extra":1,"table":"events"}` {
		t.Errorf("defaults %s", got)
	}
	if s, _ := json.Marshal(d["parameter_schema"]); !strings.Contains(string(s), `"required":["source"]`) {
		t.Errorf("schema %s", s)
	}
	if notes, _ := json.Marshal(d["notes"]); !strings.Contains(string(notes), "work pool gone-pool does not exist") || !strings.Contains(string(notes), "no runs yet") {
		t.Errorf("notes %s", notes)
	}
}

func TestGetDeploymentsDetail(t *testing.T) {
	e := newEnv(t)
	etlID := prefecttest.DemoID("deployment", "etl-hourly")
	args := map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []any{etlID}}}}
	out := e.ok(t, "get_deployments", args)
	t.Logf("get_deployments detail: %d bytes, %d requests", resultSize(t, out), len(e.fake.Requests()))
	d := rows(t, out, "deployments")[0]
	for k, want := range map[string]any{
		"slug": "etl-pipeline/etl-hourly", "entrypoint": "flows.py:etl_pipeline", "path": "/opt/app/flows", "version": "1.4.2",
		"concurrency": "1/1 slots in use",
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %v", k, d[k], want)
		}
	}
	var recent []string
	for _, r := range d["recent_runs"].([]any) {
		m := r.(map[string]any)
		recent = append(recent, m["name"].(string)+" "+m["state"].(string))
	}
	want := []string{"swift-ibis Running", "waiting-newt AwaitingConcurrencySlot (SCHEDULED)", "frozen-yak Crashed", "brisk-heron Completed", "amber-otter Completed"}
	if !reflect.DeepEqual(recent, want) {
		t.Errorf("recent runs %v, want %v", recent, want)
	}
	if next := d["next_run"].(map[string]any); next["name"] != "future-lemur" {
		t.Errorf("next run %v", next)
	}
	if pool := d["work_pool_summary"].(map[string]any); pool["status"] != "READY" || pool["type"] != "process" {
		t.Errorf("pool %v", pool)
	}
	base := len(e.fake.Requests())
	// deployments, flows, two run queries per deployment, one pool query.
	if base != 5 || e.fake.Count("POST /flow_runs/filter") != 2 {
		t.Errorf("%d requests (%d flow_runs/filter), want 5 (2)", base, e.fake.Count("POST /flow_runs/filter"))
	}

	// More runs do not mean more requests; a second deployment adds two.
	putInfraRuns(e, 30, "etl-hourly", prefecttest.DemoProcessPool, "default", "COMPLETED", "Completed")
	e.fake.ResetLog()
	out = e.ok(t, "get_deployments", args)
	if got := len(e.fake.Requests()); got != base {
		t.Errorf("%d requests after adding runs, want %d", got, base)
	}
	if n := len(rows(t, out, "deployments")[0]["recent_runs"].([]any)); n != 10 {
		t.Errorf("%d recent runs, want 10", n)
	}
	e.fake.ResetLog()
	e.ok(t, "get_deployments", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []any{etlID, prefecttest.DemoID("deployment", "nightly")}}}})
	if got := len(e.fake.Requests()); got != base+2 {
		t.Errorf("two deployments: %d requests, want %d", got, base+2)
	}
	noWrites(t, e.fake)
}

func TestGetDeploymentsPagingAndBadInput(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_deployments", map[string]any{"limit": 2})
	if len(rows(t, out, "deployments")) != 2 || out["truncated"] != true || out["next_offset"] != 2.0 {
		t.Errorf("paging: %v", out)
	}
	out = e.ok(t, "get_deployments", map[string]any{"limit": 2, "offset": 4})
	if len(rows(t, out, "deployments")) != 1 || out["truncated"] != nil {
		t.Errorf("last page: %v", out)
	}
	cases := []struct {
		tool string
		args map[string]any
		want []string
	}{
		{"get_deployments", map[string]any{"filter": map[string]any{"nam": map[string]any{}}}, []string{`"nam"`, "flow_or_deployment_name"}},
		{"get_deployments", map[string]any{"limit": 500}, []string{"limit"}},
		{"get_deployments", map[string]any{"offset": -1}, []string{"offset"}},
	}
	for _, tc := range cases {
		before := len(e.fake.Requests())
		msg := e.fail(t, tc.tool, tc.args)
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
