package fakeprefect

import (
	"encoding/json"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var largeNow = time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)

// TestLargeShapeAndMemory checks the large workspace's sizes, that it is
// deterministic, and that it stays small in memory.
func TestLargeShapeAndMemory(t *testing.T) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	d := Large(largeNow)
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("built in %v, %d MB of heap", took, heap>>20)
	const maxHeap = 200 << 20
	if heap > maxHeap {
		t.Errorf("the large workspace takes %d MB of heap, more than %d MB", heap>>20, maxHeap>>20)
	}
	// The event index (time order, resource postings, a name and a
	// resource number per event) is built on first use, within bounds.
	d.tables[Events].eventIndex()
	runtime.GC()
	runtime.ReadMemStats(&before)
	index := int64(before.HeapAlloc) - int64(after.HeapAlloc)
	t.Logf("event index: %d MB of heap", index>>20)
	const maxIndex = 32 << 20
	if index > maxIndex {
		t.Errorf("the large workspace's event index takes %d MB of heap, more than %d MB", index>>20, maxIndex>>20)
	}
	demo := Demo(largeNow)
	sc := LargeScale()
	for _, c := range []struct {
		collection string
		generated  int
	}{
		{WorkPools, sc.WorkPools}, {WorkQueues, sc.WorkPools * sc.QueuesPerPool}, {Workers, sc.Workers},
		{Flows, sc.Flows}, {Deployments, sc.Deployments}, {FlowRuns, sc.FlowRuns}, {TaskRuns, sc.TaskRuns},
		{Events, sc.Events}, {Automations, sc.Automations},
	} {
		if got, want := d.Len(c.collection), demo.Len(c.collection)+c.generated; got != want {
			t.Errorf("%s: %d objects, want %d", c.collection, got, want)
		}
	}
	limits := d.Len(ConcurrencyLimits) + d.Len(V2ConcurrencyLimits) - demo.Len(ConcurrencyLimits) - demo.Len(V2ConcurrencyLimits)
	for _, pool := range d.Objects(WorkPools) {
		if pool["concurrency_limit"] != nil {
			limits++
		}
	}
	for _, q := range d.Objects(WorkQueues) {
		if q["concurrency_limit"] != nil {
			limits++
		}
	}
	if limits < sc.ConcurrencyLimits {
		t.Errorf("%d concurrency limits, want at least %d", limits, sc.ConcurrencyLimits)
	}
	// Every demo object is still there, unchanged.
	for _, c := range CollectionNames() {
		for _, obj := range demo.Objects(c) {
			if id, _ := obj["id"].(string); id != "" && !reflect.DeepEqual(d.Find(c, id), obj) {
				t.Fatalf("demo %s %s differs in the large workspace", c, id)
			}
		}
	}
	names := map[string]bool{}
	for _, dep := range d.Objects(Deployments) {
		key := dep["flow_id"].(string) + "/" + dep["name"].(string)
		if names[key] {
			t.Fatalf("two deployments of one flow are named %q", dep["name"])
		}
		names[key] = true
	}
	again := largeFake(t).data // built separately, by the same call
	for _, i := range []int{0, 777, 49_999} {
		id := genID("flow_run", i)
		if !reflect.DeepEqual(d.Find(FlowRuns, id), again.Find(FlowRuns, id)) {
			t.Fatalf("flow run %d differs between two builds", i)
		}
	}
}

