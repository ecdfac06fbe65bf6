package tools_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// TestPagerAtPrefectsCap: Prefect refuses limit > 200, so a page of 200
// never asks for the usual extra row; a full page costs one more request of
// a single row, a short one none, whatever the workspace size.
func TestPagerAtPrefectsCap(t *testing.T) {
	for _, tc := range []struct {
		vars, limit, offset int
		count               int
		more                bool
		requests            int
	}{
		{vars: 199, limit: 200, count: 199, requests: 1},
		{vars: 200, limit: 200, count: 200, requests: 2},
		{vars: 201, limit: 200, count: 200, more: true, requests: 2},
		{vars: 450, limit: 200, offset: 200, count: 200, more: true, requests: 2},
		{vars: 450, limit: 200, offset: 400, count: 50, requests: 1},
		{vars: 201, limit: 199, count: 199, more: true, requests: 1},
		{vars: 199, limit: 199, count: 199, requests: 1},
	} {
		t.Run(fmt.Sprintf("%d variables, limit %d, offset %d", tc.vars, tc.limit, tc.offset), func(t *testing.T) {
			data := prefecttest.NewData()
			data.AsOf = now
			for i := range tc.vars {
				data.Add(prefecttest.Variables, map[string]any{
					"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "name": fmt.Sprintf("v%04d", i), "value": i,
					"tags": []any{}, "created": ts(-time.Hour), "updated": ts(-time.Hour),
				})
			}
			e := newEnv(t, prefecttest.WithData(data))
			out := e.ok(t, "get_variables", map[string]any{"limit": tc.limit, "offset": tc.offset})
			if got := len(rows(t, out, "variables")); got != tc.count || out["count"] != float64(tc.count) {
				t.Errorf("%d rows, count %v; want %d", got, out["count"], tc.count)
			}
			if more := out["truncated"] == true; more != tc.more {
				t.Errorf("truncated = %v, want %v", out["truncated"], tc.more)
			}
			if tc.more && out["next_offset"] != float64(tc.offset+tc.count) {
				t.Errorf("next_offset = %v", out["next_offset"])
			}
			if n := e.fake.Count("POST /variables/filter"); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			for _, r := range e.fake.Requests() {
				if r.Status != 200 {
					t.Errorf("%s answered %d: %s", r.Route, r.Status, r.Body)
				}
			}
		})
	}
}
