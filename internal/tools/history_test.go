package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func TestRunStateHistory(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name    string
		args    map[string]any
		route   string
		states  []string // labels, oldest first
		summary map[string]any
		check   func(t *testing.T, states []map[string]any)
	}{
		{
			name: "retries", args: map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "patient-badger")},
			route:   "GET /flow_run_states/",
			states:  []string{"Pending", "Running", "AwaitingRetry (SCHEDULED)", "Retrying (RUNNING)", "AwaitingRetry (SCHEDULED)", "Retrying (RUNNING)", "Completed"},
			summary: map[string]any{"states": 7.0, "retries": 2.0, "current": "Completed", "span": "17s"},
			check: func(t *testing.T, s []map[string]any) {
				if s[2]["message"] != "Retry 1/2 will start 5 second(s) from now" || s[2]["duration"] != "5s" || s[0]["duration"] != "1s" {
					t.Errorf("retry state %v / %v", s[2], s[0])
				}
				if _, ok := s[6]["duration"]; ok {
					t.Errorf("a final state has a duration: %v", s[6])
				}
			},
		},
		{
			name: "paused", args: map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "still-heron")},
			route:   "GET /flow_run_states/",
			states:  []string{"Running", "Paused"},
			summary: map[string]any{"states": 2.0, "pauses": 1.0, "current": "Paused", "span": "1m0s"},
			check: func(t *testing.T, s []map[string]any) {
				if s[1]["ongoing"] != true || s[1]["duration"] != "24m0s" || s[1]["pause_timeout"] != ts(36*time.Minute) {
					t.Errorf("paused state %v", s[1])
				}
			},
		},
		{
			name: "crashed", args: map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "frozen-yak")},
			route:   "GET /flow_run_states/",
			states:  []string{"Pending", "Running", "Crashed"},
			summary: map[string]any{"states": 3.0, "crashes": 1.0, "current": "Crashed", "span": "10m0s"},
			check: func(t *testing.T, s []map[string]any) {
				if s[2]["message"] != prefecttest.DemoCrashMessage || s[1]["duration"] != "9m0s" {
					t.Errorf("crash %v / %v", s[2], s[1])
				}
			},
		},
		{
			name: "late", args: map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "sleepy-walrus")},
			route:   "GET /flow_run_states/",
			states:  []string{"Scheduled", "Late (SCHEDULED)"},
			summary: map[string]any{"states": 2.0, "was_late": true, "current": "Late (SCHEDULED)", "span": "1h0m15s"},
			check: func(t *testing.T, s []map[string]any) {
				if s[0]["scheduled_for"] != ts(-40*time.Minute) || s[1]["ongoing"] != true {
					t.Errorf("late states %v", s)
				}
			},
		},
		{
			name: "task run", args: map[string]any{"task_run_id": prefecttest.DemoID("task_run", "crimson-falcon/validate")},
			route:   "GET /task_run_states/",
			states:  []string{"Pending", "Running", "Failed"},
			summary: map[string]any{"states": 3.0, "failures": 1.0, "current": "Failed", "span": "10s"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetLog()
			out := e.ok(t, "get_run_state_history", tc.args)
			size := resultSize(t, out)
			t.Logf("get_run_state_history(%s): %d bytes", tc.name, size)
			if size > 6<<10 {
				t.Errorf("result is %d bytes, budget 6 KB", size)
			}
			states := rows(t, out, "states")
			var labels []string
			for _, s := range states {
				labels = append(labels, s["state"].(string))
			}
			if strings.Join(labels, ",") != strings.Join(tc.states, ",") {
				t.Errorf("states %v, want %v", labels, tc.states)
			}
			sum := out["summary"].(map[string]any)
			if fmt.Sprint(sum) != fmt.Sprint(tc.summary) {
				t.Errorf("summary %v, want %v", sum, tc.summary)
			}
			if tc.check != nil {
				tc.check(t, states)
			}
			if e.fake.Count(tc.route) != 1 || len(e.fake.Requests()) != 1 {
				t.Errorf("requests %v", e.fake.Requests())
			}
		})
	}
	noWrites(t, e.fake)
}

