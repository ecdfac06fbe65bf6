package tools_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

const diagnosisMaxBytes = 4 << 10

// diag calls a diagnosis tool, checks the result's size and that it never
// wrote, and returns the decoded result, its text and the request count.
func dgCall(t *testing.T, e *env, tool string, args map[string]any) (map[string]any, string, int) {
	t.Helper()
	e.fake.ResetLog()
	text, isErr := e.call(t, tool, args)
	if isErr {
		t.Fatalf("%s(%v) failed: %s", tool, args, text)
	}
	if len(text) > diagnosisMaxBytes {
		t.Errorf("%s result is %d bytes, budget %d", tool, len(text), diagnosisMaxBytes)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", tool, err, text)
	}
	noWrites(t, e.fake)
	return out, text, len(e.fake.Requests())
}

func dgStr(v any) string { s, _ := v.(string); return s }

func dgField(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("no %v in %v", path, m)
		}
		cur = mm[p]
	}
	return cur
}

func dgContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s %q does not contain %q", what, got, w)
		}
	}
}

func dgFirstKey(t *testing.T, text, key string) {
	t.Helper()
	if !strings.HasPrefix(text, `{"`+key+`":`) {
		t.Errorf("result does not start with %s: %.80s", key, text)
	}
}

func TestDiagnoseFlowRun(t *testing.T) {
	e := newEnv(t)
	id := func(n string) string { return prefecttest.DemoID("flow_run", n) }
	cases := []struct {
		name, run, cause string
		summary          []string
		check            func(t *testing.T, out map[string]any)
		requests         int
	}{
		{name: "11 exception with traceback", run: "crimson-falcon", cause: "code_error",
			summary: []string{"crimson-falcon", "ValueError: Row value above threshold 10: max=14"}, requests: 6,
			check: func(t *testing.T, out map[string]any) {
				exc := dgField(t, out, "evidence", "exception").(map[string]any)
				if exc["type"] != "ValueError" || exc["message"] != "Row value above threshold 10: max=14" {
					t.Errorf("exception = %v", exc)
				}
				tb := dgStr(exc["traceback"])
				dgContains(t, "traceback", tb, "Traceback (most recent call last):", `flows.py", line 18, in validate`, "ValueError: Row value above threshold 10: max=14")
				if len(tb) > 3<<10 {
					t.Errorf("traceback is %d bytes", len(tb))
				}
			}},
		{name: "12 one failing task among completed ones", run: "gentle-lynx", cause: "code_error",
			summary: []string{"render-chart-0", "KeyError: 'region'", "3 other task run(s) completed"}, requests: 6,
			check: func(t *testing.T, out map[string]any) {
				if got := dgField(t, out, "evidence", "task_runs_by_state").(map[string]any); got["Completed"] != 3.0 || got["Failed"] != 1.0 {
					t.Errorf("task counts = %v", got)
				}
				failed := dgField(t, out, "evidence", "failed_task_runs").([]any)
				if len(failed) != 1 || failed[0].(map[string]any)["name"] != "render-chart-0" {
					t.Errorf("failed tasks = %v", failed)
				}
				if w := dgField(t, out, "evidence", "where").(map[string]any); w["work_pool"] != prefecttest.DemoProcessPool || w["work_queue"] != "low-priority" {
					t.Errorf("where = %v", w)
				}
			}},
		{name: "13 parent failed by a failing subflow", run: "proud-walrus", cause: "subflow_failed",
			summary: []string{`subflow run "tiny-crab"`, "RuntimeError: upstream file missing"}, requests: 9,
			check: func(t *testing.T, out map[string]any) {
				chain := out["subflow_chain"].([]any)
				hop := chain[0].(map[string]any)
				if len(chain) != 1 || hop["name"] != "tiny-crab" || hop["id"] != id("tiny-crab") {
					t.Fatalf("chain = %v", chain)
				}
				exc := hop["exception"].(map[string]any)
				if exc["type"] != "RuntimeError" || exc["message"] != "upstream file missing" {
					t.Errorf("root exception = %v", exc)
				}
			}},
		{name: "10 crashed by lease renewal failure", run: "frozen-yak", cause: "concurrency_lease_renewal_failure",
			summary: []string{"concurrency lease could not be renewed"}, requests: 6,
			check: func(t *testing.T, out map[string]any) {
				dgContains(t, "lease log", dgStr(dgField(t, out, "evidence", "lease_renewal_log")), "Concurrency lease renewal failed", "410 Gone")
				if dgField(t, out, "evidence", "state_message") != prefecttest.DemoCrashMessage {
					t.Errorf("state message = %v", dgField(t, out, "evidence", "state_message"))
				}
			}},
		{name: "cancelled by a user", run: "quiet-mole", cause: "cancelled", summary: []string{"cancelled by user demo.user@example.com"}, requests: 6},
		{name: "cancelled by an automation", run: "stuck-gecko", cause: "cancelled", summary: []string{"by automation cancel-long-runs"}, requests: 6},
		{name: "late run points to diagnose_late_runs", run: "sleepy-walrus", cause: "not_failed", summary: []string{"Late", "has not started"}, requests: 6,
			check: func(t *testing.T, out map[string]any) {
				dgContains(t, "next steps", strings.Join(dgStrs(out["next_steps"]), " "), "diagnose_late_runs")
				if out["evidence"].(map[string]any)["exception"] != nil {
					t.Errorf("a late run has no exception: %v", out["evidence"])
				}
			}},
		{name: "completed run", run: "amber-otter", cause: "not_failed", summary: []string{"completed successfully", "nothing to diagnose"}, requests: 6},
		{name: "retried then completed", run: "patient-badger", cause: "not_failed", summary: []string{"completed"}, requests: 6,
			check: func(t *testing.T, out map[string]any) {
				if got := dgField(t, out, "evidence", "retries"); got != "2 of 2 retries used" {
					t.Errorf("retries = %v", got)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, text, n := dgCall(t, e, "diagnose_flow_run", map[string]any{"flow_run_id": id(tc.run)})
			dgFirstKey(t, text, "summary")
			if out["cause"] != tc.cause {
				t.Errorf("cause = %v, want %s\n%s", out["cause"], tc.cause, text)
			}
			dgContains(t, "summary", dgStr(out["summary"]), tc.summary...)
			if tc.check != nil {
				tc.check(t, out)
			}
			if n != tc.requests {
				t.Errorf("%d upstream requests, want %d: %v", n, tc.requests, e.fake.Requests())
			}
			if tc.run == "crimson-falcon" {
				t.Logf("scenario 11 output (%d bytes, %d requests):\n%s", len(text), n, text)
			}
			if tc.run == "proud-walrus" {
				t.Logf("diagnose_flow_run subflow walk: %d requests, %d bytes", n, len(text))
			}
		})
	}
}

func dgStrs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = dgStr(x)
	}
	return out
}

