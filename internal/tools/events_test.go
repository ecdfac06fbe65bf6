package tools_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

const bulkDeployment = "bulk-loader"

// putFlowRunEvents adds the state-change events of runs flow runs of a
// deployment, as Prefect emits them (see events_filter.json in the reference
// samples): 4 events per run, one run every 2 minutes before end.
func putFlowRunEvents(e *env, runs int, end time.Time) {
	depID := prefecttest.DemoID("deployment", bulkDeployment)
	related := []any{
		map[string]any{"prefect.resource.id": "prefect.flow." + prefecttest.DemoID("flow", "etl-pipeline"), "prefect.resource.role": "flow", "prefect.resource.name": "etl-pipeline"},
		map[string]any{"prefect.resource.id": "prefect.deployment." + depID, "prefect.resource.role": "deployment", "prefect.resource.name": bulkDeployment},
		map[string]any{"prefect.resource.id": "prefect.work-queue." + prefecttest.DemoID("work_queue", "bulk"), "prefect.resource.role": "work-queue", "prefect.resource.name": "default"},
		map[string]any{"prefect.resource.id": "prefect.work-pool." + prefecttest.DemoID("work_pool", prefecttest.DemoProcessPool), "prefect.resource.role": "work-pool", "prefect.resource.name": prefecttest.DemoProcessPool, "prefect.work-pool.type": "process"},
		map[string]any{"prefect.resource.id": "prefect.tag.auto-scheduled", "prefect.resource.role": "tag"},
		map[string]any{"prefect.resource.id": "prefect.tag.etl", "prefect.resource.role": "tag"},
	}
	states := [][3]string{{"SCHEDULED", "Scheduled", "Flow run scheduled"}, {"PENDING", "Pending", ""}, {"RUNNING", "Running", ""}, {"COMPLETED", "Completed", ""}}
	for r := range runs {
		name := fmt.Sprintf("bulk-run-%02d", r)
		runID := prefecttest.DemoID("flow_run", name)
		start := end.Add(-time.Duration(2*r+1) * time.Minute)
		var prev any
		for i, st := range states {
			at := start.Add(time.Duration(i*10) * time.Second).Format("2006-01-02T15:04:05.000000Z")
			id := prefecttest.DemoID("event", fmt.Sprintf("%s/%d", name, i))
			payload := map[string]any{"validated_state": map[string]any{"type": st[0], "name": st[1]}}
			if i > 0 {
				payload["initial_state"] = map[string]any{"type": states[i-1][0], "name": states[i-1][1]}
				payload["intended"] = map[string]any{"from": states[i-1][0], "to": st[0]}
			}
			e.fake.Put(prefecttest.Events, map[string]any{
				"occurred": at, "event": "prefect.flow-run." + st[1],
				"resource": map[string]any{
					"prefect.resource.id": "prefect.flow-run." + runID, "prefect.resource.name": name,
					"prefect.run-count": "1", "prefect.state-message": st[2], "prefect.state-name": st[1],
					"prefect.state-timestamp": at, "prefect.state-type": st[0],
				},
				"related": related, "payload": payload, "id": id, "follows": prev, "received": at,
			})
			prev = id
		}
	}
}