// TestLargeRowsReadAsTheirObjects checks that the compact rows' field
// reads agree with the objects they answer, so filters see what clients see.
func TestLargeRowsReadAsTheirObjects(t *testing.T) {
	d := largeFake(t).data
	keys := map[string][]string{
		FlowRuns: {"id", "name", "flow_id", "deployment_id", "work_queue_id", "work_queue_name", "state_type", "state_name",
			"state_id", "expected_start_time", "start_time", "end_time", "next_scheduled_start_time", "tags",
			"parent_task_run_id", "created_by", "idempotency_key", "flow_version", "work_pool_name"},
		TaskRuns: {"id", "name", "flow_run_id", "state_type", "state_name", "start_time", "expected_start_time", "end_time", "tags"},
		Events:   {"id", "occurred", "received", "event", "resource", "related"},
	}
	for collection, ks := range keys {
		recs := d.all(collection)
		for i := 0; i < len(recs); i += 997 {
			r := recs[i]
			obj := r.whole()
			for _, k := range ks {
				if !reflect.DeepEqual(r.get(k), obj[k]) {
					t.Fatalf("%s %d: get(%q) = %v, object has %v", collection, i, k, r.get(k), obj[k])
				}
				if tt, ok := timeOf(r, k); ok {
					if want, _ := parseTime(obj[k]); !tt.Equal(want) {
						t.Fatalf("%s %d: timeOf(%q) = %v, object has %v", collection, i, k, tt, obj[k])
					}
				}
			}
			if st, _ := obj["state"].(map[string]any); st != nil && (st["type"] != obj["state_type"] || st["name"] != obj["state_name"]) {
				t.Fatalf("%s %d: state %v disagrees with state_type/state_name", collection, i, st)
			}
			if res, rel := eventResourceIDs(r); collection == Events {
				want, wantRel := eventResourceIDs(object(obj))
				if res != want || !slices.Equal(rel, wantRel) {
					t.Fatalf("event %d: resource ids %q %q, object has %q %q", i, res, rel, want, wantRel)
				}
			}
		}
	}
}