// A Crashed run with the lease message but no lease-renewal log line is an
// infrastructure crash: the tool must read the logs, not only the message.
func TestDiagnoseFlowRunCrashes(t *testing.T) {
	w := newDgWorld()
	w.flow("etl")
	w.pool("p", "READY", false, nil)
	w.queue("p", "default", false, nil, dgAt(-10*time.Second))
	w.deployment("etl-dep", "etl", "p", "default", false, nil)
	noLease := w.run(dgRun{name: "no-lease-log", flow: "etl", deployment: "etl-dep", pool: "p", queue: "default", stateType: "CRASHED",
		message: prefecttest.DemoCrashMessage, expected: -time.Hour, stateAt: -30 * time.Minute, start: dgDur(-time.Hour), end: dgDur(-30 * time.Minute)})
	oom := w.run(dgRun{name: "oom-killed", flow: "etl", deployment: "etl-dep", pool: "p", queue: "default", stateType: "CRASHED",
		message: "Flow run infrastructure exited with non-zero status code 137.", expected: -time.Hour, stateAt: -20 * time.Minute, start: dgDur(-time.Hour)})
	timedOut := w.run(dgRun{name: "too-slow", flow: "etl", deployment: "etl-dep", pool: "p", queue: "default", stateType: "FAILED", stateName: "TimedOut",
		message: "Flow run exceeded timeout of 60.0 second(s)", expected: -time.Hour, stateAt: -50 * time.Minute, start: dgDur(-time.Hour)})
	blocked := w.run(dgRun{name: "blocked", flow: "etl", stateType: "FAILED", message: "1/2 states are not final.", expected: -time.Hour, stateAt: -40 * time.Minute})
	w.task(blocked, "extract", "COMPLETED", "Completed", []any{})
	w.task(blocked, "load", "PENDING", "NotReady", []any{})
	e := w.env(t)
	for _, tc := range []struct{ id, cause, want string }{
		{blocked, "upstream_dependency_failed", "1 task run(s) never ran"},
		{noLease, "crashed_infrastructure", "crashed"},
		{oom, "crashed_infrastructure", "exit code 137, SIGKILL"},
		{timedOut, "timed_out", "timed out"},
	} {
		out, text, _ := dgCall(t, e, "diagnose_flow_run", map[string]any{"flow_run_id": tc.id})
		if out["cause"] != tc.cause {
			t.Errorf("%s: cause = %v, want %s\n%s", tc.id, out["cause"], tc.cause, text)
		}
		dgContains(t, "summary", dgStr(out["summary"]), tc.want)
	}
}

