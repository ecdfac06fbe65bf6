package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// lateGroups returns the groups of a diagnose_late_runs result by deployment.
func lateGroups(t *testing.T, out map[string]any) map[string]map[string]any {
	t.Helper()
	groups := map[string]map[string]any{}
	list, _ := out["groups"].([]any)
	for _, g := range list {
		m := g.(map[string]any)
		groups[dgStr(m["deployment"])] = m
	}
	return groups
}

// healthyPool is a READY pool with an online worker and a polled queue.
func (w *dgWorld) healthyPool(pool string, limit any) {
	w.pool(pool, "READY", false, limit)
	w.queue(pool, "default", false, nil, dgAt(-5*time.Second))
	w.worker(pool, "ProcessWorker "+pool, -10*time.Second, "ONLINE")
}

func TestDiagnoseLateRunsDemo(t *testing.T) {
	e := newEnv(t)

	// Scenario 1: Late runs in a pool with no worker (NOT_READY).
	out, text, n := dgCall(t, e, "diagnose_late_runs", map[string]any{"work_pool_name": prefecttest.DemoKubernetesPool})
	t.Logf("scenario 1 output (%d bytes, %d requests):\n%s", len(text), n, text)
	dgFirstKey(t, text, "summary")
	g := lateGroups(t, out)["train-every-15m"]
	if g == nil || g["cause"] != "no_online_worker" || g["late"] != 3.0 || len(lateGroups(t, out)) != 1 {
		t.Fatalf("groups = %v", out["groups"])
	}
	dgContains(t, "evidence", strings.Join(dgStrs(g["evidence"]), " "), "k8s-pool status NOT_READY", "no worker has ever registered")
	dgContains(t, "summary", dgStr(out["summary"]), "3 run(s) are not starting", "no worker is polling work pool k8s-pool")
	if n != 8 { // late, active, limits, pending tasks; deployments, queues, pools, workers
		t.Errorf("%d requests, want 8: %v", n, e.fake.Requests())
	}

	// Whole workspace: the deployment limit holds etl-hourly (scenario 4's
	// AwaitingConcurrencySlot run); scenario 5's full tag limit holds task
	// runs of a Running flow and is reported separately, never blamed.
	out, text, n = dgCall(t, e, "diagnose_late_runs", map[string]any{})
	t.Logf("whole demo workspace (%d bytes, %d requests)", len(text), n)
	groups := lateGroups(t, out)
	if len(groups) != 2 || groups["train-every-15m"]["cause"] != "no_online_worker" || groups["etl-hourly"]["cause"] != "deployment_concurrency_limit_full" {
		t.Fatalf("groups = %v", out["groups"])
	}
	etl := groups["etl-hourly"]
	if etl["awaiting_concurrency_slot"] != 1.0 {
		t.Errorf("etl-hourly = %v", etl)
	}
	// Counts agree across tools: late_runs is state Late only, as in
	// get_dashboard; the AwaitingConcurrencySlot run is counted by name.
	if out["late_runs"] != 3.0 || out["awaiting_concurrency_slot"] != 1.0 {
		t.Errorf("late_runs %v, awaiting_concurrency_slot %v; want 3 and 1", out["late_runs"], out["awaiting_concurrency_slot"])
	}
	dgContains(t, "summary", dgStr(out["summary"]), "4 run(s) are not starting (3 Late, 1 AwaitingConcurrencySlot)")
	dash := e.ok(t, "get_dashboard", nil)
	if late := dash["flow_runs"].(map[string]any)["late"]; late != out["late_runs"] {
		t.Errorf("get_dashboard late %v, diagnose_late_runs late_runs %v", late, out["late_runs"])
	}
	dgContains(t, "etl-hourly evidence", strings.Join(dgStrs(etl["evidence"]), " | "), "1/1 slots in use", "swift-ibis", "collision strategy ENQUEUE", "AwaitingConcurrencySlot")
	holds := out["tag_limits_holding_task_runs"].([]any)
	hold := holds[0].(map[string]any)
	if len(holds) != 1 || hold["tag"] != prefecttest.DemoTagLimit || hold["flow_run"] != "swift-ibis" {
		t.Fatalf("tag holds = %v", holds)
	}
	dgContains(t, "pending tasks", strings.Join(dgStrs(hold["pending_task_runs"]), " "), "load-archive-0")
	ruled := strings.Join(dgStrs(out["ruled_out"]), " | ")
	dgContains(t, "ruled_out", ruled, "tag limit database is full (1/1)", "global limit external-api is full (5/5) but no late run's deployment is bound to it")
	for _, g := range groups {
		if s := fmt.Sprint(g); strings.Contains(s, "tag:") || strings.Contains(s, "external-api") {
			t.Errorf("a group blames a tag or unrelated global limit: %v", g)
		}
	}
	if n != 8 { // 4 + deployments, queues, pools, workers of the first pool
		t.Errorf("%d requests, want 8", n)
	}
}

