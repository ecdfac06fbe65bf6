package tools_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func TestGetDeploymentActivity(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_deployment_activity", nil)
	t.Logf("get_deployment_activity: %d bytes, %d requests", resultSize(t, out), len(e.fake.Requests()))
	if out["window_days"] != 30.0 || out["since"] != ts(-30*24*time.Hour) {
		t.Errorf("window %v since %v", out["window_days"], out["since"])
	}
	deps := rows(t, out, "deployments")
	cases := []struct {
		slug, verdict, runs, lastRun string
		automations                  string
	}{
		// Cancelled is no success.
		{"etl-pipeline/backfill", "not_completing", `{"cancelled":1,"completed":0,"crashed":0,"failed":0,"late":0,"total":1}`, "stuck-gecko Cancelled", `["backfill-on-sync-failure"]`},
		// Hourly for the 20 days it exists: 480 runs expected, 5 exist.
		{"etl-pipeline/etl-hourly", "behind_schedule", `{"cancelled":0,"completed":2,"crashed":1,"failed":0,"late":0,"total":5}`, "swift-ibis Running", `null`},
		// Daily, one cancelled run and no completed one: not healthy.
		{"nightly-report/nightly", "behind_schedule", `{"cancelled":1,"completed":0,"crashed":0,"failed":0,"late":0,"total":2}`, "quiet-mole Cancelled", `null`},
		{"train-model/train-every-15m", "stuck", `{"cancelled":0,"completed":0,"crashed":0,"failed":0,"late":3,"total":3}`, "", `null`},
		{"report-builder/weekly-report", "failing", `{"cancelled":0,"completed":0,"crashed":0,"failed":1,"late":0,"total":1}`, "gentle-lynx Failed", `null`},
	}
	if len(deps) != len(cases) {
		t.Fatalf("%d rows", len(deps))
	}
	for i, tc := range cases {
		d := deps[i]
		if d["deployment"] != tc.slug || d["verdict"] != tc.verdict {
			t.Errorf("row %d: %v %v, want %s %s", i, d["deployment"], d["verdict"], tc.slug, tc.verdict)
		}
		if runs, _ := json.Marshal(d["runs"]); string(runs) != tc.runs {
			t.Errorf("%s runs %s, want %s", tc.slug, runs, tc.runs)
		}
		last := ""
		if lr, ok := d["last_run"].(map[string]any); ok {
			last = lr["name"].(string) + " " + lr["state"].(string)
		}
		if last != tc.lastRun {
			t.Errorf("%s last run %q, want %q", tc.slug, last, tc.lastRun)
		}
		if a, _ := json.Marshal(d["run_by_automations"]); string(a) != tc.automations {
			t.Errorf("%s automations %s", tc.slug, a)
		}
	}
	if deps[1]["last_completed"] != ts(-time.Hour) || deps[1]["scheduled"] != true {
		t.Errorf("etl-hourly %v", deps[1])
	}
	if deps[4]["paused"] != true || deps[4]["expected_runs"] != nil {
		t.Errorf("weekly-report not paused or expecting runs: %v", deps[4])
	}
	if deps[2]["expected_runs"] != 20.0 || deps[2]["why"] != "its schedule expects 20 run(s) in the window, 2 exist" {
		t.Errorf("nightly %v", deps[2])
	}
	// 3 fixed requests + 3 per deployment (run history, last run, last
	// completed run), whatever the number of runs.
	base := len(e.fake.Requests())
	if base != 3+3*5 || e.fake.Count("POST /automations/filter") != 1 || e.fake.Count("POST /flow_runs/history") != 5 || e.fake.Count("POST /flow_runs/count") != 0 {
		t.Errorf("%d requests, want %d", base, 3+3*5)
	}
	putInfraRuns(e, 30, "etl-hourly", prefecttest.DemoProcessPool, "default", "FAILED", "Failed")
	e.fake.ResetLog()
	out = e.ok(t, "get_deployment_activity", nil)
	if got := len(e.fake.Requests()); got != base {
		t.Errorf("%d requests after adding runs, want %d", got, base)
	}
	etl := rows(t, out, "deployments")[1]
	if etl["verdict"] != "failing" || etl["runs"].(map[string]any)["failed"] != 30.0 {
		t.Errorf("etl-hourly with 30 new failures: %v", etl)
	}
	noWrites(t, e.fake)
}

func TestGetDeploymentActivityWindowAndPaging(t *testing.T) {
	e := newEnv(t)
	// A one-day window still sees today's runs; paging by deployment.
	out := e.ok(t, "get_deployment_activity", map[string]any{"window_days": 1, "limit": 2})
	deps := rows(t, out, "deployments")
	if len(deps) != 2 || out["truncated"] != true || out["next_offset"] != 2.0 || out["since"] != ts(-24*time.Hour) {
		t.Errorf("page: %v", out)
	}
	if len(e.fake.Requests()) != 3+3*2 {
		t.Errorf("%d requests for 2 deployments", len(e.fake.Requests()))
	}
	// A deployment that never ran is dormant.
	e.fake.Put(prefecttest.Deployments, map[string]any{
		"id": prefecttest.DemoID("deployment", "aaa-idle"), "name": "aaa-idle", "flow_id": prefecttest.DemoID("flow", "etl-pipeline"),
		"paused": false, "schedules": []any{}, "tags": []any{},
	})
	out = e.ok(t, "get_deployment_activity", map[string]any{"limit": 1})
	if d := rows(t, out, "deployments")[0]; d["deployment"] != "etl-pipeline/aaa-idle" || d["verdict"] != "dormant" {
		t.Errorf("idle deployment %v", d)
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"window_days": 91}, "window_days"},
		{map[string]any{"limit": 101}, "limit"},
		{map[string]any{"offset": -3}, "offset"},
	} {
		before := len(e.fake.Requests())
		if msg := e.fail(t, "get_deployment_activity", tc.args); !strings.Contains(msg, tc.want) {
			t.Errorf("%v: %s", tc.args, msg)
		}
		if len(e.fake.Requests()) != before {
			t.Errorf("%v reached Prefect", tc.args)
		}
	}
}

func TestGetDeploymentActivityDegradedFields(t *testing.T) {
	e := newEnv(t)
	e.fake.AddFault(prefecttest.Fault{Route: "POST /automations/filter", Status: 403, Body: `{"detail":"Forbidden"}`})
	out := e.ok(t, "get_deployment_activity", map[string]any{"limit": 1})
	notes, _ := json.Marshal(out["notes"])
	if !strings.Contains(string(notes), "automations unavailable") || !strings.Contains(string(notes), "403") {
		t.Errorf("notes %s", notes)
	}
	d := rows(t, out, "deployments")[0]
	if _, ok := d["run_by_automations"]; ok || d["verdict"] != "not_completing" || d["last_run"] == nil {
		t.Errorf("other fields must still answer: %v", d)
	}
}
