package tools_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func TestGetWorkPools(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_work_pools", nil)
	size := resultSize(t, out)
	t.Logf("get_work_pools: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 5<<10 {
		t.Errorf("result is %d bytes, budget 5 KB", size)
	}
	pools := rows(t, out, "work_pools")
	if len(pools) != 2 {
		t.Fatalf("%d pools", len(pools))
	}
	k8s := byName(t, pools, "name", prefecttest.DemoKubernetesPool)
	if k8s["status"] != "NOT_READY" || k8s["type"] != "kubernetes" {
		t.Errorf("k8s pool %v", k8s)
	}
	// The list reads no workers: Prefect's NOT_READY says none is online.
	if _, ok := k8s["workers"]; ok {
		t.Errorf("list mode reads no workers: %v", k8s)
	}
	if notes, _ := json.Marshal(k8s["notes"]); !strings.Contains(string(notes), "no worker is online (NOT_READY)") {
		t.Errorf("k8s notes %s", notes)
	}
	if _, ok := k8s["runs_in_use"]; ok {
		t.Errorf("runs_in_use of a pool without a limit: %v", k8s)
	}
	local := byName(t, pools, "name", prefecttest.DemoProcessPool)
	if local["status"] != "READY" || local["concurrency_limit"] != 5.0 || local["runs_in_use"] != 2.0 {
		t.Errorf("local pool %v", local)
	}
	// The list names the queues by priority, with their limits.
	if q, _ := json.Marshal(local["queue_names"]); string(q) != `["high-priority (limit 2)","default","low-priority"]` {
		t.Errorf("queues by priority: %s", q)
	}
	if q, _ := json.Marshal(k8s["queue_names"]); string(q) != `["default (NOT_READY)"]` {
		t.Errorf("k8s queues: %s", q)
	}
	// The pools and every queue: two requests whatever the number of pools
	// or runs (runs in use come with the pool).
	base := len(e.fake.Requests())
	if base != 2 || e.fake.Count("POST /work_queues/filter") != 1 {
		t.Errorf("%d requests, want 2 (pools, queues)", base)
	}
	putInfraRuns(e, 40, "etl-hourly", prefecttest.DemoProcessPool, "default", "RUNNING", "Running")
	e.fake.ResetLog()
	out = e.ok(t, "get_work_pools", nil)
	if got := len(e.fake.Requests()); got != base {
		t.Errorf("%d requests after adding runs, want %d", got, base)
	}
	if local := byName(t, rows(t, out, "work_pools"), "name", prefecttest.DemoProcessPool); local["runs_in_use"] != 42.0 {
		t.Errorf("runs_in_use %v, want 42", local["runs_in_use"])
	}
	noWrites(t, e.fake)
}

func TestGetWorkPoolsDetail(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_work_pools", map[string]any{"filter": map[string]any{"name": map[string]any{"any_": []any{prefecttest.DemoKubernetesPool, prefecttest.DemoProcessPool}}}})
	t.Logf("get_work_pools detail: %d bytes, %d requests", resultSize(t, out), len(e.fake.Requests()))
	pools := rows(t, out, "work_pools")
	local := byName(t, pools, "name", prefecttest.DemoProcessPool)
	if tmpl, _ := json.Marshal(local["job_template"]); string(tmpl) != `{"variables":["command","stream_output=true"]}` {
		t.Errorf("job template %s", tmpl)
	}
	for _, q := range local["queues"].([]any) {
		if m := q.(map[string]any); m["healthy"] != true {
			t.Errorf("local queue %v not healthy", m)
		}
	}
	workers := local["workers"].(map[string]any)
	if workers["online"] != 1.0 || workers["offline"] != 0.0 || workers["last_heartbeat"] != ts(-12*time.Second) {
		t.Errorf("local workers %v", workers)
	}
	k8s := byName(t, pools, "name", prefecttest.DemoKubernetesPool)
	if notes, _ := json.Marshal(k8s["notes"]); !strings.Contains(string(notes), "no worker has registered") {
		t.Errorf("k8s notes %s", notes)
	}
	// The k8s queue was last polled 26 h ago: unhealthy, with its 3 Late runs.
	k8sQueue := byName(t, pools, "name", prefecttest.DemoKubernetesPool)["queues"].([]any)[0].(map[string]any)
	if k8sQueue["healthy"] != false || k8sQueue["late_runs"] != 3.0 {
		t.Errorf("k8s queue %v", k8sQueue)
	}
	// One GET status per queue (4 queues), all GETs.
	if got := e.fake.Count("GET /work_queues/{id}/status"); got != 4 {
		t.Errorf("%d queue status reads, want 4", got)
	}
	// Pools, then per named pool its workers and queues, then the statuses.
	if got := len(e.fake.Requests()); got != 1+2*2+4 {
		t.Errorf("%d requests, want 9", got)
	}

	// Bad input names the valid choices and reaches nobody.
	before := len(e.fake.Requests())
	msg := e.fail(t, "get_work_pools", map[string]any{"filter": map[string]any{"status": map[string]any{}}})
	if !strings.Contains(msg, `"status"`) || !strings.Contains(msg, "name") || !strings.Contains(msg, "type") {
		t.Errorf("bad filter error: %s", msg)
	}
	if msg := e.fail(t, "get_work_pools", map[string]any{"limit": 201}); !strings.Contains(msg, "limit") {
		t.Errorf("bad limit error: %s", msg)
	}
	if len(e.fake.Requests()) != before {
		t.Errorf("bad input reached Prefect")
	}
	noWrites(t, e.fake)
}