func TestDiagnoseLateRunsScenarios(t *testing.T) {
	cases := []struct {
		name  string
		build func(w *dgWorld)
		args  map[string]any
		// want maps a deployment to its expected cause.
		want     map[string]string
		evidence map[string][]string
		check    func(t *testing.T, out map[string]any)
	}{
		{name: "2 pool limit occupied while a worker is online",
			build: func(w *dgWorld) {
				w.healthyPool("limited", 1)
				w.flow("sync")
				w.deployment("sync", "sync", "limited", "default", false, nil)
				w.deployment("other", "sync", "limited", "default", false, nil)
				w.running("busy-run", "sync", "other", "limited", "default", -20*time.Minute)
				w.late("late-a", "sync", "sync", "limited", "default", -10*time.Minute)
				w.late("late-b", "sync", "sync", "limited", "default", -5*time.Minute)
			},
			want:     map[string]string{"sync": "work_pool_concurrency_limit_full"},
			evidence: map[string][]string{"sync": {"concurrency_limit 1", "busy-run", "1 worker(s) online"}}},
		{name: "3 work queue limit exhausted",
			build: func(w *dgWorld) {
				w.healthyPool("shared", nil)
				w.queue("shared", "reports", false, 1, dgAt(-5*time.Second))
				w.flow("report")
				w.deployment("report", "report", "shared", "reports", false, nil)
				w.running("report-running", "report", "report", "shared", "reports", -15*time.Minute)
				w.late("report-late", "report", "report", "shared", "reports", -3*time.Minute)
			},
			want:     map[string]string{"report": "work_queue_concurrency_limit_full"},
			evidence: map[string][]string{"report": {"work queue reports", "concurrency_limit 1", "report-running"}}},
		{name: "4 deployment limit exhausted while tag limits have room",
			build: func(w *dgWorld) {
				w.healthyPool("p4", nil)
				w.flow("backfill")
				id := dgID("deployment", "backfill")
				w.deployment("backfill", "backfill", "p4", "default", false, w.v2limit("deployment:"+id, 1, 1))
				w.v2limit("tag:api", 5, 0)
				w.v2limit("tag:database", 10, 1)
				running := w.running("backfill-running", "backfill", "backfill", "p4", "default", -10*time.Minute)
				w.task(running, "query-0", "RUNNING", "Running", []any{"database"})
				w.run(dgRun{name: "backfill-waiting", flow: "backfill", deployment: "backfill", pool: "p4", queue: "default",
					stateType: "SCHEDULED", stateName: "AwaitingConcurrencySlot", expected: -4 * time.Minute, stateAt: -30 * time.Second, tags: []any{"database"}})
			},
			want:     map[string]string{"backfill": "deployment_concurrency_limit_full"},
			evidence: map[string][]string{"backfill": {"1/1 slots in use", "backfill-running", "AwaitingConcurrencySlot"}},
			check: func(t *testing.T, out map[string]any) {
				if out["ruled_out"] != nil || out["tag_limits_holding_task_runs"] != nil {
					t.Errorf("tag limits with room must not be reported: %v / %v", out["ruled_out"], out["tag_limits_holding_task_runs"])
				}
				if s := fmt.Sprint(out["groups"]); strings.Contains(s, "tag") {
					t.Errorf("a group mentions a tag: %s", s)
				}
			}},
		{name: "6 global concurrency limit at capacity gating the deployment",
			build: func(w *dgWorld) {
				w.healthyPool("gpu-pool", nil)
				w.flow("train")
				w.deployment("train", "train", "gpu-pool", "default", false, w.v2limit("gpu-slots", 2, 2))
				w.v2limit("unrelated-api", 3, 3)
				w.running("train-1", "train", "train", "gpu-pool", "default", -30*time.Minute)
				w.running("train-2", "train", "train", "gpu-pool", "default", -25*time.Minute)
				w.late("train-3", "train", "train", "gpu-pool", "default", -5*time.Minute)
			},
			want:     map[string]string{"train": "global_concurrency_limit_full"},
			evidence: map[string][]string{"train": {"v2 limit gpu-slots", "2/2 slots in use", "train-1"}},
			check: func(t *testing.T, out map[string]any) {
				dgContains(t, "ruled_out", strings.Join(dgStrs(out["ruled_out"]), " "), "global limit unrelated-api is full (3/3) but no late run's deployment is bound to it")
			}},
		{name: "7 paused pool, paused queue, paused deployment",
			build: func(w *dgWorld) {
				w.flow("crm")
				w.pool("paused-pool", "PAUSED", true, nil)
				w.queue("paused-pool", "default", false, nil, nil)
				w.deployment("crm-sync", "crm", "paused-pool", "default", false, nil)
				w.late("crm-late", "crm", "crm-sync", "paused-pool", "default", -20*time.Minute)
				w.healthyPool("finance", nil)
				w.queue("finance", "month-end", true, nil, dgAt(-5*time.Second))
				w.deployment("month-end", "crm", "finance", "month-end", false, nil)
				w.late("month-end-late", "crm", "month-end", "finance", "month-end", -15*time.Minute)
				w.deployment("paused-dep", "crm", "finance", "default", true, nil)
				w.late("paused-dep-late", "crm", "paused-dep", "finance", "default", -10*time.Minute)
			},
			want: map[string]string{"crm-sync": "work_pool_paused", "month-end": "work_queue_paused", "paused-dep": "deployment_paused"},
			evidence: map[string][]string{"crm-sync": {"work pool paused-pool", "is_paused=true"}, "month-end": {"work queue month-end", "is_paused=true"},
				"paused-dep": {"deployment paused-dep", "paused=true"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newDgWorld()
			tc.build(w)
			e := w.env(t)
			args := tc.args
			if args == nil {
				args = map[string]any{}
			}
			out, text, n := dgCall(t, e, "diagnose_late_runs", args)
			groups := lateGroups(t, out)
			if len(groups) != len(tc.want) {
				t.Fatalf("groups = %v, want causes %v\n%s", out["groups"], tc.want, text)
			}
			for dep, cause := range tc.want {
				g := groups[dep]
				if g == nil || g["cause"] != cause {
					t.Errorf("%s: cause = %v, want %s\n%s", dep, g["cause"], cause, text)
					continue
				}
				dgContains(t, dep+" evidence", strings.Join(dgStrs(g["evidence"]), " | "), tc.evidence[dep]...)
				if len(dgStrs(g["next_steps"])) == 0 {
					t.Errorf("%s has no next steps", dep)
				}
			}
			if tc.check != nil {
				tc.check(t, out)
			}
			t.Logf("%d requests, %d bytes: %s", n, len(text), out["summary"])
		})
	}
}

// Scenario 8: a healthy deployment has nothing late and nothing stuck.
func TestDiagnoseHealthyWorkspace(t *testing.T) {
	w := newDgWorld()
	w.healthyPool("happy", 5)
	w.flow("etl")
	w.deployment("etl", "etl", "happy", "default", false, nil)
	w.run(dgRun{name: "next-up", flow: "etl", deployment: "etl", pool: "happy", queue: "default", stateType: "SCHEDULED", expected: 30 * time.Minute, stateAt: -time.Hour})
	w.running("in-flight", "etl", "etl", "happy", "default", -2*time.Minute)
	for i := range 3 {
		w.completed(fmt.Sprintf("done-%d", i), "etl", "etl", "happy", "default", -time.Duration(i+1)*time.Hour, 240)
	}
	e := w.env(t)
	out, text, n := dgCall(t, e, "diagnose_late_runs", map[string]any{})
	if out["late_runs"] != 0.0 || out["groups"] != nil || out["ruled_out"] != nil || out["tag_limits_holding_task_runs"] != nil {
		t.Errorf("healthy workspace reports problems: %s", text)
	}
	dgContains(t, "summary", dgStr(out["summary"]), "No flow runs are Late or AwaitingConcurrencySlot in the whole workspace")
	if n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	out, text, _ = dgCall(t, e, "diagnose_stuck_runs", map[string]any{"min_minutes": 1})
	if out["stuck_runs"] != nil {
		t.Errorf("healthy workspace reports stuck runs: %s", text)
	}
	dgContains(t, "summary", dgStr(out["summary"]), "No run in the whole workspace is stuck")
}

// The number of requests does not grow with the number of late runs.
func TestDiagnoseLateRunsNoNPlusOne(t *testing.T) {
	counts := map[int]int{}
	for _, runs := range []int{1, 30} {
		w := newDgWorld()
		w.pool("dead", "NOT_READY", false, nil)
		w.queue("dead", "default", false, nil, nil)
		w.flow("f")
		w.deployment("d", "f", "dead", "default", false, nil)
		for i := range runs {
			w.late(fmt.Sprintf("late-%d", i), "f", "d", "dead", "default", -time.Duration(i+1)*time.Minute)
		}
		e := w.env(t)
		out, _, n := dgCall(t, e, "diagnose_late_runs", map[string]any{"deployment_id": dgID("deployment", "d")})
		if out["late_runs"] != float64(runs) {
			t.Errorf("late_runs = %v, want %d", out["late_runs"], runs)
		}
		counts[runs] = n
	}
	if counts[1] != counts[30] || counts[1] != 10 {
		t.Errorf("requests: %v; want 10 (8, and 2 for the deployment's scheduling) whatever the number of late runs", counts)
	}
}

// Scenario 9: a run stuck in Running with no heartbeats and no worker.
func TestDiagnoseStuckRuns(t *testing.T) {
	w := newDgWorld()
	w.pool("dead-pool", "NOT_READY", false, nil)
	w.queue("dead-pool", "default", false, nil, dgAt(-3*time.Hour))
	w.worker("dead-pool", "ProcessWorker gone", -3*time.Hour, "OFFLINE")
	w.flow("nightly")
	w.deployment("nightly-etl", "nightly", "dead-pool", "default", false, nil)
	for i, secs := range []float64{240, 300, 360} {
		w.completed(fmt.Sprintf("ok-%d", i), "nightly", "nightly-etl", "dead-pool", "default", -time.Duration(24*(i+1))*time.Hour, secs)
	}
	stuck := w.running("ghost-run", "nightly", "nightly-etl", "dead-pool", "default", -3*time.Hour)
	for i := range 3 {
		w.heartbeat(stuck, "ghost-run", -3*time.Hour+time.Duration(i)*5*time.Minute, i)
	}
	w.running("fresh-run", "nightly", "nightly-etl", "dead-pool", "default", -4*time.Minute)
	e := w.env(t)
	out, text, n := dgCall(t, e, "diagnose_stuck_runs", map[string]any{})
	t.Logf("diagnose_stuck_runs: %d requests, %d bytes:\n%s", n, len(text), text)
	dgFirstKey(t, text, "summary")
	list := out["stuck_runs"].([]any)
	if len(list) != 1 {
		t.Fatalf("stuck runs = %v", list)
	}
	s := list[0].(map[string]any)
	if s["name"] != "ghost-run" || s["verdict"] != "orphaned" || s["usual_duration"] != "5m0s (median of recent completed runs)" ||
		s["last_heartbeat"] != dgAt(-2*time.Hour - 50*time.Minute)[:19]+"Z" || s["elapsed"] != "3h0m0s" {
		t.Errorf("stuck run = %v", s)
	}
	dgContains(t, "evidence", strings.Join(dgStrs(s["evidence"]), " | "), "3 prefect.flow-run.heartbeat event(s)", "none online", "ProcessWorker gone")
	dgContains(t, "summary", dgStr(out["summary"]), "ghost-run", "no online worker")
	if out["active_runs_checked"] != 2.0 {
		t.Errorf("checked = %v", out["active_runs_checked"])
	}
	// run filter, completed runs, heartbeat counts, pools, workers
	if n != 5 {
		t.Errorf("%d requests, want 5: %v", n, e.fake.Requests())
	}
}

func TestDiagnoseAutomation(t *testing.T) {
	e := newEnv(t)
	etl := prefecttest.DemoID("deployment", "etl-hourly")
	failed := func(id, run, dep string, ago time.Duration) map[string]any {
		return map[string]any{
			"occurred": dgAt(-ago), "event": "prefect.flow-run.Failed",
			"resource": map[string]any{"prefect.resource.id": "prefect.flow-run." + dgID("flow_run", run), "prefect.resource.name": run,
				"prefect.state-name": "Failed", "prefect.state-type": "FAILED"},
			"related": []any{map[string]any{"prefect.resource.id": "prefect.deployment." + dep, "prefect.resource.role": "deployment", "prefect.resource.name": "d"}},
			"payload": map[string]any{}, "id": dgID("event", id), "follows": nil, "received": dgAt(-ago),
		}
	}
	// Scenario 14: one etl-hourly failure (and one of another deployment,
	// which match_related must not count) against a threshold of 3 in 10 min.
	e.fake.Put(prefecttest.Events, failed("f1", "etl-fail-1", etl, 20*time.Minute),
		failed("f2", "other-fail", prefecttest.DemoID("deployment", "nightly"), 19*time.Minute))
	out, text, n := dgCall(t, e, "diagnose_automation", map[string]any{"automation_id": prefecttest.DemoID("automation", "pause-etl-after-3-failures")})
	t.Logf("scenario 14 (%d requests, %d bytes):\n%s", n, len(text), text)
	dgFirstKey(t, text, "conclusion")
	if out["cause"] != "threshold_not_reached" {
		t.Errorf("cause = %v", out["cause"])
	}
	dgContains(t, "conclusion", dgStr(out["conclusion"]), "needs 3 prefect.flow-run.Failed event(s) within 10 min", "at most 1 was seen", "has not fired")
	if ev := out["evidence"].(map[string]any); ev["matching_events"] != 1.0 || ev["times_triggered"] != 0.0 || dgField(t, ev, "best_window", "count") != 1.0 {
		t.Errorf("evidence = %v", ev)
	}
	dgContains(t, "trigger", dgStr(dgField(t, out, "automation", "trigger")), "≥3 × prefect.flow-run.Failed related to deployment etl-hourly within 10 min")

	// Scenario 15: fired, but the run-deployment action failed validation.
	out, text, n = dgCall(t, e, "diagnose_automation", map[string]any{"automation_id": prefecttest.DemoID("automation", "backfill-on-sync-failure")})
	t.Logf("scenario 15 (%d requests, %d bytes):\n%s", n, len(text), text)
	if out["cause"] != "action_failed" {
		t.Errorf("cause = %v", out["cause"])
	}
	dgContains(t, "conclusion", dgStr(out["conclusion"]), "fired 1 time(s)", "run-deployment action failed", "Validation failed for field 'batch_size'", "'500' is not of type 'integer'")
	f := dgField(t, out, "evidence", "action_failures").([]any)[0].(map[string]any)
	if f["action_type"] != "run-deployment" || f["status_code"] != 409.0 {
		t.Errorf("failure = %v", f)
	}
	dgContains(t, "action", dgStr(f["action"]), "backfill", `{"batch_size":"500"}`)
	dgContains(t, "next steps", strings.Join(dgStrs(out["next_steps"]), " "), "parameter schema")
	if n > 6 {
		t.Errorf("%d requests, want at most 6", n)
	}

	// A proactive trigger whose expected event never came.
	a := e.ok(t, "diagnose_automation", map[string]any{"automation_id": prefecttest.DemoID("automation", "nightly-report-missing")})
	if a["cause"] != "proactive_expected_events_missing" {
		t.Errorf("proactive cause = %v: %v", a["cause"], a["conclusion"])
	}

	// A disabled automation says so first.
	id := prefecttest.DemoID("automation", "pause-etl-after-3-failures")
	obj := prefecttest.Demo(now).Find(prefecttest.Automations, id)
	obj["enabled"] = false
	e.fake.Put(prefecttest.Automations, obj)
	a = e.ok(t, "diagnose_automation", map[string]any{"automation_id": id})
	if a["cause"] != "disabled" {
		t.Errorf("disabled cause = %v", a["cause"])
	}
	dgContains(t, "conclusion", dgStr(a["conclusion"]), "is disabled")
}

// for_each buckets: 2 failures of each of two runs never make 3 of one run.
func TestDiagnoseAutomationForEach(t *testing.T) {
	w := newDgWorld()
	w.d.Add(prefecttest.Automations, map[string]any{
		"id": dgID("automation", "per-run"), "name": "three-strikes-per-run", "description": "", "enabled": true, "tags": []any{},
		"trigger": map[string]any{"type": "event", "id": dgID("trigger", "per-run"), "match": map[string]any{"prefect.resource.id": "prefect.flow-run.*"},
			"match_related": map[string]any{}, "after": []any{}, "expect": []any{"prefect.flow-run.Failed"}, "for_each": []any{"prefect.resource.id"},
			"posture": "Reactive", "threshold": 3, "within": 600.0},
		"actions": []any{map[string]any{"type": "do-nothing"}}, "actions_on_trigger": []any{}, "actions_on_resolve": []any{},
		"created": dgAt(-48 * time.Hour), "updated": dgAt(-48 * time.Hour),
	})
	for i := range 4 {
		run := []string{"run-a", "run-b"}[i%2]
		w.d.Add(prefecttest.Events, map[string]any{
			"occurred": dgAt(-time.Duration(10-i) * time.Minute), "event": "prefect.flow-run.Failed",
			"resource": map[string]any{"prefect.resource.id": "prefect.flow-run." + dgID("flow_run", run), "prefect.resource.name": run},
			"related":  []any{}, "payload": map[string]any{}, "id": dgID("event", fmt.Sprint("fail-", i)), "follows": nil, "received": dgAt(-time.Duration(10-i) * time.Minute),
		})
	}
	e := w.env(t)
	out, text, _ := dgCall(t, e, "diagnose_automation", map[string]any{"automation_id": dgID("automation", "per-run")})
	if out["cause"] != "threshold_not_reached" || dgField(t, out, "evidence", "matching_events") != 4.0 || dgField(t, out, "evidence", "best_window", "count") != 2.0 {
		t.Fatalf("for_each not respected:\n%s", text)
	}
	dgContains(t, "conclusion", dgStr(out["conclusion"]), "for the same prefect.resource.id", "at most 2 was seen")
}

// Many groups stay within the result budget and say they were cut.
func TestDiagnoseLateRunsBounded(t *testing.T) {
	w := newDgWorld()
	w.pool("dead", "NOT_READY", false, nil)
	w.queue("dead", "default", false, nil, nil)
	w.flow("f")
	for d := range 15 {
		dep := fmt.Sprintf("deployment-with-a-long-name-%02d", d)
		w.deployment(dep, "f", "dead", "default", false, nil)
		for i := range 3 {
			w.late(fmt.Sprintf("%s-late-%d", dep, i), "f", dep, "dead", "default", -time.Duration(i+1)*time.Minute)
		}
	}
	e := w.env(t)
	out, text, n := dgCall(t, e, "diagnose_late_runs", map[string]any{})
	if out["late_runs"] != 45.0 || out["truncated"] != true || n != 8 {
		t.Errorf("late_runs %v, truncated %v, %d requests", out["late_runs"], out["truncated"], n)
	}
	t.Logf("45 late runs in 15 deployments: %d bytes, %d requests", len(text), n)
}

// Nothing is Late when the scheduler creates no runs: with a deployment in
// scope the answer says whether and why it schedules (gap seen on a real
// Prefect 3.8 server: pausing a deployment deletes its scheduled runs).
func TestDiagnoseLateRunsScheduling(t *testing.T) {
	w := newDgWorld()
	w.healthyPool("p", nil)
	w.flow("f")
	every15m := map[string]any{"interval": 900.0, "anchor_date": dgAt(-480 * time.Hour), "timezone": "UTC"}
	cron := map[string]any{"cron": "0 3 * * *", "timezone": "Europe/Berlin", "day_or": true}
	w.scheduledDeployment("paused", "f", "p", "default", true, nil, []any{schedule("paused", 0, true, every15m)})
	w.scheduledDeployment("inactive", "f", "p", "default", false, nil, []any{schedule("inactive", 0, false, every15m), schedule("inactive", 1, false, cron)})
	w.scheduledDeployment("manual", "f", "p", "default", false, nil, []any{})
	w.scheduledDeployment("stalled", "f", "p", "default", false, nil, []any{schedule("stalled", 0, true, every15m)})
	w.scheduledDeployment("healthy", "f", "p", "default", false, nil, []any{schedule("healthy", 0, true, every15m)})
	w.completed("old-run", "f", "stalled", "p", "default", -3*time.Hour, 60)
	w.run(dgRun{name: "next-run", flow: "f", deployment: "healthy", pool: "p", queue: "default", stateType: "SCHEDULED", expected: 10 * time.Minute, stateAt: -time.Hour})
	e := w.env(t)
	for _, tc := range []struct{ dep, want, step string }{
		{"paused", "paused: the scheduler creates no runs", "Resume deployment paused"},
		{"inactive", "all 2 schedule(s) are inactive", "get_deployments"},
		{"manual", "no schedule: runs start only when triggered", "Add a schedule"},
		{"stalled", "no upcoming Scheduled run exists: the server's scheduler service is not creating runs", "get_server_status"},
		{"healthy", "healthy: the scheduler creates runs; the next is due", ""},
	} {
		out, text, n := dgCall(t, e, "diagnose_late_runs", map[string]any{"deployment_id": dgID("deployment", tc.dep)})
		dgContains(t, tc.dep+" summary", dgStr(out["summary"]), "nothing is waiting to start", tc.want)
		if tc.step != "" {
			dgContains(t, tc.dep+" next steps", strings.Join(dgStrs(out["next_steps"]), " "), tc.step)
		}
		s, _ := out["scheduling"].(map[string]any)
		if s == nil || s["deployment"] != tc.dep {
			t.Fatalf("%s: scheduling = %v", tc.dep, out["scheduling"])
		}
		if n != 6 { // late, active, limits, pending tasks; deployment, its latest runs
			t.Errorf("%s: %d requests, want 6", tc.dep, n)
		}
		t.Logf("%s: %s", tc.dep, text)
	}
}

// A minutes-long flow is stuck after 10× its usual duration, not after a
// fixed 30 minutes; a deployment with no completed run keeps the 30-minute
// default, and the 2-minute floor holds for very short flows.
func TestDiagnoseStuckRunsRelativeThreshold(t *testing.T) {
	w := newDgWorld()
	w.healthyPool("p", nil)
	w.flow("quick")
	w.deployment("quick-dep", "quick", "p", "default", false, nil)
	w.deployment("tiny-dep", "quick", "p", "default", false, nil)
	w.deployment("new-dep", "quick", "p", "default", false, nil)
	for i, secs := range []float64{25, 30, 35} {
		w.completed(fmt.Sprintf("quick-ok-%d", i), "quick", "quick-dep", "p", "default", -time.Duration(i+1)*time.Hour, secs)
		w.completed(fmt.Sprintf("tiny-ok-%d", i), "quick", "tiny-dep", "p", "default", -time.Duration(i+1)*time.Hour, 2)
	}
	w.running("quick-stuck", "quick", "quick-dep", "p", "default", -6*time.Minute) // > 10×30s = 5m
	w.running("quick-fine", "quick", "quick-dep", "p", "default", -4*time.Minute)  // < 5m
	w.running("tiny-fine", "quick", "tiny-dep", "p", "default", -90*time.Second)   // 10×2s = 20s, but the floor is 2m
	w.running("tiny-stuck", "quick", "tiny-dep", "p", "default", -3*time.Minute)
	w.running("new-fine", "quick", "new-dep", "p", "default", -20*time.Minute) // no usual duration: 30m
	e := w.env(t)
	out, text, _ := dgCall(t, e, "diagnose_stuck_runs", map[string]any{})
	got := map[string]string{}
	for _, s := range out["stuck_runs"].([]any) {
		m := s.(map[string]any)
		got[dgStr(m["name"])] = dgStr(m["threshold"])
	}
	if len(got) != 2 || got["quick-stuck"] != "5m0s" || got["tiny-stuck"] != "2m0s" {
		t.Errorf("stuck runs and thresholds = %v, want quick-stuck 5m0s and tiny-stuck 2m0s\n%s", got, text)
	}
	// An explicit floor holds for every run, and is the threshold of a run
	// with no usual duration.
	out, text, _ = dgCall(t, e, "diagnose_stuck_runs", map[string]any{"min_minutes": 10})
	list, _ := out["stuck_runs"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "new-fine" {
		t.Errorf("min_minutes 10: stuck runs %v, want new-fine alone\n%s", list, text)
	}
}

// The number of requests does not grow with the number of pools involved:
// workers are read for the first pool, the others answer by their status.
func TestDiagnoseLateRunsPoolsConstant(t *testing.T) {
	counts := map[int]int{}
	for _, pools := range []int{1, 12} {
		w := newDgWorld()
		w.flow("f")
		for i := range pools {
			p := fmt.Sprintf("pool-%d", i)
			w.pool(p, "NOT_READY", false, nil)
			w.queue(p, "default", false, nil, nil)
			w.deployment("d-"+p, "f", p, "default", false, nil)
			w.late("late-"+p, "f", "d-"+p, p, "default", -time.Duration(i+1)*time.Minute)
		}
		e := w.env(t)
		out, text, n := dgCall(t, e, "diagnose_late_runs", map[string]any{})
		counts[pools] = n
		if pools > 1 {
			dgContains(t, "answer", text, "status NOT_READY (from the pool; READY means a worker is online)")
		}
		if out["late_runs"] != float64(pools) {
			t.Errorf("late_runs %v, want %d", out["late_runs"], pools)
		}
	}
	if counts[1] != counts[12] {
		t.Errorf("requests by number of pools: %v; want the same", counts)
	}
}

// rfc is a time relative to now as the diagnoses print it.
func rfc(off time.Duration) string { return now.Add(off).UTC().Format(time.RFC3339) }

// Scheduling health computes each active schedule's next occurrence from
// the schedule itself (cron in its timezone, interval from its anchor,
// rrule from DTSTART), reports the scheduler's latest run and when it was
// created, and calls a next run more than a day away a verdict. The cron
// and rrule texts are built from now, so the suite passes on any date.
func TestDiagnoseLateRunsScheduleKinds(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	soon := now.Add(90 * time.Minute).In(berlin)
	far := now.AddDate(0, 0, 40).UTC()
	rr := now.Add(2 * time.Hour).In(newYork)
	w := newDgWorld()
	w.healthyPool("p", nil)
	w.flow("f")
	for _, d := range []struct {
		name, ahead string // a Scheduled run the scheduler made, or none
		sched       map[string]any
		at          time.Duration
	}{
		{"interval", "interval-next", map[string]any{"interval": 3600.0, "anchor_date": dgAt(30*time.Minute - 480*time.Hour), "timezone": "UTC"}, 30 * time.Minute},
		{"cron-berlin", "cron-next", map[string]any{"cron": fmt.Sprintf("%d %d * * *", soon.Minute(), soon.Hour()), "timezone": "Europe/Berlin", "day_or": true}, 90 * time.Minute},
		{"cron-far", "far-next", map[string]any{"cron": fmt.Sprintf("0 3 %d %d *", far.Day(), int(far.Month())), "timezone": "UTC", "day_or": true}, far.Add(3*time.Hour - far.Sub(far.Truncate(24*time.Hour))).Sub(now)},
		{"rrule-ny", "", map[string]any{"rrule": "DTSTART:" + rr.AddDate(0, 0, -10).Format("20060102T150405") + "\nRRULE:FREQ=DAILY", "timezone": "America/New_York"}, 2 * time.Hour},
	} {
		w.scheduledDeployment(d.name, "f", "p", "default", false, nil, []any{schedule(d.name, 0, true, d.sched)})
		if d.ahead != "" {
			w.run(dgRun{name: d.ahead, flow: "f", deployment: d.name, pool: "p", queue: "default", stateType: "SCHEDULED", expected: d.at, stateAt: -time.Hour})
		}
	}
	e := w.env(t)
	for _, tc := range []struct {
		dep, verdict, next, latest string
	}{
		{"interval", "healthy", rfc(30 * time.Minute), "interval-next"},
		{"cron-berlin", "healthy", rfc(90 * time.Minute), "cron-next"},
		{"cron-far", "next_run_far_away", time.Date(far.Year(), far.Month(), far.Day(), 3, 0, 0, 0, time.UTC).Format(time.RFC3339), "far-next"},
		// No Scheduled run for an occurrence two hours away: the scheduler
		// service is not creating runs.
		{"rrule-ny", "scheduler_not_creating_runs", rfc(2 * time.Hour), ""},
	} {
		out, text, _ := dgCall(t, e, "diagnose_late_runs", map[string]any{"deployment_id": dgID("deployment", tc.dep)})
		t.Logf("%s: %s", tc.dep, text)
		s, _ := out["scheduling"].(map[string]any)
		if s == nil || s["verdict"] != tc.verdict {
			t.Errorf("%s: verdict %v, want %s", tc.dep, s["verdict"], tc.verdict)
			continue
		}
		sc := s["schedules"].([]any)[0].(map[string]any)
		if sc["next_occurrence"] != tc.next || !strings.HasPrefix(dgStr(s["next_occurrence"]), tc.next) {
			t.Errorf("%s: next occurrence %v / %v, want %s", tc.dep, sc["next_occurrence"], s["next_occurrence"], tc.next)
		}
		if tc.latest != "" {
			dgContains(t, tc.dep+" latest scheduled run", dgStr(s["latest_scheduled_run"]), tc.latest+", Scheduled")
			if s["scheduler_last_created"] == nil {
				t.Errorf("%s: no scheduler_last_created", tc.dep)
			}
		}
	}
}

// runnerHeartbeat is a prefect.flow-run.heartbeat as a runner emits it,
// related to the run's deployment and flow (src/prefect/runner/runner.py,
// _emit_flow_run_heartbeat).
func (w *dgWorld) runnerHeartbeat(flowRunID, runName, deployment, flow string, ago time.Duration, i int) {
	w.d.Add(prefecttest.Events, map[string]any{
		"occurred": dgAt(ago), "event": "prefect.flow-run.heartbeat",
		"resource": map[string]any{"prefect.resource.id": "prefect.flow-run." + flowRunID, "prefect.resource.name": runName, "prefect.version": "3.8.4"},
		"related": []any{
			map[string]any{"prefect.resource.id": "prefect.deployment." + dgID("deployment", deployment), "prefect.resource.role": "deployment", "prefect.resource.name": deployment},
			map[string]any{"prefect.resource.id": "prefect.flow." + dgID("flow", flow), "prefect.resource.role": "flow", "prefect.resource.name": flow},
		},
		"payload": map[string]any{}, "id": dgID("event", fmt.Sprintf("%s/beat/%d", runName, i)), "follows": nil, "received": dgAt(ago),
	})
}

// Two deployments on a pool with an online worker, each with a run Running
// for 3 hours that has gone quiet: one deployment's runs send heartbeats
// (its completed runs did, the stuck one stopped), the other's never did.
// The first is a zombie, the second is silent, in diagnose_stuck_runs and
// in diagnose_flow_run's liveness alike.
func TestDiagnoseStuckRunsHeartbeatsPerDeployment(t *testing.T) {
	w := newDgWorld()
	w.healthyPool("p", nil)
	w.flow("f")
	w.deployment("beating", "f", "p", "default", false, nil)
	w.deployment("quiet", "f", "p", "default", false, nil)
	for i := range 3 {
		ok := w.completed(fmt.Sprintf("beating-ok-%d", i), "f", "beating", "p", "default", -time.Duration(i+4)*time.Hour, 300)
		w.runnerHeartbeat(ok, fmt.Sprintf("beating-ok-%d", i), "beating", "f", -time.Duration(i+4)*time.Hour-time.Minute, 0)
		w.completed(fmt.Sprintf("quiet-ok-%d", i), "f", "quiet", "p", "default", -time.Duration(i+4)*time.Hour, 300)
	}
	stopped := w.running("beating-stuck", "f", "beating", "p", "default", -3*time.Hour)
	for i := range 3 {
		w.runnerHeartbeat(stopped, "beating-stuck", "beating", "f", -3*time.Hour+time.Duration(i)*30*time.Second, i)
	}
	quiet := w.running("quiet-stuck", "f", "quiet", "p", "default", -3*time.Hour)
	e := w.env(t)
	out, text, n := dgCall(t, e, "diagnose_stuck_runs", map[string]any{})
	t.Logf("diagnose_stuck_runs (%d requests, %d bytes):\n%s", n, len(text), text)
	got := map[string]map[string]any{}
	for _, s := range out["stuck_runs"].([]any) {
		got[dgStr(s.(map[string]any)["name"])] = s.(map[string]any)
	}
	if b := got["beating-stuck"]; b == nil || b["verdict"] != "zombie" || !strings.HasPrefix(dgStr(b["heartbeats"]), "enabled") {
		t.Errorf("beating-stuck = %v, want verdict zombie with heartbeats enabled", b)
	}
	if q := got["quiet-stuck"]; q == nil || q["verdict"] != "silent" || !strings.HasPrefix(dgStr(q["heartbeats"]), "none ever seen") {
		t.Errorf("quiet-stuck = %v, want verdict silent with no heartbeat ever seen", q)
	}
	dgContains(t, "next steps", strings.Join(dgStrs(out["next_steps"]), " "), "zombie", "Enable heartbeats")
	if n != 5 { // active runs; completed runs, pool, workers; heartbeat counts
		t.Errorf("%d requests, want 5", n)
	}
	for id, cause := range map[string]string{stopped: "zombie", quiet: "silent"} {
		out, text, _ := dgCall(t, e, "diagnose_flow_run", map[string]any{"flow_run_id": id})
		live, _ := out["liveness"].(map[string]any)
		if out["cause"] != cause || live == nil {
			t.Errorf("diagnose_flow_run %s: cause %v, want %s\n%s", id, out["cause"], cause, text)
			continue
		}
		want := map[string]string{"zombie": "enabled", "silent": "none ever seen"}[cause]
		dgContains(t, cause+" liveness heartbeats", dgStr(live["heartbeats"]), want)
	}
}

// The number of requests of diagnose_stuck_runs does not grow with the
// number of stuck runs, deployments or pools.
func TestDiagnoseStuckRunsNoNPlusOne(t *testing.T) {
	counts := map[int]int{}
	for _, n := range []int{1, 12} {
		w := newDgWorld()
		w.flow("f")
		for i := range n {
			p, d := fmt.Sprintf("pool-%d", i), fmt.Sprintf("dep-%d", i)
			w.healthyPool(p, nil)
			w.deployment(d, "f", p, "default", false, nil)
			w.completed("done-"+d, "f", d, p, "default", -5*time.Hour, 60)
			run := w.running("stuck-"+d, "f", d, p, "default", -3*time.Hour)
			w.runnerHeartbeat(run, "stuck-"+d, d, "f", -3*time.Hour, 0)
		}
		out, _, reqs := dgCall(t, w.env(t), "diagnose_stuck_runs", map[string]any{})
		if list, _ := out["stuck_runs"].([]any); len(list) == 0 || len(list) < n && out["truncated"] != true {
			t.Errorf("%d of %d stuck runs listed, truncated %v", len(list), n, out["truncated"])
		}
		counts[n] = reqs
	}
	if counts[1] != counts[12] || counts[1] != 5 {
		t.Errorf("requests by number of stuck runs: %v; want 5 whatever the number", counts)
	}
}
