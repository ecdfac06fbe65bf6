package tools_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// demoCounter counts demo flow runs whose state matches; building the demo
// is slow, so it is built once.
func demoCounter() func(match func(typ, name string) bool) float64 {
	runs := prefecttest.Demo(now).Objects(prefecttest.FlowRuns)
	return func(match func(typ, name string) bool) float64 { return countRuns(runs, match) }
}

func countRuns(runs []map[string]any, match func(typ, name string) bool) float64 {
	n := 0
	for _, r := range runs {
		typ, _ := r["state_type"].(string)
		name, _ := r["state_name"].(string)
		if match(typ, name) {
			n++
		}
	}
	return float64(n)
}

func TestGetDashboard(t *testing.T) {
	e := newEnv(t)
	demoCount := demoCounter()
	out := e.ok(t, "get_dashboard", nil)
	size := resultSize(t, out)
	t.Logf("get_dashboard: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 5<<10 {
		t.Errorf("result is %d bytes, budget 5 KB", size)
	}
	if _, ok := out["errors"]; ok {
		t.Fatalf("unexpected errors: %v", out["errors"])
	}
	counts := out["flow_runs"].(map[string]any)
	late := demoCount(func(_, name string) bool { return name == "Late" })
	if late != 3 || counts["late"] != late {
		t.Errorf("late %v, demo has %v", counts["late"], late)
	}
	// Every demo run ended within the last 24 h, so the 24 h counts equal
	// the demo's totals per state type.
	for key, typ := range map[string]string{"running": "RUNNING", "pending": "PENDING", "failed_24h": "FAILED", "crashed_24h": "CRASHED", "completed_24h": "COMPLETED", "cancelled_24h": "CANCELLED"} {
		if want := demoCount(func(t, _ string) bool { return t == typ }); counts[key] != want {
			t.Errorf("%s = %v, want %v", key, counts[key], want)
		}
	}
	if want := demoCount(func(t, n string) bool { return t == "SCHEDULED" && n != "Late" }); counts["scheduled"] != want {
		t.Errorf("scheduled = %v, want %v", counts["scheduled"], want)
	}
	pools := rows(t, out, "work_pools")
	if k8s := byName(t, pools, "name", prefecttest.DemoKubernetesPool); k8s["status"] != "NOT_READY" || k8s["runs_in_use"] != nil {
		t.Errorf("k8s %v", k8s)
	}
	if local := byName(t, pools, "name", prefecttest.DemoProcessPool); local["status"] != "READY" || local["concurrency_limit"] != 5.0 || local["runs_in_use"] != 2.0 {
		t.Errorf("local %v", local)
	}
	var full []string
	for _, l := range rows(t, out, "limits_at_capacity") {
		full = append(full, l["name"].(string))
	}
	if strings.Join(full, ",") != prefecttest.DemoFullGlobalLimit+",database,etl-hourly" {
		t.Errorf("limits at capacity %v", full)
	}
	failures := rows(t, out, "recent_failures")
	var names []string
	for _, f := range failures {
		names = append(names, f["name"].(string)+"/"+f["flow"].(string)+"/"+f["state"].(string))
	}
	if strings.Join(names, ",") != "frozen-yak/etl-pipeline/Crashed,proud-walrus/parent-flow/Failed,tiny-crab/child-flow/Failed,gentle-lynx/report-builder/Failed,crimson-falcon/always-fails/Failed" {
		t.Errorf("recent failures %v", names)
	}
	if failures[0]["message"] != prefecttest.DemoCrashMessage {
		t.Errorf("failure message %v", failures[0]["message"])
	}
	// Every count comes from one run history request, never from list
	// lengths.
	base := len(e.fake.Requests())
	if e.fake.Count("POST /flow_runs/history") != 1 || e.fake.Count("POST /flow_runs/count") != 0 || e.fake.Count("POST /flow_runs/filter") != 1 {
		t.Errorf("flow_runs/history %d, flow_runs/count %d, flow_runs/filter %d", e.fake.Count("POST /flow_runs/history"),
			e.fake.Count("POST /flow_runs/count"), e.fake.Count("POST /flow_runs/filter"))
	}
	putInfraRuns(e, 30, "etl-hourly", prefecttest.DemoProcessPool, "default", "FAILED", "Failed")
	e.fake.ResetLog()
	out = e.ok(t, "get_dashboard", nil)
	if got := len(e.fake.Requests()); got != base {
		t.Errorf("%d requests after adding runs, want %d", got, base)
	}
	if got := out["flow_runs"].(map[string]any)["failed_24h"]; got != demoCount(func(t, _ string) bool { return t == "FAILED" })+30 {
		t.Errorf("failed_24h after adding 30: %v", got)
	}
	// A run that ended before the last 24 h is not counted; one scheduled
	// far ahead is.
	old := now.Add(-48 * time.Hour).Format(time.RFC3339)
	ahead := now.AddDate(1, 0, 0).Format(time.RFC3339)
	for i, r := range []struct{ typ, name, at, end string }{{"FAILED", "Failed", old, old}, {"SCHEDULED", "Scheduled", ahead, ""}} {
		id := prefecttest.DemoID("flow_run", fmt.Sprint("dashboard-edge-", i))
		run := map[string]any{
			"id": id, "created": old, "updated": old, "name": fmt.Sprint("edge-", i),
			"flow_id": prefecttest.DemoID("flow", "etl-pipeline"), "deployment_id": prefecttest.DemoID("deployment", "etl-hourly"),
			"state":               map[string]any{"id": prefecttest.DemoID("state", id), "type": r.typ, "name": r.name, "timestamp": old},
			"expected_start_time": r.at, "run_count": 1, "tags": []any{},
		}
		if r.end != "" {
			run["end_time"] = r.end
		}
		e.fake.Put(prefecttest.FlowRuns, run)
	}
	counts = e.ok(t, "get_dashboard", nil)["flow_runs"].(map[string]any)
	if counts["failed_24h"] != demoCount(func(t, _ string) bool { return t == "FAILED" })+30 ||
		counts["scheduled"] != demoCount(func(t, n string) bool { return t == "SCHEDULED" && n != "Late" })+1 {
		t.Errorf("counts with a failure 2 days ago and a run scheduled next year: %v", counts)
	}
	noWrites(t, e.fake)
}