func TestReadEventsDefaultWindow(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "read_events", nil)
	w := out["window"].(map[string]any)
	if w["since"] != ts(-time.Hour) || w["until"] != ts(0) || w["defaulted"] != true {
		t.Errorf("window %v: want the last hour, marked defaulted", w)
	}
	events := rows(t, out, "events")
	if out["total"] != 28.0 || eventCount(events) != 28 || out["truncated"] != nil {
		t.Errorf("total %v, %d events, truncated %v", out["total"], eventCount(events), out["truncated"])
	}
	byID := map[string]map[string]any{}
	for i, ev := range events {
		if id, ok := ev["id"].(string); ok {
			byID[id] = ev
		}
		if i > 0 && ev["occurred"].(string) > events[i-1]["occurred"].(string) {
			t.Errorf("not newest first at %d", i)
		}
	}
	crash := byID[prefecttest.DemoID("event", "frozen-yak/2/Crashed")]
	if crash["event"] != "prefect.flow-run.Crashed" || crash["resource"] != "frozen-yak" || crash["message"] != prefecttest.DemoCrashMessage ||
		crash["state"] != nil || crash["payload"] != nil || crash["occurred"] != ts(-30*time.Minute) {
		t.Errorf("crash event row: %v", crash)
	}
	late := byID[prefecttest.DemoID("event", "idle-tapir/1/Late")]
	if late["state"] != "Late (SCHEDULED)" || late["resource"] != "idle-tapir" {
		t.Errorf("late event row: %v", late)
	}
	res := out["resources"].(map[string]any)
	yak := res["frozen-yak"].(map[string]any)
	if yak["id"] != "prefect.flow-run."+prefecttest.DemoID("flow_run", "frozen-yak") || yak["deployment"] != "etl-pipeline/etl-hourly" ||
		yak["flow"] != nil || yak["work_pool"] != nil {
		t.Errorf("frozen-yak resource: %v", yak)
	}
	if e.fake.Count("POST /events/filter") != 1 || e.fake.Count("GET /events/filter/next") != 0 {
		t.Errorf("requests: %v", e.fake.Requests())
	}
	noWrites(t, e.fake)
}

func TestReadEventsFilters(t *testing.T) {
	e := newEnv(t)
	// The automation whose action failed: the reason is kept whole.
	out := e.ok(t, "read_events", map[string]any{"event_type_prefix": "prefect.automation.action.failed", "occurred_after": "-2h"})
	ev := rows(t, out, "events")
	if len(ev) != 1 || out["window"].(map[string]any)["defaulted"] != nil {
		t.Fatalf("automation events: %v", out)
	}
	p := ev[0]["payload"].(map[string]any)
	if p["validation_error"] != "Error creating flow run: Validation failed for field 'batch_size'. Failure reason: '500' is not of type 'integer'" ||
		p["status_code"] != 409.0 || p["action_type"] != "run-deployment" {
		t.Errorf("payload %v", p)
	}
	if b, _ := json.Marshal(p); len(b) > 300 {
		t.Errorf("payload of %d bytes", len(b))
	}
	if rel := fmt.Sprint(ev[0]["related"]); !strings.Contains(rel, "target: prefect.deployment."+prefecttest.DemoID("deployment", "backfill")) ||
		!strings.Contains(rel, "triggering-event: prefect.event."+prefecttest.DemoID("event", "frozen-yak/2/Crashed")) {
		t.Errorf("related %s", rel)
	}
	if ev[0]["resource"] != "backfill-on-sync-failure" {
		t.Errorf("row %v", ev[0])
	}

	// One run's events, by resource id; its deployment's runs, by related id.
	yak := "prefect.flow-run." + prefecttest.DemoID("flow_run", "frozen-yak")
	out = e.ok(t, "read_events", map[string]any{"resource_id": yak, "occurred_after": now.Format(time.DateOnly)})
	var names []string
	for _, r := range rows(t, out, "events") {
		names = append(names, r["event"].(string))
	}
	if fmt.Sprint(names) != "[prefect.flow-run.Crashed prefect.flow-run.Running prefect.flow-run.Pending]" {
		t.Errorf("frozen-yak events %v", names)
	}
	out = e.ok(t, "read_events", map[string]any{
		"related_resource_id": "prefect.deployment." + prefecttest.DemoID("deployment", "train-every-15m"),
		"event_type_prefix":   "prefect.flow-run.Late", "occurred_after": "-1d",
	})
	if out["count"] != 3.0 {
		t.Errorf("late runs of train-every-15m: %v", out)
	}
	// A prefix of resource ids: the worker's heartbeats.
	out = e.ok(t, "read_events", map[string]any{"resource_id": "prefect.worker.*"})
	if out["count"] != 3.0 || rows(t, out, "events")[0]["event"] != "prefect.worker.heartbeat" {
		t.Errorf("worker events: %v", out)
	}
	// An empty default window says how to widen it.
	out = e.ok(t, "read_events", map[string]any{"event_type_prefix": "prefect.work-pool."})
	if out["count"] != 0.0 || !strings.Contains(out["note"].(string), "widen it with occurred_after") {
		t.Errorf("empty default window: %v", out)
	}
	out = e.ok(t, "read_events", map[string]any{"event_type_prefix": "prefect.work-pool.", "occurred_after": "-7d"})
	if r := rows(t, out, "events"); len(r) != 1 || r[0]["event"] != "prefect.work-pool.not-ready" || r[0]["resource"] != prefecttest.DemoKubernetesPool {
		t.Errorf("work pool events: %v", out)
	}
}

