package tools_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// activityRequests is what one get_deployment_activity call costs.
const activityRequests = 9

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
	// Two rounds of fixed requests, whatever the page and the runs: the
	// page and the automations; flow names, the runs sample and five
	// "deployments having a run matching" questions.
	base := len(e.fake.Requests())
	if base != activityRequests || e.fake.Count("POST /automations/filter") != 1 || e.fake.Count("POST /deployments/filter") != 6 ||
		e.fake.Count("POST /flow_runs/filter") != 1 || e.fake.Count("POST /flows/filter") != 1 {
		t.Errorf("%d requests, want %d: %v", base, activityRequests, e.fake.Requests())
	}
	if out["counted_since"] != nil {
		t.Errorf("the demo's runs fit one sample: %v", out["counted_since"])
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
	if len(e.fake.Requests()) != activityRequests {
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

// TestGetDeploymentActivityPartialSample: when the page's runs in the
// window outnumber one sample, counts cover the latest runs and say since
// when, and verdicts of deployments whose runs are older come from the
// whole window's facts.
func TestGetDeploymentActivityPartialSample(t *testing.T) {
	e := newEnv(t)
	putInfraRuns(e, 230, "etl-hourly", prefecttest.DemoProcessPool, "default", "COMPLETED", "Completed")
	e.fake.ResetLog()
	out := e.ok(t, "get_deployment_activity", nil)
	if n := len(e.fake.Requests()); n != activityRequests {
		t.Errorf("%d requests, want %d", n, activityRequests)
	}
	since, _ := out["counted_since"].(string)
	notes, _ := json.Marshal(out["notes"])
	if since == "" || since <= ts(-4*time.Hour) || !strings.Contains(string(notes), "cover runs expected after "+since) {
		t.Fatalf("counted_since %q, notes %s", since, notes)
	}
	want := map[string]struct{ verdict, why string }{
		// 200 runs, those at the oldest instant left out.
		"etl-pipeline/etl-hourly": {"healthy", "finished run(s) since " + since + " completed"},
		// Its only run, Cancelled, is older than the counted interval.
		"etl-pipeline/backfill":        {"not_completing", "none of its finished runs in the window completed (none since " + since + ")"},
		"nightly-report/nightly":       {"not_completing", ""},
		"train-model/train-every-15m":  {"stuck", ""},
		"report-builder/weekly-report": {"failing", "gentle-lynx"},
	}
	for _, d := range rows(t, out, "deployments") {
		w := want[d["deployment"].(string)]
		if d["verdict"] != w.verdict || !strings.Contains(d["why"].(string), w.why) {
			t.Errorf("%s: %v (%v), want %s (%s)", d["deployment"], d["verdict"], d["why"], w.verdict, w.why)
		}
		if d["deployment"] == "etl-pipeline/etl-hourly" {
			runs := d["runs"].(map[string]any)
			if total := runs["total"].(float64); total >= 200 || total < 150 {
				t.Errorf("etl-hourly counted %v runs of a 200-run sample", total)
			}
		}
	}
}

// TestGetDeploymentActivityLargeWorkspace checks the answer on the large
// workspace against its data: the same requests as on the demo, counts
// exact for the counted interval, and every verdict true of the window.
func TestGetDeploymentActivityLargeWorkspace(t *testing.T) {
	e := newEnv(t, prefecttest.WithData(prefecttest.Large(now)))
	out := e.ok(t, "get_deployment_activity", nil)
	if n := len(e.fake.Requests()); n != activityRequests {
		t.Errorf("%d requests on the large workspace, want %d", n, activityRequests)
	}
	at := func(v any) time.Time {
		s, _ := v.(string)
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil && s != "" {
			t.Fatalf("time %q: %v", s, err)
		}
		return tm
	}
	since, counted := at(out["since"]), at(out["counted_since"])
	if counted.IsZero() || !counted.After(since) {
		t.Fatalf("the large workspace's runs outnumber one sample: counted_since %v", out["counted_since"])
	}
	type truth struct {
		counts                                     map[string]int
		failed, completed, finished, late, started bool
	}
	// The page's runs in the window and those started in it, read from the
	// fake page by page (reading all 50,000 runs would take seconds).
	var ids []string
	for _, d := range rows(t, out, "deployments") {
		ids = append(ids, d["id"].(string))
	}
	readAll := func(runs map[string]any) []map[string]any {
		runs["deployment_id"] = map[string]any{"any_": ids}
		var all []map[string]any
		for offset := 0; ; offset += 200 {
			body, _ := json.Marshal(map[string]any{"flow_runs": runs, "limit": 200, "offset": offset})
			resp, err := http.Post(e.fake.URL+"/flow_runs/filter", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var page []map[string]any
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < 200 {
				return all
			}
		}
	}
	window := map[string]any{"after_": out["since"], "before_": now.Format(time.RFC3339)}
	facts := map[string]*truth{}
	get := func(r map[string]any) *truth {
		dep, _ := r["deployment_id"].(string)
		if facts[dep] == nil {
			facts[dep] = &truth{counts: map[string]int{}}
		}
		return facts[dep]
	}
	for _, r := range readAll(map[string]any{"start_time": map[string]any{"after_": out["since"]}}) {
		get(r).started = true
	}
	for _, r := range readAll(map[string]any{"expected_start_time": window}) {
		f := get(r)
		typ, _ := r["state_type"].(string)
		name, _ := r["state_name"].(string)
		f.failed = f.failed || typ == "FAILED" || typ == "CRASHED"
		f.completed = f.completed || typ == "COMPLETED"
		f.finished = f.finished || typ == "FAILED" || typ == "CRASHED" || typ == "COMPLETED" || typ == "CANCELLED"
		f.late = f.late || name == "Late"
		if at(r["expected_start_time"]).After(counted) {
			f.counts["total"]++
			f.counts[strings.ToLower(typ)]++
			if name == "Late" {
				f.counts["late"]++
			}
		}
	}
	verdicts := map[string]int{}
	for _, d := range rows(t, out, "deployments") {
		f := facts[d["id"].(string)]
		if f == nil {
			f = &truth{counts: map[string]int{}}
		}
		runs := d["runs"].(map[string]any)
		for _, k := range []string{"total", "completed", "failed", "crashed", "cancelled", "late"} {
			if int(runs[k].(float64)) != f.counts[k] {
				t.Errorf("%s: %s %v, the data has %d after %v", d["deployment"], k, runs[k], f.counts[k], counted)
			}
		}
		v := d["verdict"].(string)
		verdicts[v]++
		var holds bool
		switch v {
		case "failing":
			holds = f.failed
		case "stuck":
			holds = f.late && !f.started
		case "not_completing":
			holds = f.finished && !f.completed
		case "dormant":
			holds = !f.finished && !f.late && !f.started
		case "healthy":
			holds = f.completed || !f.finished
		case "behind_schedule":
			holds = d["expected_runs"] != nil
		case "unknown":
			holds = f.failed && f.completed && runs["total"].(float64) == 0
		}
		if !holds {
			t.Errorf("%s: %s (%s) does not hold for the window: %+v", d["deployment"], v, d["why"], *f)
		}
	}
	t.Logf("verdicts on the large workspace's first page: %v", verdicts)
}