// TestLargeFiltersMatchBruteForce answers the main list and filter
// endpoints on the large workspace and checks them against the same
// question answered by brute force over every object.
func TestLargeFiltersMatchBruteForce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every object of the large workspace (about 10 s of CPU)")
	}
	s := largeFake(t)
	data := s.data
	// The brute force reads the objects as clients get them.
	runs := wholes(data.all(FlowRuns))
	tasks := wholes(data.all(TaskRuns))
	events := wholes(data.all(Events))
	dep := genID("deployment", 7)
	flow := genID("flow", 3)
	run := genID("flow_run", 1234)
	day := largeNow.Add(-24 * time.Hour)
	pool := data.Objects(WorkPools)[5]
	queuesOfPool := map[string]bool{}
	for _, q := range data.Objects(WorkQueues) {
		if q["work_pool_id"] == pool["id"] {
			queuesOfPool[q["id"].(string)] = true
		}
	}
	at := func(obj map[string]any, key string) time.Time { tt, _ := parseTime(obj[key]); return tt }
	ids := func(objs []map[string]any) []string {
		out := []string{}
		for _, o := range objs {
			out = append(out, o["id"].(string))
		}
		return out
	}
	where := func(objs []map[string]any, keep func(map[string]any) bool) []map[string]any {
		var out []map[string]any
		for _, o := range objs {
			if keep(o) {
				out = append(out, o)
			}
		}
		return out
	}
	byTimeDesc := func(objs []map[string]any, key ...string) []map[string]any {
		get := func(o map[string]any) time.Time {
			for _, k := range key {
				if o[k] != nil {
					return at(o, k)
				}
			}
			return time.Time{}
		}
		slices.SortStableFunc(objs, func(a, b map[string]any) int { return get(b).Compare(get(a)) })
		return objs
	}
	first := func(objs []map[string]any, n int) []map[string]any { return objs[:min(n, len(objs))] }

	tests := []struct {
		name, path, body string
		want             any // []string of ids, or a count
	}{
		{"runs of a deployment", "/flow_runs/filter",
			`{"limit":200,"sort":"EXPECTED_START_TIME_DESC","deployments":{"id":{"any_":["` + dep + `"]}}}`,
			ids(first(byTimeDesc(where(runs, func(o map[string]any) bool { return o["deployment_id"] == dep }), "expected_start_time"), 200))},
		{"latest runs", "/flow_runs/filter", `{"limit":50,"sort":"START_TIME_DESC"}`,
			ids(first(byTimeDesc(where(runs, func(map[string]any) bool { return true }), "start_time", "expected_start_time"), 50))},
		{"failed or crashed in the last day", "/flow_runs/filter",
			`{"limit":200,"sort":"START_TIME_DESC","flow_runs":{"state":{"type":{"any_":["FAILED","CRASHED"]}},"expected_start_time":{"after_":"` + day.Format(isoMicros) + `"}}}`,
			ids(first(byTimeDesc(where(runs, func(o map[string]any) bool {
				return (o["state_type"] == "FAILED" || o["state_type"] == "CRASHED") && !at(o, "expected_start_time").Before(day)
			}), "start_time", "expected_start_time"), 200))},
		// Time bounds use an index on the column (inclusive at both ends).
		{"count of runs that ended in the last day", "/flow_runs/count",
			`{"flow_runs":{"end_time":{"after_":"` + day.Format(isoMicros) + `"}}}`,
			len(where(runs, func(o map[string]any) bool { return o["end_time"] != nil && !at(o, "end_time").Before(day) }))},
		{"count of runs expected in a closed window, bounds exact", "/flow_runs/count",
			`{"flow_runs":{"expected_start_time":{"after_":"` + at(runs[10], "expected_start_time").Format(isoMicros) + `","before_":"` + at(runs[3], "expected_start_time").Format(isoMicros) + `"}}}`,
			len(where(runs, func(o map[string]any) bool {
				e := at(o, "expected_start_time")
				return !e.Before(at(runs[10], "expected_start_time")) && !e.After(at(runs[3], "expected_start_time"))
			}))},
		{"count of runs running now or ended in the last day (or_)", "/flow_runs/count",
			`{"flow_runs":{"operator":"or_","state":{"type":{"any_":["RUNNING"]}},"end_time":{"after_":"` + day.Format(isoMicros) + `"}}}`,
			len(where(runs, func(o map[string]any) bool {
				return o["state_type"] == "RUNNING" || (o["end_time"] != nil && !at(o, "end_time").Before(day))
			}))},
		{"count of runs of a flow", "/flow_runs/count", `{"flows":{"id":{"any_":["` + flow + `"]}}}`,
			len(where(runs, func(o map[string]any) bool { return o["flow_id"] == flow }))},
		{"count of late runs", "/flow_runs/count", `{"flow_runs":{"state":{"name":{"any_":["Late"]}}}}`,
			len(where(runs, func(o map[string]any) bool { return o["state_name"] == "Late" }))},
		{"count of runs in a pool", "/flow_runs/count", `{"work_pools":{"name":{"any_":["` + pool["name"].(string) + `"]}}}`,
			len(where(runs, func(o map[string]any) bool { q, _ := o["work_queue_id"].(string); return queuesOfPool[q] }))},
		{"runs by id", "/flow_runs/filter", `{"sort":"ID_DESC","flow_runs":{"id":{"any_":["` + run + `","` + genID("flow_run", 99) + `"]}}}`,
			func() []string {
				out := []string{run, genID("flow_run", 99)}
				slices.Sort(out)
				slices.Reverse(out)
				return out
			}()},
		{"a run or the children of a task (or_)", "/flow_runs/filter",
			`{"sort":"EXPECTED_START_TIME_ASC","flow_runs":{"operator":"or_","id":{"any_":["` + run + `"]},"parent_task_run_id":{"any_":["` + DemoID("task_run", "proud-walrus/child-flow") + `"]}}}`,
			func() []string {
				rows := where(runs, func(o map[string]any) bool {
					return o["id"] == run || o["parent_task_run_id"] == DemoID("task_run", "proud-walrus/child-flow")
				})
				slices.SortStableFunc(rows, func(a, b map[string]any) int {
					return at(a, "expected_start_time").Compare(at(b, "expected_start_time"))
				})
				return ids(rows)
			}()},
		{"task runs of a run", "/task_runs/filter", `{"sort":"EXPECTED_START_TIME_DESC","task_runs":{"flow_run_id":{"any_":["` + run + `"]}}}`,
			ids(byTimeDesc(where(tasks, func(o map[string]any) bool { return o["flow_run_id"] == run }), "expected_start_time"))},
		{"count of failed task runs", "/task_runs/count", `{"task_runs":{"state":{"type":{"any_":["FAILED"]}}}}`,
			len(where(tasks, func(o map[string]any) bool { return o["state_type"] == "FAILED" }))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, s, tc.path, tc.body)
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, body)
			}
			switch want := tc.want.(type) {
			case int:
				if body != strconv.Itoa(want) {
					t.Fatalf("count = %s, brute force = %d", body, want)
				}
				if want == 0 {
					t.Fatal("the check is empty: pick a filter that matches")
				}
			case []string:
				var got []map[string]any
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(got), want) {
					t.Fatalf("got %d rows %.200v, brute force %d rows %.200v", len(got), ids(got), len(want), want)
				}
				if len(want) == 0 {
					t.Fatal("the check is empty: pick a filter that matches")
				}
			}
		})
	}

	t.Run("events of a run", func(t *testing.T) {
		code, body := post(t, s, "/events/filter", `{"limit":50,"filter":{"any_resource":{"id":["prefect.flow-run.`+run+`"]}}}`)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		var page struct {
			Events []map[string]any `json:"events"`
			Total  int              `json:"total"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		want := byTimeDesc(where(events, func(o map[string]any) bool {
			return strings.HasSuffix(o["resource"].(map[string]any)["prefect.resource.id"].(string), run)
		}), "occurred")
		if page.Total != len(want) || !slices.Equal(ids(page.Events), ids(first(want, 50))) || len(want) == 0 {
			t.Fatalf("events %v (total %d), brute force %v", ids(page.Events), page.Total, ids(want))
		}
	})
	t.Run("events of the last day", func(t *testing.T) {
		code, body := post(t, s, "/events/filter", `{"limit":50,"filter":{"occurred":{"since":"`+day.Format(isoMicros)+`"}}}`)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		var page struct {
			Events []map[string]any `json:"events"`
			Total  int              `json:"total"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		want := byTimeDesc(where(events, func(o map[string]any) bool {
			tt := at(o, "occurred")
			return !tt.Before(day) && !tt.After(largeNow)
		}), "occurred")
		if page.Total != len(want) || !slices.Equal(ids(page.Events), ids(first(want, 50))) || len(want) == 0 {
			t.Fatalf("%d events (total %d), brute force %d", len(page.Events), page.Total, len(want))
		}
	})
	t.Run("history of the last day", func(t *testing.T) {
		code, body := post(t, s, "/flow_runs/history", `{"history_start":"`+day.Format(isoMicros)+`","history_end":"`+largeNow.Format(isoMicros)+`","history_interval_seconds":3600}`)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		var buckets []struct {
			States []struct {
				Count int `json:"count_runs"`
			} `json:"states"`
		}
		if err := json.Unmarshal([]byte(body), &buckets); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, b := range buckets {
			for _, st := range b.States {
				total += st.Count
			}
		}
		want := len(where(runs, func(o map[string]any) bool {
			tt := at(o, "expected_start_time")
			return !tt.Before(day) && tt.Before(largeNow)
		}))
		if len(buckets) != 24 || total != want || want == 0 {
			t.Fatalf("%d buckets counting %d runs, brute force %d", len(buckets), total, want)
		}
	})
	t.Run("one run by id", func(t *testing.T) {
		code, body := post(t, s, "/flow_runs/"+run, "")
		var got map[string]any
		if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || !reflect.DeepEqual(got, data.Find(FlowRuns, run)) {
			t.Fatalf("%d %.300s", code, body)
		}
	})
}
