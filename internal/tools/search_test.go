package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// hits renders search results as "kind:name[slug|pool](matched)".
func hits(t *testing.T, out map[string]any) string {
	t.Helper()
	var parts []string
	for _, r := range rows(t, out, "results") {
		s := r["kind"].(string) + ":" + r["name"].(string)
		if r["slug"] != nil {
			s += "[" + r["slug"].(string) + "]"
		}
		if r["pool"] != nil {
			s += "[" + r["pool"].(string) + "]"
		}
		parts = append(parts, s+"("+r["matched"].(string)+")")
		if r["id"] == nil || r["id"] == "" {
			t.Errorf("row without id: %v", r)
		}
	}
	return strings.Join(parts, " ")
}

func TestSearch(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name     string
		args     map[string]any
		want     string
		requests map[string]int
	}{
		{
			name: "name and tag", args: map[string]any{"query": "etl"},
			want:     "flow:etl-pipeline(name) deployment:backfill[etl-pipeline/backfill](tag) deployment:etl-hourly[etl-pipeline/etl-hourly](name)",
			requests: map[string]int{"POST /flows/filter": 2, "POST /deployments/filter": 1, "POST /work_pools/filter": 1, "POST /work_queues/filter": 1},
		},
		{
			// Names match without case; tags only exactly.
			name: "case-insensitive names", args: map[string]any{"query": "ETL"},
			want:     "flow:etl-pipeline(name) deployment:etl-hourly[etl-pipeline/etl-hourly](name)",
			requests: map[string]int{"POST /flows/filter": 2, "POST /deployments/filter": 1, "POST /work_pools/filter": 1, "POST /work_queues/filter": 1},
		},
		{
			name: "queues with their pools", args: map[string]any{"query": "default", "kinds": []any{"work_queue"}},
			want:     "work_queue:default[local-process-pool](name) work_queue:default[k8s-pool](name)",
			requests: map[string]int{"POST /work_queues/filter": 1},
		},
		{
			name: "pools", args: map[string]any{"query": "POOL", "kinds": []any{"work_pool"}},
			want:     "work_pool:k8s-pool(name) work_pool:local-process-pool(name)",
			requests: map[string]int{"POST /work_pools/filter": 1},
		},
		{
			// Prefect's like_ reads _ as a wildcard: "etl_" would match
			// etl-pipeline there; the result keeps exact substrings only.
			name: "wildcards are literal", args: map[string]any{"query": "etl_", "kinds": []any{"flow"}},
			want:     "",
			requests: map[string]int{"POST /flows/filter": 1},
		},
		{
			name: "deployment by tag", args: map[string]any{"query": "reporting", "kinds": []any{"deployment", "flow"}},
			want:     "deployment:nightly[nightly-report/nightly](tag) deployment:weekly-report[report-builder/weekly-report](tag)",
			requests: map[string]int{"POST /flows/filter": 2, "POST /deployments/filter": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetLog()
			out := e.ok(t, "search", tc.args)
			size := resultSize(t, out)
			t.Logf("search(%v): %d bytes, %d requests", tc.args, size, len(e.fake.Requests()))
			if size > 6<<10 {
				t.Errorf("result is %d bytes, budget 6 KB", size)
			}
			if got := hits(t, out); got != tc.want {
				t.Errorf("hits\n got %s\nwant %s", got, tc.want)
			}
			total := 0
			for route, n := range tc.requests {
				total += n
				if got := e.fake.Count(route); got != n {
					t.Errorf("%s: %d requests, want %d", route, got, n)
				}
			}
			if len(e.fake.Requests()) != total {
				t.Errorf("%d requests, want %d: %v", len(e.fake.Requests()), total, e.fake.Requests())
			}
		})
	}

	// Caps: each kind stops at limit and says so.
	out := e.ok(t, "search", map[string]any{"query": "t", "kinds": []any{"flow", "work_queue"}, "limit": 2})
	kinds := out["kinds"].(map[string]any)
	if f := kinds["flow"].(map[string]any); f["count"] != 2.0 || f["stopped_early"] != true {
		t.Errorf("flow cap %v", f)
	}
	if q := kinds["work_queue"].(map[string]any); q["count"] != 2.0 || q["stopped_early"] != true || q["scanned"] != 4.0 {
		t.Errorf("queue cap %v", q)
	}
	if got := hits(t, out); got != "flow:etl-pipeline(name) flow:flaky-retry(name) work_queue:default[local-process-pool](name) work_queue:default[k8s-pool](name)" {
		t.Errorf("capped hits %s", got)
	}
	noWrites(t, e.fake)
}

func TestSearchManyDeploymentsOneFlowLookup(t *testing.T) {
	e := newEnv(t)
	at := now.Add(-time.Hour).Format(time.RFC3339)
	for i := range 30 {
		flowID := fmt.Sprintf("00000000-0000-4000-8000-%012d", 100+i)
		e.fake.Put(prefecttest.Flows, map[string]any{"id": flowID, "created": at, "updated": at, "name": fmt.Sprintf("bulk-flow-%02d", i), "tags": []any{}})
		e.fake.Put(prefecttest.Deployments, map[string]any{
			"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", 200+i), "created": at, "updated": at,
			"name": fmt.Sprintf("bulk-%02d", i), "flow_id": flowID, "paused": false, "tags": []any{},
		})
	}
	out := e.ok(t, "search", map[string]any{"query": "bulk-", "kinds": []any{"deployment"}, "limit": 25})
	res := rows(t, out, "results")
	if len(res) != 25 || res[0]["slug"] != "bulk-flow-00/bulk-00" || res[24]["slug"] != "bulk-flow-24/bulk-24" {
		t.Errorf("%d rows, first %v, last %v", len(res), res[0], res[len(res)-1])
	}
	if d := out["kinds"].(map[string]any)["deployment"].(map[string]any); d["stopped_early"] != true {
		t.Errorf("deployment kind %v", d)
	}
	if n, f := e.fake.Count("POST /deployments/filter"), e.fake.Count("POST /flows/filter"); n != 1 || f != 1 {
		t.Errorf("%d deployment and %d flow requests for 25 rows, want 1 and 1", n, f)
	}
	size := resultSize(t, out)
	t.Logf("search(25 deployments): %d bytes", size)
	if size > 6<<10 {
		t.Errorf("result is %d bytes, budget 6 KB", size)
	}
}

func TestSearchBadInput(t *testing.T) {
	e := newEnv(t)
	bad := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"query": "  "}, []string{"query is required"}},
		{map[string]any{}, []string{"query"}},
		{map[string]any{"query": strings.Repeat("q", 101)}, []string{"at most 100"}},
		{map[string]any{"query": "etl", "kinds": []any{"flows"}}, []string{"flow", "deployment", "work_pool", "work_queue"}},
		{map[string]any{"query": "etl", "limit": 51}, []string{"limit"}},
	}
	for _, b := range bad {
		msg := e.fail(t, "search", b.args)
		for _, w := range b.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %s, want %q", b.args, msg, w)
			}
		}
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("bad input reached Prefect: %d requests", n)
	}
}
