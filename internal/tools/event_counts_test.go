package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func TestCountEvents(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name  string
		args  map[string]any
		route string
		body  string // the request body Prefect gets
		check func(t *testing.T, out map[string]any, rows []map[string]any)
	}{
		{
			name: "by event type", args: map[string]any{"countable": "event"},
			route: "POST /events/count-by/{countable}",
			body:  `{"filter":{"occurred":{"since":"` + ts(-24*time.Hour) + `","until":"` + ts(0) + `"}}}`,
			check: func(t *testing.T, out map[string]any, r []map[string]any) {
				if out["total"] != 57.0 || out["distinct"] != 17.0 || len(r) != 17 || out["truncated"] != nil {
					t.Errorf("total %v distinct %v rows %d", out["total"], out["distinct"], len(r))
				}
				if r[0]["value"] != "prefect.flow-run.Running" || r[0]["count"] != 12.0 || r[0]["first"] != ts(-10*time.Hour) {
					t.Errorf("top row %v", r[0])
				}
				if w := out["window"].(map[string]any); w["defaulted"] != true {
					t.Errorf("window %v", w)
				}
			},
		},
		{
			// No arguments at all: by event over the last 24 h, as the description says.
			name: "no arguments", args: map[string]any{},
			route: "POST /events/count-by/{countable}",
			body:  `{"filter":{"occurred":{"since":"` + ts(-24*time.Hour) + `","until":"` + ts(0) + `"}}}`,
			check: func(t *testing.T, out map[string]any, r []map[string]any) {
				if out["countable"] != "event" || out["total"] != 57.0 || len(r) != 17 {
					t.Errorf("countable %v total %v rows %d", out["countable"], out["total"], len(r))
				}
				if w := out["window"].(map[string]any); w["defaulted"] != true || w["since"] != ts(-24*time.Hour) {
					t.Errorf("window %v", w)
				}
			},
		},
		{
			name: "failed runs by resource", args: map[string]any{"countable": "resource", "event_type_prefix": "prefect.flow-run.Failed", "since": "-1d"},
			route: "POST /events/count-by/{countable}",
			body:  `{"filter":{"event":{"prefix":["prefect.flow-run.Failed"]},"occurred":{"since":"` + ts(-24*time.Hour) + `","until":"` + ts(0) + `"}}}`,
			check: func(t *testing.T, out map[string]any, r []map[string]any) {
				var labels []string
				for _, row := range r {
					labels = append(labels, row["label"].(string))
					if row["count"] != 1.0 {
						t.Errorf("row %v", row)
					}
				}
				if strings.Join(labels, ",") != "crimson-falcon,gentle-lynx,proud-walrus,tiny-crab" || out["total"] != 4.0 {
					t.Errorf("labels %v total %v", labels, out["total"])
				}
				if r[0]["value"] != "prefect.flow-run."+prefecttest.DemoID("flow_run", "crimson-falcon") {
					t.Errorf("value %v", r[0]["value"])
				}
			},
		},
		{
			name: "hourly buckets", args: map[string]any{"countable": "time"},
			route: "POST /events/count-by/{countable}",
			body:  `{"filter":{"occurred":{"since":"` + ts(-24*time.Hour) + `","until":"` + ts(0) + `"}},"time_interval":1,"time_unit":"hour"}`,
			check: func(t *testing.T, out map[string]any, r []map[string]any) {
				sum := 0.0
				for _, row := range r {
					sum += row["count"].(float64)
				}
				if len(r) != 25 || out["bucket"] != "1 hour" || sum != 57 || out["total"] != 57.0 {
					t.Errorf("%d buckets of %v, sum %v total %v", len(r), out["bucket"], sum, out["total"])
				}
				if r[23]["start"] != ts(-time.Hour) || r[23]["count"] != 28.0 {
					t.Errorf("last full hour %v", r[23])
				}
			},
		},
		{
			name: "minute buckets of worker heartbeats", args: map[string]any{"countable": "time", "event_type_prefix": "prefect.worker.", "since": "-5m", "time_unit": "minute"},
			route: "POST /events/count-by/{countable}",
			body:  `{"filter":{"event":{"prefix":["prefect.worker."]},"occurred":{"since":"` + ts(-5*time.Minute) + `","until":"` + ts(0) + `"}},"time_interval":1,"time_unit":"minute"}`,
			check: func(t *testing.T, out map[string]any, r []map[string]any) {
				var got []string
				for _, row := range r {
					got = append(got, fmt.Sprintf("%s=%v", row["start"], row["count"]))
				}
				want := fmt.Sprintf("%s=0 %s=0 %s=0 %s=1 %s=2 %s=0", ts(-5*time.Minute), ts(-4*time.Minute), ts(-3*time.Minute), ts(-2*time.Minute), ts(-time.Minute), ts(0))
				if strings.Join(got, " ") != want {
					t.Errorf("rows %v", got)
				}
			},
		},
		{
			name: "days", args: map[string]any{"countable": "day", "since": "-3d"},
			route: "POST /events/count-by/{countable}",
			body:  `{"filter":{"occurred":{"since":"` + ts(-3*24*time.Hour) + `","until":"` + ts(0) + `"}}}`,
			check: func(t *testing.T, out map[string]any, r []map[string]any) {
				if len(r) != 4 || r[2]["count"] != 1.0 || r[3]["count"] != 57.0 || r[3]["start"] != now.Truncate(24*time.Hour).Format(time.RFC3339) {
					t.Errorf("days %v", r)
				}
			},
		},
		{
			name: "one resource, cut to the top 3", args: map[string]any{"countable": "event", "resource_id": "prefect.flow-run." + prefecttest.DemoID("flow_run", "patient-badger"), "limit": 3},
			route: "POST /events/count-by/{countable}",
			body:  `{"filter":{"occurred":{"since":"` + ts(-24*time.Hour) + `","until":"` + ts(0) + `"},"resource":{"id":["prefect.flow-run.` + prefecttest.DemoID("flow_run", "patient-badger") + `"]}}}`,
			check: func(t *testing.T, out map[string]any, r []map[string]any) {
				if len(r) != 3 || out["truncated"] != true || out["distinct"] != 5.0 || out["total"] != 7.0 || !strings.Contains(out["note"].(string), "2 more event values") {
					t.Errorf("cut: %v", out)
				}
				if r[0]["value"] != "prefect.flow-run.AwaitingRetry" || r[0]["count"] != 2.0 {
					t.Errorf("top %v", r[0])
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetLog()
			out := e.ok(t, "count_events", tc.args)
			size := resultSize(t, out)
			t.Logf("count_events(%s): %d bytes", tc.name, size)
			if size > 6<<10 {
				t.Errorf("result is %d bytes, budget 6 KB", size)
			}
			reqs := e.fake.Requests()
			if len(reqs) != 1 || reqs[0].Route != tc.route {
				t.Fatalf("requests %v", reqs)
			}
			if string(reqs[0].Body) != tc.body {
				t.Errorf("body %s\nwant %s", reqs[0].Body, tc.body)
			}
			tc.check(t, out, rows(t, out, "rows"))
		})
	}
	noWrites(t, e.fake)
}