func TestReadEventsPagingAndSize(t *testing.T) {
	e := newEnv(t)
	putFlowRunEvents(e, 35, now.Add(-2*time.Hour)) // 140 events between -3h10m and -2h
	args := func(limit int) map[string]any {
		return map[string]any{
			"related_resource_id": "prefect.deployment." + prefecttest.DemoID("deployment", bulkDeployment),
			"occurred_after":      "-4h", "limit": limit,
		}
	}
	cases := []struct {
		limit, rows, nexts int
		truncated          bool
	}{
		{10, 10, 0, true}, {50, 50, 0, true}, {51, 51, 1, true}, {100, 100, 1, true},
		{120, 120, 2, true}, {140, 140, 2, false}, {500, 140, 2, false},
	}
	for _, tc := range cases {
		e.fake.ResetLog()
		text, isErr := e.call(t, "read_events", args(tc.limit))
		if isErr {
			t.Fatal(text)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(text), &out); err != nil {
			t.Fatal(err)
		}
		events := rows(t, out, "events")
		seen := map[any]bool{}
		for i, ev := range events {
			if seen[ev["id"]] {
				t.Errorf("limit %d: event %v twice", tc.limit, ev["id"])
			}
			seen[ev["id"]] = true
			if i > 0 && ev["occurred"].(string) > events[i-1]["occurred"].(string) {
				t.Errorf("limit %d: not newest first at %d", tc.limit, i)
			}
		}
		filters, nexts := e.fake.Count("POST /events/filter"), e.fake.Count("GET /events/filter/next")
		if len(events) != tc.rows || out["total"] != 140.0 || (out["truncated"] == true) != tc.truncated || filters != 1 || nexts != tc.nexts {
			t.Errorf("limit %d: %d rows (want %d), total %v, truncated %v, %d filter + %d next calls (want 1 + %d)",
				tc.limit, len(events), tc.rows, out["total"], out["truncated"], filters, nexts, tc.nexts)
		}
		for _, r := range e.fake.Requests() {
			if r.Route == "POST /events/filter" && strings.Contains(string(r.Body), `"limit":`) && !strings.Contains(string(r.Body), fmt.Sprintf(`"limit":%d`, min(tc.limit, 50))) {
				t.Errorf("limit %d: page size in %s", tc.limit, r.Body)
			}
		}
		if tc.limit == 50 {
			t.Logf("read_events, 50 flow-run events: %d bytes", len(text))
			if len(text) > 10<<10 {
				t.Errorf("50 events take %d bytes, over 10 KB", len(text))
			}
			run := out["resources"].(map[string]any)["bulk-run-00"].(map[string]any)
			if run["deployment"] != "etl-pipeline/"+bulkDeployment || len(run) != 2 {
				t.Errorf("resource %v", run)
			}
		}
	}
	noWrites(t, e.fake)
}