func TestRunStateHistoryLongAndBad(t *testing.T) {
	e := newEnv(t)
	// A run that retried 60 times: 120 states, the middle left out.
	run := "5b0c2d4e-6f70-4a81-9b2c-3d4e5f607182"
	base := now.Add(-5 * time.Hour)
	for i := range 120 {
		typ, name := "RUNNING", "Retrying"
		if i%2 == 1 {
			typ, name = "SCHEDULED", "AwaitingRetry"
		}
		e.fake.Put(prefecttest.FlowRunStates, map[string]any{
			"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "type": typ, "name": name,
			"timestamp": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), "message": nil,
			"state_details": map[string]any{"flow_run_id": run},
		})
	}
	out := e.ok(t, "get_run_state_history", map[string]any{"flow_run_id": run})
	size := resultSize(t, out)
	t.Logf("get_run_state_history(120 states): %d bytes", size)
	if size > 6<<10 {
		t.Errorf("result is %d bytes, budget 6 KB", size)
	}
	states := rows(t, out, "states")
	sum := out["summary"].(map[string]any)
	if len(states) != 50 || out["omitted_states"] != 70.0 || sum["retries"] != 60.0 || sum["states"] != 120.0 {
		t.Errorf("%d states, omitted %v, summary %v", len(states), out["omitted_states"], sum)
	}
	if states[9]["time"] != ts(-4*time.Hour-51*time.Minute) || states[10]["time"] != ts(-3*time.Hour-40*time.Minute) {
		t.Errorf("head ends at %v, tail starts at %v", states[9]["time"], states[10]["time"])
	}

	bad := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, "exactly one of flow_run_id or task_run_id"},
		{map[string]any{"flow_run_id": run, "task_run_id": run}, "exactly one of flow_run_id or task_run_id"},
		{map[string]any{"flow_run_id": "not-a-uuid"}, "no flow run is named"},
		{map[string]any{"task_run_id": "not-a-uuid"}, "not a UUID"},
		{map[string]any{"task_run_id": "00000000-0000-4000-8000-000000000999"}, "task run 00000000-0000-4000-8000-000000000999 was not found"},
		{map[string]any{"flow_run_id": "00000000-0000-4000-8000-000000000999"}, "get_flow_runs"},
	}
	for _, b := range bad {
		if msg := e.fail(t, "get_run_state_history", b.args); !strings.Contains(msg, b.want) {
			t.Errorf("%v: %s, want %q", b.args, msg, b.want)
		}
	}
}

func TestTaskRunLogs(t *testing.T) {
	e := newEnv(t)
	validate := prefecttest.DemoID("task_run", "crimson-falcon/validate")
	out := e.ok(t, "get_flow_run_logs", map[string]any{"task_run_id": validate})
	size := resultSize(t, out)
	t.Logf("get_task_run_logs: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 6<<10 {
		t.Errorf("result is %d bytes, budget 6 KB", size)
	}
	lines := out["lines"].([]any)
	if len(lines) != 1 || !strings.Contains(lines[0].(string), "ERROR prefect.task_runs: Task run failed with exception: ValueError") {
		t.Errorf("lines %v", lines)
	}
	reqs := e.fake.Requests()
	if len(reqs) != 1 || reqs[0].Route != "POST /logs/filter" || strings.Contains(string(reqs[0].Body), `"flow_run_id"`) || !strings.Contains(string(reqs[0].Body), `"task_run_id":{"any_":["`+validate+`"]}`) {
		t.Errorf("requests %v", reqs)
	}

	// swift-ibis/load logged one DEBUG line: level info leaves none, and the
	// empty answer is checked against the task run (one more request).
	load := prefecttest.DemoID("task_run", "swift-ibis/load")
	e.fake.ResetLog()
	out = e.ok(t, "get_flow_run_logs", map[string]any{"task_run_id": load, "level": "info"})
	if out["count"] != 0.0 || out["min_level"] != "INFO" || !strings.Contains(out["note"].(string), "no log lines") || len(e.fake.Requests()) != 2 {
		t.Errorf("level info: %v, %d requests", out, len(e.fake.Requests()))
	}
	out = e.ok(t, "get_flow_run_logs", map[string]any{"task_run_id": load, "tail": true, "limit": 1})
	if l := out["lines"].([]any); len(l) != 1 || !strings.Contains(l[0].(string), "DEBUG prefect.task_runs: Acquired slot") {
		t.Errorf("tail: %v", out)
	}

	bad := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"task_run_id": "nope"}, "not a UUID"},
		{map[string]any{"task_run_id": "00000000-0000-4000-8000-000000000999"}, "was not found"},
		{map[string]any{"task_run_id": validate, "limit": 5000}, "limit"},
	}
	for _, b := range bad {
		if msg := e.fail(t, "get_flow_run_logs", b.args); !strings.Contains(msg, b.want) {
			t.Errorf("%v: %s, want %q", b.args, msg, b.want)
		}
	}
	noWrites(t, e.fake)
}