func TestGetConcurrencyLimits(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_concurrency_limits", nil)
	size := resultSize(t, out)
	t.Logf("get_concurrency_limits: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 4<<10 {
		t.Errorf("result is %d bytes, budget 4 KB", size)
	}
	limits := rows(t, out, "limits")
	var got []string
	for _, l := range limits {
		s := l["kind"].(string) + ":" + l["name"].(string)
		if l["at_capacity"] == true {
			s += "!"
		}
		got = append(got, s)
	}
	// At capacity first; tag:database shows once, as a tag limit.
	want := "global:external-api!,tag:database!,deployment:etl-hourly!,global:warehouse-writes,work_pool:local-process-pool,work_queue:high-priority"
	if strings.Join(got, ",") != want {
		t.Errorf("limits\n got %s\nwant %s", strings.Join(got, ","), want)
	}
	if out["at_capacity"] != 3.0 || out["count"] != 6.0 {
		t.Errorf("summary %v %v", out["at_capacity"], out["count"])
	}
	ext := limits[0]
	if ext["limit"] != 5.0 || ext["in_use"] != 5.0 || ext["slot_decay_per_second"] != 0.5 {
		t.Errorf("external-api %v", ext)
	}
	tag := limits[1]
	if holders, _ := json.Marshal(tag["held_by_task_runs"]); string(holders) != `["`+prefecttest.DemoID("task_run", "swift-ibis/load")+`"]` {
		t.Errorf("tag holders %s", holders)
	}
	if dep := limits[2]; dep["deployment_id"] != prefecttest.DemoID("deployment", "etl-hourly") || dep["in_use"] != 1.0 || dep["limit"] != 1.0 {
		t.Errorf("deployment limit %v", dep)
	}
	if q := limits[5]; q["work_pool"] != prefecttest.DemoProcessPool || q["in_use"] != 1.0 || q["limit"] != 2.0 {
		t.Errorf("queue limit %v", q)
	}
	// 4 lists + deployment names; runs in use come with pools and queues.
	base := len(e.fake.Requests())
	if base != 5 || e.fake.Count("POST /deployments/filter") != 1 || e.fake.Count("POST /flow_runs/count") != 0 {
		t.Errorf("%d requests, want 5", base)
	}
	putInfraRuns(e, 25, "etl-hourly", prefecttest.DemoProcessPool, "default", "PENDING", "Pending")
	e.fake.ResetLog()
	out = e.ok(t, "get_concurrency_limits", nil)
	if got := len(e.fake.Requests()); got != base {
		t.Errorf("%d requests after adding runs, want %d", got, base)
	}
	// 27 active runs in a pool limited to 5: now at capacity, sorted up.
	pool := byName(t, rows(t, out, "limits"), "name", prefecttest.DemoProcessPool)
	if pool["in_use"] != 27.0 || pool["at_capacity"] != true {
		t.Errorf("pool limit after adding runs %v", pool)
	}
	noWrites(t, e.fake)
}

// TestGetWorkPoolsLargeWorkspace: on the large workspace (60 pools, 240
// queues) the default page stays within 12 KB and says there is more.
func TestGetWorkPoolsLargeWorkspace(t *testing.T) {
	e := newEnv(t, prefecttest.WithData(prefecttest.Large(now)))
	out := e.ok(t, "get_work_pools", nil)
	size := resultSize(t, out)
	t.Logf("get_work_pools on the large workspace: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 12<<10 {
		t.Errorf("result is %d bytes, budget 12 KB", size)
	}
	if len(rows(t, out, "work_pools")) != 50 || out["truncated"] != true || out["next_offset"] != 50.0 {
		t.Errorf("page of 50 of 60 pools not signalled: truncated %v, next_offset %v", out["truncated"], out["next_offset"])
	}
	if notes, _ := json.Marshal(out["notes"]); !strings.Contains(string(notes), "more than 200 queues") {
		t.Errorf("240 queues, one read of 200: notes %s", notes)
	}
}

// TestGetConcurrencyLimitsLargeWorkspace: 150+ limits stay within 12 KB,
// those at capacity first, and the cut is signalled.
func TestGetConcurrencyLimitsLargeWorkspace(t *testing.T) {
	e := newEnv(t, prefecttest.WithData(prefecttest.Large(now)))
	out := e.ok(t, "get_concurrency_limits", nil)
	size := resultSize(t, out)
	t.Logf("get_concurrency_limits on the large workspace: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 12<<10 {
		t.Errorf("result is %d bytes, budget 12 KB", size)
	}
	limits := rows(t, out, "limits")
	count, _ := out["count"].(float64)
	if len(limits) != 100 || count <= 100 || out["truncated"] != true || !strings.Contains(out["note"].(string), "showing 100 of") {
		t.Errorf("%d limits shown of %v, truncated %v, note %v", len(limits), out["count"], out["truncated"], out["note"])
	}
	if full, _ := out["at_capacity"].(float64); full < 1 || limits[0]["at_capacity"] != true {
		t.Errorf("limits at capacity not first: %v", limits[0])
	}
}
