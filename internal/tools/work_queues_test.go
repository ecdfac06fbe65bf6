package tools_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func TestGetWorkQueues(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_work_queues", nil)
	size := resultSize(t, out)
	t.Logf("get_work_queues: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 6<<10 {
		t.Errorf("result is %d bytes, budget 6 KB", size)
	}
	queues := rows(t, out, "work_queues")
	if len(queues) != 4 || out["count"] != 4.0 || out["truncated"] != nil {
		t.Fatalf("queues %v", queues)
	}
	high := byName(t, queues, "name", "high-priority")
	if high["pool"] != prefecttest.DemoProcessPool || high["priority"] != 1.0 || high["concurrency_limit"] != 2.0 ||
		high["status"] != "READY" || high["polled_ago"] != nil || high["last_polled"] != ts(-10*time.Second) {
		t.Errorf("high-priority %v", high)
	}
	var k8s map[string]any
	for _, q := range queues {
		if q["pool"] == prefecttest.DemoKubernetesPool {
			k8s = q
		}
	}
	if k8s == nil || k8s["name"] != "default" || k8s["status"] != "NOT_READY" || k8s["last_polled"] != ts(-26*time.Hour) {
		t.Errorf("k8s queue %v", k8s)
	}
	if e.fake.Count("POST /work_queues/filter") != 1 || len(e.fake.Requests()) != 1 {
		t.Errorf("requests %v", e.fake.Requests())
	}

	cases := []struct {
		args  map[string]any
		names string
		route string
	}{
		{map[string]any{"work_pool_name": prefecttest.DemoProcessPool}, "high-priority,default,low-priority", "POST /work_pools/{work_pool_name}/queues/filter"},
		{map[string]any{"filter": map[string]any{"name": map[string]any{"any_": []any{"default"}}}}, "default,default", "POST /work_queues/filter"},
		{map[string]any{"filter": map[string]any{"name": map[string]any{"startswith_": []any{"HIGH"}}}}, "high-priority", "POST /work_queues/filter"},
	}
	for _, tc := range cases {
		e.fake.ResetLog()
		out := e.ok(t, "get_work_queues", tc.args)
		var names []string
		for _, q := range rows(t, out, "work_queues") {
			names = append(names, q["name"].(string))
		}
		if strings.Join(names, ",") != tc.names {
			t.Errorf("%v: %v, want %s", tc.args, names, tc.names)
		}
		if reqs := e.fake.Requests(); len(reqs) != 1 || reqs[0].Route != tc.route {
			t.Errorf("%v: requests %v", tc.args, reqs)
		}
	}

	page := e.ok(t, "get_work_queues", map[string]any{"limit": 1})
	if len(rows(t, page, "work_queues")) != 1 || page["truncated"] != true || page["next_offset"] != 1.0 {
		t.Errorf("limit 1: %v", page)
	}

	// A queue no worker ever polled is named in the note.
	e.fake.Put(prefecttest.WorkQueues, map[string]any{
		"id": "7d1e2f30-4a5b-4c6d-8e7f-90a1b2c3d4e5", "created": "2026-11-20T00:00:00Z", "updated": "2026-11-20T00:00:00Z",
		"name": "gpu", "description": "", "is_paused": false, "concurrency_limit": nil, "priority": 3,
		"work_pool_id": prefecttest.DemoID("work_pool", prefecttest.DemoKubernetesPool), "filter": nil,
		"last_polled": nil, "work_pool_name": prefecttest.DemoKubernetesPool, "status": "NOT_READY",
	})
	out = e.ok(t, "get_work_queues", map[string]any{"work_pool_name": prefecttest.DemoKubernetesPool})
	if note, _ := out["note"].(string); !strings.Contains(note, "never polled by a worker: k8s-pool/gpu") {
		t.Errorf("note %v", out["note"])
	}

	bad := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"filter": map[string]any{"pool": map[string]any{"any_": []any{"x"}}}}, []string{"WorkQueueFilter", "id", "name"}},
		{map[string]any{"work_pool_name": "no-such-pool"}, []string{"work pool no-such-pool was not found", "get_work_pools"}},
		{map[string]any{"offset": -1}, []string{"offset"}},
	}
	for _, b := range bad {
		msg := e.fail(t, "get_work_queues", b.args)
		for _, w := range b.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %s, want %q", b.args, msg, w)
			}
		}
	}
	for _, r := range e.fake.Requests() {
		if strings.Contains(r.Path, "get_runs") || strings.Contains(r.Path, "get_scheduled_flow_runs") {
			t.Errorf("a polling endpoint was called: %s", r.Path)
		}
	}
	noWrites(t, e.fake)
}