func TestCountEventsBadInput(t *testing.T) {
	e := newEnv(t)
	bad := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"countable": "flows"}, []string{"event", "resource", "day", "time"}},
		{map[string]any{"countable": "time", "since": "-2h", "time_unit": "second"}, []string{"at most 100", "larger time_unit"}},
		{map[string]any{"countable": "time", "time_unit": "fortnight"}, []string{"second", "minute", "hour", "day", "week"}},
		{map[string]any{"countable": "time", "time_unit": "hour", "time_interval": 0.001}, []string{"at least 0.01"}},
		{map[string]any{"countable": "event", "time_unit": "hour"}, []string{"countable=time only"}},
		{map[string]any{"countable": "day", "since": "-400d"}, []string{"401 days"}},
		{map[string]any{"countable": "event", "since": "+1h"}, []string{"since", "after", "until"}},
		{map[string]any{"countable": "event", "since": "last tuesday"}, []string{"RFC 3339", "-24h"}},
		{map[string]any{"countable": "event", "limit": 101}, []string{"limit"}},
	}
	for _, b := range bad {
		msg := e.fail(t, "count_events", b.args)
		for _, w := range b.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %s, want %q", b.args, msg, w)
			}
		}
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("bad input reached Prefect: %d requests", n)
	}
	// Without time_unit a week is cut into 6-hour buckets, not 169 hours.
	out := e.ok(t, "count_events", map[string]any{"countable": "time", "since": "-7d"})
	if out["bucket"] != "6 hour" || len(rows(t, out, "rows")) != 29 {
		t.Errorf("auto bucket %v, %d rows", out["bucket"], len(rows(t, out, "rows")))
	}
}
