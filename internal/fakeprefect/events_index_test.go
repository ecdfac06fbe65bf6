package fakeprefect

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEventQueriesMatchBruteForce answers event filters and counts through
// the event index (candidates by window and resource id, names by
// position, counts without objects) and checks them against every event's
// object run through eventMatches with the whole filter, on the demo and
// on a generated workspace a tenth of the large one's size (the index
// works the same at any size; the brute force is slow).
func TestEventQueriesMatchBruteForce(t *testing.T) {
	sc := LargeScale()
	sc.FlowRuns, sc.TaskRuns, sc.Events = sc.FlowRuns/10, sc.TaskRuns/10, sc.Events/10
	for _, ws := range []struct {
		name string
		s    *Server
	}{{"demo", NewHandler(WithData(Demo(largeNow)))}, {"generated", NewHandler(WithData(Generate(largeNow, sc)))}} {
		t.Run(ws.name, func(t *testing.T) {
			recs := ws.s.data.all(Events)
			objs := make([]record, len(recs))
			times := make([]time.Time, len(recs))
			for i, r := range recs {
				objs[i] = object(r.whole())
				times[i], _ = parseTime(objs[i].get("occurred"))
			}
			v := &view{data: ws.s.data, now: largeNow}
			for _, tc := range eventCases(ws.s) {
				t.Run(tc.name, func(t *testing.T) {
					var filter map[string]any
					if err := json.Unmarshal([]byte(tc.filter), &filter); err != nil {
						t.Fatal(err)
					}
					filter = normalizeEventFilter(filter, largeNow)
					want := bruteForceEvents(t, objs, times, filter)
					hits, err := matchingEvents(v, filter, true)
					if err != nil {
						t.Fatal(err)
					}
					got := make([]int, len(hits.pos))
					for i, p := range hits.pos {
						got[i] = int(p)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%d events %.100v, brute force %d %.100v", len(got), got, len(want), want)
					}
					if len(want) == 0 && !tc.empty {
						t.Fatal("the check is empty: pick a filter that matches")
					}
					for _, countable := range []string{"event", "resource", "day"} {
						code, body := post(t, ws.s, "/events/count-by/"+countable, `{"filter":`+tc.filter+`}`)
						if code != http.StatusOK {
							t.Fatalf("count-by/%s: %d %s", countable, code, body)
						}
						var gotCounts []map[string]any
						if err := json.Unmarshal([]byte(body), &gotCounts); err != nil {
							t.Fatal(err)
						}
						if wantCounts := bruteForceCounts(objs, times, want, countable, filter); !reflect.DeepEqual(gotCounts, wantCounts) {
							t.Fatalf("count-by/%s:\n%.600v\nbrute force:\n%.600v", countable, gotCounts, wantCounts)
						}
					}
				})
			}
		})
	}
}

type eventCase struct {
	name, filter string
	empty        bool // no event matches, on purpose
}

// eventCases are filters the tools send and the corners of the index:
// criteria it proves, criteria it leaves to the row, and both.
func eventCases(s *Server) []eventCase {
	ts := func(d time.Duration) string { return `"` + largeNow.Add(d).Format(isoMicros) + `"` }
	day, month := ts(-24*time.Hour), ts(-30*24*time.Hour)
	var runs, deps []string
	n := map[string]int{}
	for _, r := range s.data.all(FlowRuns) {
		if st := str(r, "state_type"); (st == "RUNNING" || st == "COMPLETED") && n[st] < 20 {
			n[st]++
			runs = append(runs, `"prefect.flow-run.`+str(r, "id")+`"`)
			if d := str(r, "deployment_id"); d != "" && len(deps) < 3 {
				deps = append(deps, `"prefect.deployment.`+d+`"`)
			}
		}
	}
	ids := strings.Join(runs, ",")
	return []eventCase{
		{"heartbeats of runs", `{"event":{"name":["prefect.flow-run.heartbeat","prefect.flow-run.Running"]},"occurred":{"since":` + month + `,"until":` + ts(0) + `},"resource":{"id":[` + ids + `]}}`, false},
		{"everything of the last day", `{"occurred":{"since":` + day + `}}`, false},
		{"everything, default window, ascending", `{"order":"ASC"}`, false},
		{"failed runs of a deployment by labels", `{"event":{"name":["prefect.flow-run.Failed","prefect.flow-run.Completed"]},"occurred":{"since":` + month + `},"related":[{"labels":{"prefect.resource.id":` + deps[0] + `}}],"resource":{"labels":{"prefect.resource.id":"prefect.flow-run.*"}}}`, false},
		{"flow-run events of deployments by related id", `{"event":{"prefix":["prefect.flow-run."],"exclude_name":["prefect.flow-run.heartbeat"]},"related":{"id":[` + strings.Join(deps, ",") + `]}}`, false},
		{"related id with a role", `{"related":{"id":[` + deps[0] + `],"role":["deployment"]},"order":"ASC"}`, false},
		{"any resource: ids, and a prefix left to the row", `{"any_resource":[{"id":[` + ids + `]},{"id_prefix":["prefect.flow-run."]}],"event":{"exclude_prefix":["prefect.task-run."]}}`, false},
		{"resource ids and labels", `{"resource":{"id":[` + ids + `],"labels":{"prefect.resource.id":"!` + strings.Trim(runs[0], `"`) + `"}},"occurred":{"since":` + month + `}}`, false},
		{"resource by id prefix", `{"resource":{"id_prefix":["prefect.flow-run."]},"occurred":{"since":` + day + `},"event":{"name":["prefect.flow-run.Running"]}}`, false},
		{"any resource by literal labels", `{"any_resource":{"labels":{"prefect.resource.id":[` + strings.Join(deps[:2], ",") + `]}},"occurred":{"since":` + month + `}}`, false},
		{"related by a label pattern", `{"related":{"labels":{"prefect.resource.id":["prefect.work-pool.*",` + deps[0] + `]}},"occurred":{"since":` + day + `}}`, false},
		{"no resource id", `{"resource":{"id":[]}}`, true},
		{"event ids", `{"id":{"id":["` + str(s.data.all(Events)[0], "id") + `"]},"occurred":{"since":` + month + `}}`, false},
		{"an empty window", `{"occurred":{"since":` + ts(time.Hour) + `,"until":` + ts(2*time.Hour) + `}}`, true},
	}
}