// A Prefect behind a proxy builds next_page links with its own idea of its
// host. Paging must keep to the API URL we were given and only reuse the
// page token.
func TestReadEventsNextPageNeverLeavesTheAPIRoot(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	upstream, err := url.Parse(strings.TrimSuffix(fake.URL, "/api"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(upstream)
		r.Out.Host = "prefect-internal.invalid:4200" // what the server believes it is
	}})
	t.Cleanup(proxy.Close)
	e := newEnvWithTarget(t, fake, target.Credentials{APIURL: proxy.URL + "/api"})
	putFlowRunEvents(e, 30, now.Add(-2*time.Hour))
	out := e.ok(t, "read_events", map[string]any{"event_type_prefix": "prefect.flow-run.", "occurred_after": "-4h", "occurred_before": "-2h", "limit": 110})
	if out["count"] != 110.0 || e.fake.Count("GET /events/filter/next") != 2 {
		t.Errorf("paging through a proxy: count %v, %d next calls", out["count"], e.fake.Count("GET /events/filter/next"))
	}
	for _, r := range e.fake.Requests() {
		if r.Route == "GET /events/filter/next" && !strings.HasPrefix(r.Query, "page-token=") {
			t.Errorf("next page request %s?%s", r.Path, r.Query)
		}
	}
	// The links really named the other host.
	resp, err := http.Post(proxy.URL+"/api/events/filter", "application/json", strings.NewReader(`{"limit":5}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		NextPage string `json:"next_page"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || !strings.HasPrefix(page.NextPage, "http://prefect-internal.invalid:4200/api/events/filter/next?") {
		t.Errorf("next_page through the proxy = %q (%v)", page.NextPage, err)
	}
}

func TestReadEventsBadInput(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"occurred_after": "last week"}, []string{`occurred_after "last week" is not a time`, "RFC 3339", "-24h", "-7d", `"now"`}},
		{map[string]any{"occurred_before": "2026-02-30"}, []string{"occurred_before", "2026-11-25"}},
		{map[string]any{"occurred_after": "24h"}, []string{"has no sign", "-24h"}},
		{map[string]any{"occurred_after": "-1h", "occurred_before": "-2h"}, []string{"occurred_after", "is after occurred_before"}},
		{map[string]any{"limit": 501}, []string{"limit"}},
		{map[string]any{"resource_id": prefecttest.DemoID("flow_run", "frozen-yak")}, []string{"bare UUID", "prefect.flow-run.<uuid>"}},
		{map[string]any{"related_resource_id": "*"}, []string{"matches everything"}},
	}
	for _, tc := range cases {
		before := len(e.fake.Requests())
		msg := e.fail(t, "read_events", tc.args)
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

// TestReadEventsTaskRunEvent: a task run's state-change event, as the
// Prefect client sends it (events_filter.json in the reference samples),
// names its flow run once with the task run, and its payload's copy of the
// task run is left out: the row's resource names it.
func TestReadEventsTaskRunEvent(t *testing.T) {
	e := newEnv(t)
	runID, taskID := prefecttest.DemoID("flow_run", "crimson-falcon"), prefecttest.DemoID("task_run", "budget/flaky")
	at := now.Add(-5 * time.Minute).Format("2006-01-02T15:04:05.000000Z")
	for i, st := range [][2]string{{"PENDING", "Pending"}, {"RUNNING", "Running"}} {
		e.fake.Put(prefecttest.Events, map[string]any{
			"occurred": at, "event": "prefect.task-run." + st[1], "id": prefecttest.DemoID("event", fmt.Sprint("budget/task/", i)),
			"resource": map[string]any{
				"prefect.resource.id": "prefect.task-run." + taskID, "prefect.resource.name": "flaky_task-416",
				"prefect.run-count": "1", "prefect.state-message": "", "prefect.state-name": st[1], "prefect.state-type": st[0],
				"prefect.orchestration": "client",
			},
			"related": []any{
				map[string]any{"prefect.resource.id": "prefect.flow-run." + runID, "prefect.resource.role": "flow-run", "prefect.resource.name": "crimson-falcon"},
				map[string]any{"prefect.resource.id": "prefect.flow." + prefecttest.DemoID("flow", "always-fails"), "prefect.resource.role": "flow", "prefect.resource.name": "always-fails"},
			},
			"payload": map[string]any{
				"intended": map[string]any{"from": nil, "to": st[0]}, "initial_state": nil,
				"validated_state": map[string]any{"type": st[0], "name": st[1], "message": "", "state_details": map[string]any{}, "data": nil},
				"task_run": map[string]any{"name": "flaky_task-416", "task_key": "flaky_task-41988fd6", "dynamic_key": "416996fc-35e3-4922-aa91-791d0ea75706",
					"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 3, "retry_delay": 0.5}, "tags": []any{},
					"labels": map[string]any{}, "task_inputs": map[string]any{"state": []any{}}, "run_count": 0, "flow_run_run_count": 0, "total_run_time": 0.0},
			},
			"follows": nil, "received": at,
		})
	}
	out := e.ok(t, "read_events", map[string]any{"event_type_prefix": "prefect.task-run.", "occurred_after": "-10m"})
	events := rows(t, out, "events")
	if len(events) != 2 {
		t.Fatalf("events: %v", events)
	}
	for _, ev := range events {
		if ev["resource"] != "flaky_task-416" || ev["payload"] != nil || ev["related"] != nil {
			t.Errorf("row: %v", ev)
		}
	}
	res := out["resources"].(map[string]any)
	task, run := res["flaky_task-416"].(map[string]any), res["crimson-falcon"].(map[string]any)
	if task["id"] != "prefect.task-run."+taskID || task["flow_run"] != "crimson-falcon" || len(task) != 2 {
		t.Errorf("task run: %v", task)
	}
	if run["id"] != "prefect.flow-run."+runID || run["flow"] != "always-fails" || len(run) != 2 {
		t.Errorf("its flow run: %v", run)
	}
}

// eventCount is the number of events in read_events rows: a heartbeats
// row holds one per resource.
func eventCount(rows []map[string]any) int {
	n := 0
	for _, r := range rows {
		if rs, ok := r["resources"].([]any); ok {
			n += len(rs)
		} else {
			n++
		}
	}
	return n
}

// TestReadEventsHeartbeatRows: consecutive bare heartbeats of one event
// name are one row (each beat's resource, newest and earliest time); a
// lone heartbeat, or one between other events, keeps its own row.
func TestReadEventsHeartbeatRows(t *testing.T) {
	e := newEnv(t)
	beat := func(i int, event, res, name string) {
		at := now.Add(-time.Duration(10+i) * time.Second).Format("2006-01-02T15:04:05.000000Z")
		e.fake.Put(prefecttest.Events, map[string]any{
			"occurred": at, "event": event, "id": prefecttest.DemoID("event", fmt.Sprint("beat/", i)),
			"resource": map[string]any{"prefect.resource.id": res, "prefect.resource.name": name},
			"related":  []any{map[string]any{"prefect.resource.id": "prefect.tag.beat-test", "prefect.resource.role": "tag"}},
			"payload":  map[string]any{}, "follows": nil, "received": at,
		})
	}
	run := func(n string) string { return "prefect.flow-run." + prefecttest.DemoID("flow_run", n) }
	beat(0, "prefect.flow-run.heartbeat", run("beat-a"), "beat-a")
	beat(1, "prefect.flow-run.heartbeat", run("beat-b"), "beat-b")
	beat(2, "prefect.flow-run.heartbeat", run("beat-a"), "beat-a")
	beat(3, "prefect.worker.heartbeat", "prefect.worker.process.w9", "w9")
	beat(4, "prefect.flow-run.heartbeat", run("beat-c"), "beat-c")
	out := e.ok(t, "read_events", map[string]any{"related_resource_id": "prefect.tag.beat-test"})
	got := rows(t, out, "events")
	if len(got) != 3 || out["count"] != 5.0 || eventCount(got) != 5 {
		t.Fatalf("rows %v (count %v)", got, out["count"])
	}
	g := got[0]
	if fmt.Sprint(g["resources"]) != "[beat-a beat-b beat-a]" || g["occurred"] != ts(-10*time.Second) || g["earliest"] != ts(-12*time.Second) || g["id"] != nil || g["resource"] != nil {
		t.Errorf("heartbeats row %v", g)
	}
	for i, want := range map[int]string{1: "w9", 2: "beat-c"} {
		if got[i]["resource"] != want || got[i]["id"] == nil || got[i]["resources"] != nil {
			t.Errorf("row %d: %v", i, got[i])
		}
	}
	if res := out["resources"].(map[string]any)["beat-b"].(map[string]any); res["id"] != run("beat-b") {
		t.Errorf("beat-b: %v", res)
	}
}