func TestGetDashboardDegradedSection(t *testing.T) {
	e := newEnv(t)
	e.fake.AddFault(prefecttest.Fault{Route: "POST /v2/concurrency_limits/filter", Status: 403, Body: `{"detail":"Forbidden"}`})
	out := e.ok(t, "get_dashboard", nil)
	if m := strs(out["missing"]); !slices.Equal(m, []string{"limits_at_capacity"}) {
		t.Errorf("missing = %v, want [limits_at_capacity]", m)
	}
	errs := rows(t, out, "errors")
	if len(errs) != 1 || !slices.Equal(strs(errs[0]["parts"]), []string{"limits_at_capacity"}) || !strings.Contains(errs[0]["error"].(string), "403") {
		t.Errorf("errors = %v", errs)
	}
	if _, ok := out["limits_at_capacity"]; ok {
		t.Errorf("failed section still has rows: %v", out["limits_at_capacity"])
	}
	if counts := out["flow_runs"].(map[string]any); len(counts) != 8 || counts["late"] != 3.0 {
		t.Errorf("other sections must still answer: counts %v", counts)
	}
	if len(rows(t, out, "recent_failures")) != 5 || len(rows(t, out, "work_pools")) != 2 {
		t.Errorf("healthy sections missing: %v", out)
	}

	// Every count failing: the parts are named, the one error said once.
	e = newEnv(t)
	e.fake.AddFault(prefecttest.Fault{Route: "POST /flow_runs/history", Status: 500})
	out = e.ok(t, "get_dashboard", nil)
	if m := strs(out["missing"]); len(m) != 8 || !strings.HasPrefix(m[0], "flow_runs.") {
		t.Errorf("missing = %v, want the 8 counts", m)
	}
	if errs := rows(t, out, "errors"); len(errs) != 1 || len(strs(errs[0]["parts"])) != 8 {
		t.Errorf("errors = %v, want one error naming 8 parts", errs)
	}
	if _, ok := out["flow_runs"].(map[string]any)["late"]; ok || len(rows(t, out, "recent_failures")) != 5 || len(rows(t, out, "limits_at_capacity")) != 3 {
		t.Errorf("dashboard = %v", out)
	}
}

// Nothing reachable: one tool error, said once, not a dashboard of errors.
func TestGetDashboardTotalFailure(t *testing.T) {
	e := newEnv(t)
	e.fake.AddFault(prefecttest.Fault{Status: 500})
	msg := e.fail(t, "get_dashboard", nil)
	if !strings.Contains(msg, "500") || strings.Count(msg, "500 on") != 1 {
		t.Errorf("error = %q", msg)
	}
	e = newEnv(t)
	e.fake.Close() // connection refused
	msg = e.fail(t, "get_dashboard", nil)
	if !strings.Contains(msg, "unreachable") || strings.Count(msg, "unreachable") != 1 {
		t.Errorf("error = %q", msg)
	}
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i], _ = x.(string)
	}
	return out
}

// TestGetDashboardCountsEqualCounts: the counts read from one run history
// request equal, on the demo and on the large workspace, the eight
// /flow_runs/count requests they replace.
func TestGetDashboardCountsEqualCounts(t *testing.T) {
	since := now.Add(-24 * time.Hour).Format(time.RFC3339)
	state := func(key string, values ...string) map[string]any {
		return map[string]any{key: map[string]any{"any_": values}}
	}
	ended := func(typ string) map[string]any {
		return map[string]any{"state": state("type", typ), "end_time": map[string]any{"after_": since}}
	}
	filters := map[string]map[string]any{
		"running":       {"state": state("type", "RUNNING")},
		"pending":       {"state": state("type", "PENDING")},
		"scheduled":     {"state": map[string]any{"type": map[string]any{"any_": []string{"SCHEDULED"}}, "name": map[string]any{"not_any_": []string{"Late"}}}},
		"late":          {"state": state("name", "Late")},
		"failed_24h":    ended("FAILED"),
		"crashed_24h":   ended("CRASHED"),
		"completed_24h": ended("COMPLETED"),
		"cancelled_24h": ended("CANCELLED"),
	}
	for name, data := range map[string]*prefecttest.Data{"demo": prefecttest.Demo(now), "large": prefecttest.Large(now)} {
		e := newEnv(t, prefecttest.WithData(data))
		counts := e.ok(t, "get_dashboard", nil)["flow_runs"].(map[string]any)
		for key, f := range filters {
			body, _ := json.Marshal(map[string]any{"flow_runs": f})
			resp, err := http.Post(e.fake.URL+"/flow_runs/count", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var n float64
			err = json.NewDecoder(resp.Body).Decode(&n)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if counts[key] != n {
				t.Errorf("%s: %s %v, /flow_runs/count says %v", name, key, counts[key], n)
			}
		}
		t.Logf("%s: %v", name, counts)
	}
}