func TestDiagnoseFlowRunNoNPlusOne(t *testing.T) {
	w := newDgWorld()
	w.flow("wide")
	few := w.run(dgRun{name: "few-tasks", flow: "wide", stateType: "FAILED", message: "2/2 states failed.", expected: -time.Hour, stateAt: -50 * time.Minute})
	many := w.run(dgRun{name: "many-tasks", flow: "wide", stateType: "FAILED", message: "40/40 states failed.", expected: -time.Hour, stateAt: -50 * time.Minute})
	for i := range 2 {
		w.task(few, "t"+string(rune('a'+i)), "FAILED", "Failed", []any{})
	}
	for i := range 40 {
		w.task(many, "t"+strings.Repeat("x", i), "FAILED", "Failed", []any{})
	}
	e := w.env(t)
	_, _, nFew := dgCall(t, e, "diagnose_flow_run", map[string]any{"flow_run_id": few})
	out, _, nMany := dgCall(t, e, "diagnose_flow_run", map[string]any{"flow_run_id": many})
	if nFew != nMany || nMany != 6 {
		t.Errorf("requests: %d for 2 tasks, %d for 40 tasks; want 6 for both", nFew, nMany)
	}
	if n := len(dgField(t, out, "evidence", "failed_task_runs").([]any)); n != 8 {
		t.Errorf("listed %d failed tasks, want the bound 8", n)
	}
}

// Names work wherever ids are taken.
func TestDiagnoseByName(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "diagnose_flow_run", map[string]any{"flow_run_id": "crimson-falcon"})
	if out["cause"] != "code_error" {
		t.Errorf("diagnose_flow_run by name: cause %v", out["cause"])
	}
	out = e.ok(t, "diagnose_late_runs", map[string]any{"deployment_id": "train-model/train-every-15m"})
	if out["late_runs"] != float64(3) {
		t.Errorf("diagnose_late_runs by slug: %v", out["late_runs"])
	}
	out = e.ok(t, "diagnose_automation", map[string]any{"automation_id": "pause-etl-after-3-failures"})
	if out["cause"] == nil {
		t.Errorf("diagnose_automation by name: %v", out)
	}
	out = e.ok(t, "diagnose_late_runs", map[string]any{"deployment_id": "train-every-15m"})
	if out["late_runs"] != float64(3) {
		t.Errorf("diagnose_late_runs by deployment name: %v", out["late_runs"])
	}
}

func TestDiagnoseBadInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"diagnose_flow_run", map[string]any{"flow_run_id": "nope"}, `no flow run is named "nope"`},
		{"diagnose_flow_run", map[string]any{"flow_run_id": "00000000-0000-4000-8000-000000000000"}, "was not found"},
		{"diagnose_late_runs", map[string]any{"deployment_id": "x"}, `no deployment is named "x"`},
		{"diagnose_late_runs", map[string]any{"deployment_id": "etl-pipeline/nope"}, `no deployment "etl-pipeline/nope"`},
		{"diagnose_late_runs", map[string]any{"deployment_id": "00000000-0000-4000-8000-000000000000"}, "deployment 00000000-0000-4000-8000-000000000000 was not found"},
		{"diagnose_late_runs", map[string]any{"work_pool_name": "no-such-pool"}, `work pool "no-such-pool" was not found`},
		{"diagnose_stuck_runs", map[string]any{"min_minutes": 20000}, "min_minutes"},
		{"diagnose_stuck_runs", map[string]any{"work_pool_name": "no-such-pool"}, "was not found"},
		{"diagnose_automation", map[string]any{"automation_id": "bad"}, `no automation is named "bad"`},
		{"diagnose_automation", map[string]any{"automation_id": ""}, "automation_id is required"},
		{"diagnose_automation", map[string]any{"automation_id": "00000000-0000-4000-8000-000000000000"}, "was not found"},
		{"diagnose_automation", map[string]any{"automation_id": prefecttest.DemoID("automation", "cancel-long-runs"), "lookback_hours": 500}, "lookback_hours"},
	} {
		dgContains(t, tc.tool, e.fail(t, tc.tool, tc.args), tc.want)
	}
	noWrites(t, e.fake)
}