// bruteForceEvents is matchingEvents without the index: every event's
// object, the whole filter, a stable sort by occurred.
func bruteForceEvents(t *testing.T, objs []record, times []time.Time, filter map[string]any) []int {
	var out []int
	for i, o := range objs {
		ok, err := eventMatches(o, filter)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, i)
		}
	}
	at := func(i int) time.Time { return times[i] }
	desc := filter["order"] != "ASC"
	slices.SortStableFunc(out, func(a, b int) int {
		if desc {
			return at(b).Compare(at(a))
		}
		return at(a).Compare(at(b))
	})
	return out
}

// bruteForceCounts is count-by over the events matched, in their order,
// read from their objects.
func bruteForceCounts(objs []record, times []time.Time, matched []int, countable string, filter map[string]any) []map[string]any {
	at := func(i int) time.Time { return times[i] }
	if countable == "day" {
		occ := filter["occurred"].(map[string]any)
		since, _ := parseTime(occ["since"])
		until, _ := parseTime(occ["until"])
		out := []map[string]any{}
		start := since.UTC().Truncate(24 * time.Hour)
		perDay := map[time.Time]int{}
		for _, i := range matched {
			perDay[start.Add(at(i).Sub(start).Truncate(24*time.Hour))]++
		}
		for d := start; !d.After(until); d = d.Add(24 * time.Hour) {
			n := perDay[d]
			label := d.Format(isoMicros)
			out = append(out, map[string]any{"value": label, "label": label, "count": float64(n), "start_time": label,
				"end_time": d.Add(24*time.Hour - time.Microsecond).Format(isoMicros)})
		}
		return out
	}
	type bucket struct {
		value, label string
		count        int
		first, last  time.Time
	}
	var order []*bucket
	byValue := map[string]*bucket{}
	for _, i := range matched {
		value, label := str(objs[i], "event"), str(objs[i], "event")
		if countable == "resource" {
			r, _ := objs[i].get("resource").(map[string]any)
			value, label = str(r, "prefect.resource.id"), str(r, "prefect.resource.name")
			if label == "" {
				label = value
			}
		}
		b := byValue[value]
		if b == nil {
			b = &bucket{value: value, label: label, first: at(i), last: at(i)}
			byValue[value] = b
			order = append(order, b)
		}
		b.count++
		if at(i).Before(b.first) {
			b.first = at(i)
		}
		if at(i).After(b.last) {
			b.last, b.label = at(i), label
		}
	}
	slices.SortStableFunc(order, func(a, b *bucket) int {
		if a.count != b.count {
			return b.count - a.count
		}
		return strings.Compare(a.label, b.label)
	})
	out := []map[string]any{}
	for _, b := range order {
		out = append(out, map[string]any{"value": b.value, "label": b.label, "count": float64(b.count),
			"start_time": b.first.UTC().Format(isoMicros), "end_time": b.last.UTC().Format(isoMicros)})
	}
	return out
}
