package prefecttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/testclock"
)

// sampleNow is shortly after the captured samples were taken: the replay of
// real answers is pinned to it. Synthetic fixtures use now, which CI shifts
// (testclock) to prove the fake holds on any date.
var (
	sampleNow = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	now       = testclock.At(sampleNow)
)

// at is a fixed clock for the fake.
func at(t time.Time) Option { return WithClock(func() time.Time { return t }) }

func loadSpec(t testing.TB) *openapi.Spec {
	t.Helper()
	spec, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

type reply struct {
	status int
	header http.Header
	body   any
	raw    []byte
}

func do(t testing.TB, method, url string, body any, header ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, url, raw)
		}
	}
	return r
}

func ids(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		out = append(out, fmt.Sprint(e.(map[string]any)["id"]))
	}
	return out
}

func TestSamplesReplay(t *testing.T) {
	dir := os.DirFS("testdata/samples")
	data, err := LoadSamples(dir)
	if err != nil {
		t.Fatal(err)
	}
	index, err := LoadSampleIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := New(WithData(data), at(sampleNow))
	defer s.Close()
	for name, req := range index {
		raw, err := os.ReadFile("testdata/samples/" + name + ".json")
		if errors.Is(err, os.ErrNotExist) {
			continue // listed in the index but not captured
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			var want any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			target := s.URL + req.Path
			if i := strings.Index(req.Path, "/api/"); i >= 0 {
				target = s.URL + req.Path[i+len("/api"):]
			}
			var body any
			if len(req.Body) > 0 && string(req.Body) != "null" {
				body = string(req.Body)
			}
			got := do(t, req.Method, target, body)
			if got.status != req.Status {
				t.Fatalf("status = %d, want %d: %s", got.status, req.Status, got.raw)
			}
			switch w := want.(type) {
			case []any:
				if name == "events_count_by_event" {
					// Only some of the 213 captured events are stored: every
					// counted value must exist in the capture, never exceeding it.
					wantCounts := map[string]float64{}
					for _, e := range w {
						wantCounts[e.(map[string]any)["value"].(string)] = e.(map[string]any)["count"].(float64)
					}
					for _, e := range got.body.([]any) {
						m := e.(map[string]any)
						if c, ok := wantCounts[m["value"].(string)]; !ok || m["count"].(float64) > c {
							t.Errorf("count of %v = %v, capture has %v", m["value"], m["count"], c)
						}
					}
					return
				}
				if !reflect.DeepEqual(ids(got.body), ids(w)) {
					t.Errorf("ids = %v\nwant %v", ids(got.body), ids(w))
				}
			case map[string]any:
				if events, ok := w["events"]; ok {
					gotEvents := got.body.(map[string]any)["events"]
					if !reflect.DeepEqual(ids(gotEvents), ids(events)) {
						t.Errorf("event ids = %v\nwant %v", ids(gotEvents), ids(events))
					}
					if (w["next_page"] == nil) != (got.body.(map[string]any)["next_page"] == nil) {
						t.Errorf("next_page = %v, capture has %v", got.body.(map[string]any)["next_page"], w["next_page"])
					}
					return
				}
				if !reflect.DeepEqual(got.body, w) {
					t.Errorf("object differs from capture:\n got %s", got.raw)
				}
			default:
				if !reflect.DeepEqual(got.body, w) {
					t.Errorf("body = %s, want %s", got.raw, raw)
				}
			}
		})
	}
}

// filterFixture is a small workspace whose answers are easy to reason about.
func filterFixture() *Data {
	d := NewData()
	d.AsOf = now
	flow := func(id, name string) map[string]any {
		return map[string]any{"id": id, "name": name, "tags": []any{}, "created": "2026-01-01T00:00:00Z"}
	}
	d.Add(Flows, flow("00000000-0000-0000-0000-0000000000f1", "etl-pipeline"), flow("00000000-0000-0000-0000-0000000000f2", "Report-Builder"))
	run := func(n int, flowID, stateType, stateName, start string, tags ...any) map[string]any {
		var st any
		if start != "" {
			st = start
		}
		return map[string]any{
			"id": fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", n), "name": fmt.Sprintf("run-%d", n),
			"flow_id": flowID, "tags": append([]any{}, tags...), "start_time": st,
			"expected_start_time": fmt.Sprintf("2026-01-0%dT00:00:00Z", n), "parent_task_run_id": nil,
			"work_queue_id": nil, "deployment_id": nil,
			"state": map[string]any{"type": stateType, "name": stateName},
		}
	}
	d.Add(FlowRuns,
		run(1, "00000000-0000-0000-0000-0000000000f1", "COMPLETED", "Completed", "2026-01-01T00:00:05Z", "etl", "nightly"),
		run(2, "00000000-0000-0000-0000-0000000000f1", "FAILED", "Failed", "2026-01-02T00:00:05Z", "etl"),
		run(3, "00000000-0000-0000-0000-0000000000f2", "SCHEDULED", "Late", ""),
		run(4, "00000000-0000-0000-0000-0000000000f2", "SCHEDULED", "Scheduled", ""),
	)
	d.Add(TaskRuns, map[string]any{
		"id": "00000000-0000-0000-0000-0000000000a1", "name": "load-0", "flow_run_id": "00000000-0000-0000-0000-000000000002",
		"tags": []any{}, "state": map[string]any{"type": "FAILED", "name": "Failed"},
	})
	return d
}

func TestFlowRunFilterSemantics(t *testing.T) {
	s := New(WithData(filterFixture()))
	defer s.Close()
	tests := []struct {
		name string
		body map[string]any
		want []string // run numbers in order
	}{
		{"default sort ID_DESC", nil, []string{"4", "3", "2", "1"}},
		{"state type any_", map[string]any{"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"FAILED", "COMPLETED"}}}}}, []string{"2", "1"}},
		{"state name not_any_", map[string]any{"flow_runs": map[string]any{"state": map[string]any{"name": map[string]any{"not_any_": []any{"Late", "Failed"}}}}}, []string{"4", "1"}},
		{"tags all_", map[string]any{"flow_runs": map[string]any{"tags": map[string]any{"all_": []any{"etl", "nightly"}}}}, []string{"1"}},
		{"tags any_", map[string]any{"flow_runs": map[string]any{"tags": map[string]any{"any_": []any{"nightly", "etl"}}}}, []string{"2", "1"}},
		{"tags is_null_", map[string]any{"flow_runs": map[string]any{"tags": map[string]any{"is_null_": true}}}, []string{"4", "3"}},
		{"name like_ is case-insensitive substring", map[string]any{"flow_runs": map[string]any{"name": map[string]any{"like_": "UN-2"}}}, []string{"2"}},
		{"start_time is_null_", map[string]any{"flow_runs": map[string]any{"start_time": map[string]any{"is_null_": false}}}, []string{"2", "1"}},
		{"expected_start_time after_ and before_ inclusive", map[string]any{"flow_runs": map[string]any{"expected_start_time": map[string]any{"after_": "2026-01-02T00:00:00Z", "before_": "2026-01-03T00:00:00+00:00"}}}, []string{"3", "2"}},
		{"operator or_", map[string]any{"flow_runs": map[string]any{"operator": "or_", "tags": map[string]any{"all_": []any{"nightly"}}, "state": map[string]any{"name": map[string]any{"any_": []any{"Late"}}}}}, []string{"3", "1"}},
		{"nested operator and_ inside or_", map[string]any{"flow_runs": map[string]any{"operator": "or_", "state": map[string]any{"operator": "and_", "type": map[string]any{"any_": []any{"SCHEDULED"}}, "name": map[string]any{"any_": []any{"Scheduled"}}}}}, []string{"4"}},
		{"cross filter flows", map[string]any{"flows": map[string]any{"name": map[string]any{"like_": "report"}}}, []string{"4", "3"}},
		{"cross filter task_runs", map[string]any{"task_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"FAILED"}}}}}, []string{"2"}},
		{"sort START_TIME_DESC coalesces expected start", map[string]any{"sort": "START_TIME_DESC"}, []string{"4", "3", "2", "1"}},
		{"sort EXPECTED_START_TIME_ASC", map[string]any{"sort": "EXPECTED_START_TIME_ASC"}, []string{"1", "2", "3", "4"}},
		{"sort NAME_DESC with limit and offset", map[string]any{"sort": "NAME_DESC", "limit": 2, "offset": 1}, []string{"3", "2"}},
		{"null criterion is a no-op", map[string]any{"flow_runs": map[string]any{"name": nil, "tags": map[string]any{"any_": nil}}}, []string{"4", "3", "2", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != nil {
				body = tt.body
			}
			r := do(t, "POST", s.URL+"/flow_runs/filter", body)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			var got []string
			for _, id := range ids(r.body) {
				got = append(got, id[len(id)-1:])
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("runs = %v, want %v", got, tt.want)
			}
			count := do(t, "POST", s.URL+"/flow_runs/count", withoutPaging(tt.body))
			if tt.body["limit"] == nil && count.body != float64(len(tt.want)) {
				t.Errorf("count = %v, want %d", count.body, len(tt.want))
			}
		})
	}
}

func withoutPaging(body map[string]any) any {
	if body == nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range body {
		if k != "limit" && k != "offset" && k != "sort" {
			out[k] = v
		}
	}
	return out
}

func TestErrorShapes(t *testing.T) {
	s := New(WithData(filterFixture()))
	defer s.Close()
	tests := []struct {
		name, method, path string
		body               any
		status             int
		wantKey            string // top-level key of the error body
	}{
		{"unknown filter key", "POST", "/flow_runs/filter", map[string]any{"flow_runs": map[string]any{"nme": map[string]any{}}}, 422, "exception_detail"},
		{"bad sort enum", "POST", "/flow_runs/filter", map[string]any{"sort": "START_DESC"}, 422, "exception_detail"},
		{"bad state type", "POST", "/flow_runs/filter", map[string]any{"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"BROKEN"}}}}}, 422, "exception_detail"},
		{"limit over 200", "POST", "/flow_runs/filter", map[string]any{"limit": 201}, 422, "detail"},
		{"events limit over 50", "POST", "/events/filter", map[string]any{"limit": 51}, 422, "exception_detail"},
		{"malformed JSON", "POST", "/flow_runs/filter", "{", 422, "exception_detail"},
		{"flow run not found", "GET", "/flow_runs/00000000-0000-0000-0000-0000000000ff", nil, 404, "detail"},
		{"flow run id not a UUID", "GET", "/flow_runs/not-a-uuid", nil, 422, "exception_detail"},
		{"work pool not found", "GET", "/work_pools/nope", nil, 404, "detail"},
		{"unknown route", "GET", "/no_such_thing", nil, 404, "detail"},
		{"wrong method", "POST", "/health", nil, 405, "detail"},
		{"GET on a filter route is a bad id, as in Prefect", "GET", "/flow_runs/filter", nil, 422, "exception_detail"},
		{"write refused", "POST", "/flow_runs/", map[string]any{"flow_id": "00000000-0000-0000-0000-0000000000f1"}, 403, "detail"},
		{"reads that write refused", "POST", "/work_queues/00000000-0000-0000-0000-0000000000f1/get_runs", map[string]any{}, 403, "detail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, s.URL+tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.raw)
			}
			m, _ := r.body.(map[string]any)
			if _, ok := m[tt.wantKey]; !ok {
				t.Errorf("body %s lacks %q", r.raw, tt.wantKey)
			}
			if tt.status == 422 && tt.wantKey == "exception_detail" && m["exception_message"] != "Invalid request received." {
				t.Errorf("exception_message = %v", m["exception_message"])
			}
		})
	}
	writes := s.Writes()
	// An unknown POST counts too: it may be a mistyped write.
	if len(writes) != 3 || writes[0].Path != "/health" || writes[1].Route != "POST /flow_runs/" || writes[2].Route != "POST /work_queues/{id}/get_runs" {
		t.Errorf("Writes() = %+v", writes)
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		opts   []Option
		path   string
		header []string
		status int
		tag    string
	}{
		{"api key missing", []Option{WithAPIKey("pnu_secret")}, "/flows/filter", nil, 401, "none"},
		{"api key wrong", []Option{WithAPIKey("pnu_secret")}, "/flows/filter", []string{"Authorization", "Bearer pnu_other"}, 401, BearerTag("pnu_other")},
		{"api key right", []Option{WithAPIKey("pnu_secret")}, "/flows/filter", []string{"Authorization", "Bearer pnu_secret"}, 200, BearerTag("pnu_secret")},
		{"auth string missing", []Option{WithAuthString("admin:pass")}, "/flows/filter", nil, 401, "none"},
		{"auth string as bearer", []Option{WithAuthString("admin:pass")}, "/flows/filter", []string{"Authorization", "Bearer admin:pass"}, 401, BearerTag("admin:pass")},
		{"auth string right", []Option{WithAuthString("admin:pass")}, "/flows/filter", []string{"Authorization", "Basic YWRtaW46cGFzcw=="}, 200, BasicTag("admin:pass")},
		{"health stays open", []Option{WithAuthString("admin:pass")}, "/health", nil, 200, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(append(tt.opts, at(now))...)
			defer s.Close()
			method := "POST"
			if tt.path == "/health" {
				method = "GET"
			}
			r := do(t, method, s.URL+tt.path, nil, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.raw)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Authorization != tt.tag {
				t.Errorf("logged %+v, want tag %q", reqs, tt.tag)
			}
			if strings.Contains(reqs[0].Authorization, "secret") || strings.Contains(reqs[0].Authorization, "pass") {
				t.Errorf("tag leaks the credential: %q", reqs[0].Authorization)
			}
		})
	}
}

func TestLogsCappedAt200(t *testing.T) {
	d := NewData()
	for i := range 250 {
		d.Add(Logs, map[string]any{
			"id": fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "level": float64(10 * (1 + i%5)), "message": fmt.Sprintf("line %d", i),
			"name": "prefect.flow_runs", "timestamp": now.Add(time.Duration(i-250) * time.Second).Format(time.RFC3339),
		})
	}
	s := New(WithData(d), at(now))
	defer s.Close()
	tests := []struct {
		body any
		want int
	}{
		{nil, 200},
		{map[string]any{"offset": 200}, 50},
		{map[string]any{"logs": map[string]any{"level": map[string]any{"ge_": 40}}}, 100},
		{map[string]any{"logs": map[string]any{"level": map[string]any{"ge_": 20, "le_": 20}}}, 50},
		{map[string]any{"logs": map[string]any{"text": map[string]any{"query": "\"line 24\" -\"line 240\""}}, "limit": 200}, 10},
	}
	for _, tt := range tests {
		r := do(t, "POST", s.URL+"/logs/filter", tt.body)
		if n := len(r.body.([]any)); n != tt.want {
			t.Errorf("%v: %d rows, want %d", tt.body, n, tt.want)
		}
	}
}

func TestEventsPaging(t *testing.T) {
	d := NewData()
	for i := range 120 {
		name := "prefect.flow-run.Completed"
		if i%3 == 0 {
			name = "prefect.flow-run.Failed"
		}
		d.Add(Events, map[string]any{
			"id": fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "event": name,
			"occurred": now.Add(-time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000000Z"),
			"resource": map[string]any{"prefect.resource.id": fmt.Sprintf("prefect.flow-run.%d", i%7)},
			"related":  []any{map[string]any{"prefect.resource.id": "prefect.deployment.x", "prefect.resource.role": "deployment"}},
			"payload":  map[string]any{},
		})
	}
	d.Add(Events, map[string]any{"id": "00000000-0000-0000-0000-999999999999", "event": "prefect.flow-run.Failed",
		"occurred": now.AddDate(-1, 0, 0).Format("2006-01-02T15:04:05.000000Z"), "resource": map[string]any{"prefect.resource.id": "old"}})
	s := New(WithData(d), at(now))
	defer s.Close()
	tests := []struct {
		filter     map[string]any
		total      int
		firstEvent int
	}{
		{nil, 120, 0},
		{map[string]any{"event": map[string]any{"prefix": []any{"prefect.flow-run.F"}}}, 40, 0},
		{map[string]any{"resource": map[string]any{"id": []any{"prefect.flow-run.3"}}, "order": "ASC"}, 17, 115},
		{map[string]any{"related": map[string]any{"role": []any{"deployment"}}, "occurred": map[string]any{"since": now.Add(-9 * time.Minute).Format(time.RFC3339), "until": now.Format(time.RFC3339)}}, 10, 0},
	}
	for _, tt := range tests {
		body := map[string]any{"limit": 50}
		if tt.filter != nil {
			body["filter"] = tt.filter
		}
		r := do(t, "POST", s.URL+"/events/filter", body)
		page := r.body.(map[string]any)
		if page["total"] != float64(tt.total) {
			t.Errorf("%v: total = %v, want %d", tt.filter, page["total"], tt.total)
		}
		seen := map[string]bool{}
		first := ""
		for {
			for _, e := range page["events"].([]any) {
				id := e.(map[string]any)["id"].(string)
				if first == "" {
					first = id
				}
				if seen[id] {
					t.Fatalf("event %s returned twice", id)
				}
				seen[id] = true
			}
			next, _ := page["next_page"].(string)
			if next == "" {
				break
			}
			page = do(t, "GET", next, nil).body.(map[string]any)
		}
		if len(seen) != tt.total {
			t.Errorf("%v: paged through %d events, want %d", tt.filter, len(seen), tt.total)
		}
		if want := fmt.Sprintf("00000000-0000-0000-0000-%012d", tt.firstEvent); first != want {
			t.Errorf("%v: first event %s, want %s", tt.filter, first, want)
		}
	}
	if bad := do(t, "GET", s.URL+"/events/filter/next?page-token=%21%21", nil); bad.status != 403 {
		t.Errorf("bad token: status %d", bad.status)
	}
	counts := do(t, "POST", s.URL+"/events/count-by/event", map[string]any{"filter": map[string]any{}})
	want := []any{
		map[string]any{"value": "prefect.flow-run.Completed", "count": float64(80)},
		map[string]any{"value": "prefect.flow-run.Failed", "count": float64(40)},
	}
	for i, c := range counts.body.([]any) {
		m := c.(map[string]any)
		if m["value"] != want[i].(map[string]any)["value"] || m["count"] != want[i].(map[string]any)["count"] {
			t.Errorf("count-by/event[%d] = %v", i, m)
		}
	}
}

func TestDemoObjectsMatchResponseSchemas(t *testing.T) {
	spec := loadSpec(t)
	data := Demo(now)
	components := map[string]string{
		Flows: "Flow", FlowRuns: "FlowRunResponse", TaskRuns: "TaskRun", Logs: "Log", FlowRunStates: "State",
		TaskRunStates: "State", Deployments: "DeploymentResponse", WorkPools: "WorkPoolResponse",
		WorkQueues: "WorkQueueResponse", Workers: "WorkerResponse", ConcurrencyLimits: "ConcurrencyLimit",
		V2ConcurrencyLimits: "GlobalConcurrencyLimitResponse", Automations: "Automation", Events: "ReceivedEvent",
		Artifacts: "Artifact", Variables: "Variable",
	}
	for collection, component := range components {
		objs := data.Objects(collection)
		if len(objs) == 0 {
			t.Errorf("demo has no %s", collection)
		}
		for _, obj := range objs {
			if err := spec.ValidateComponent(component, obj); err != nil {
				t.Errorf("%s %v: %v", collection, obj["id"], err)
			}
		}
	}
}

func TestDemoWorkspaceScenarios(t *testing.T) {
	s := New(WithData(Demo(now)))
	defer s.Close()
	count := func(body any) float64 {
		t.Helper()
		r := do(t, "POST", s.URL+"/flow_runs/count", body)
		return r.body.(float64)
	}
	state := func(key, value string) map[string]any {
		return map[string]any{"flow_runs": map[string]any{"state": map[string]any{key: map[string]any{"any_": []any{value}}}}}
	}
	for _, tt := range []struct {
		body any
		min  float64
	}{
		{state("name", "Late"), 3}, {state("name", "AwaitingConcurrencySlot"), 1}, {state("type", "FAILED"), 3},
		{state("type", "CRASHED"), 1}, {state("type", "CANCELLED"), 2}, {state("type", "PAUSED"), 1},
		{state("type", "RUNNING"), 1}, {state("type", "PENDING"), 1}, {state("type", "COMPLETED"), 3},
		{map[string]any{"flow_runs": map[string]any{"parent_flow_run_id": map[string]any{"any_": []any{DemoID("flow_run", "proud-walrus")}}}}, 1},
		{map[string]any{"work_pools": map[string]any{"name": map[string]any{"any_": []any{DemoKubernetesPool}}}}, 3},
	} {
		if got := count(tt.body); got < tt.min {
			t.Errorf("%v: %v runs, want at least %v", tt.body, got, tt.min)
		}
	}
	crashed := do(t, "POST", s.URL+"/logs/filter", map[string]any{
		"logs": map[string]any{"flow_run_id": map[string]any{"any_": []any{DemoID("flow_run", "frozen-yak")}}, "level": map[string]any{"ge_": 40}},
	})
	if !strings.Contains(string(crashed.raw), "lease renewal failed") {
		t.Errorf("crashed run lacks the lease renewal ERROR log: %s", crashed.raw)
	}
	workers := do(t, "POST", s.URL+"/work_pools/"+DemoProcessPool+"/workers/filter", map[string]any{})
	if len(workers.body.([]any)) != 1 {
		t.Errorf("workers = %s", workers.raw)
	}
	queues := do(t, "POST", s.URL+"/work_pools/"+DemoProcessPool+"/queues/filter", nil)
	var names []string
	for _, q := range queues.body.([]any) {
		names = append(names, q.(map[string]any)["name"].(string))
	}
	if !reflect.DeepEqual(names, []string{"high-priority", "default", "low-priority"}) {
		t.Errorf("queues by priority = %v", names)
	}
	failed := do(t, "POST", s.URL+"/events/filter", map[string]any{"filter": map[string]any{"event": map[string]any{"name": []any{"prefect.automation.action.failed"}}}})
	if failed.body.(map[string]any)["total"] != float64(1) {
		t.Errorf("automation.action.failed events: %s", failed.raw)
	}
	for _, path := range []string{
		"/deployments/name/etl-pipeline/etl-hourly", "/v2/concurrency_limits/tag:database", "/concurrency_limits/tag/database",
		"/flow_run_states/?flow_run_id=" + DemoID("flow_run", "patient-badger"), "/work_queues/" + DemoID("work_queue", DemoKubernetesPool+"/default") + "/status",
		"/automations/related-to/prefect.deployment." + DemoID("deployment", "etl-hourly"), "/variables/name/etl_config",
	} {
		if r := do(t, "GET", s.URL+path, nil); r.status != 200 {
			t.Errorf("GET %s: %d %s", path, r.status, r.raw)
		}
	}
	if r := do(t, "GET", s.URL+"/flow_run_states/?flow_run_id="+DemoID("flow_run", "patient-badger"), nil); len(r.body.([]any)) != 7 {
		t.Errorf("retried run has %d states, want 7", len(r.body.([]any)))
	}
}

func TestFaults(t *testing.T) {
	s := New(WithFault(Fault{Route: "POST /flows/filter", Times: 2, Status: 429, RetryAfter: "3"}), at(now))
	defer s.Close()
	for i, want := range []int{429, 429, 200} {
		r := do(t, "POST", s.URL+"/flows/filter", nil)
		if r.status != want {
			t.Fatalf("call %d: status %d, want %d", i, r.status, want)
		}
		if want == 429 && r.header.Get("Retry-After") != "3" {
			t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
		}
	}
	if s.Count("POST /flows/filter") != 3 {
		t.Errorf("Count = %d", s.Count("POST /flows/filter"))
	}

	s.AddFault(Fault{Route: "GET /health", Kind: FaultReset, Times: 1})
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := fresh.Get(s.URL + "/health"); err == nil {
		t.Error("reset: request succeeded")
	}
	s.AddFault(Fault{Route: "GET /version", Kind: FaultTruncate, Times: 1})
	if resp, err := http.Get(s.URL + "/version"); err == nil {
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Error("truncate: body read without error")
		}
		resp.Body.Close()
	}
	s.AddFault(Fault{Route: "GET /hello", Kind: FaultStall, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/hello", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Error("stall: body completed")
		}
		resp.Body.Close()
	}
}

func TestCloud(t *testing.T) {
	const account, workspace = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	d := NewData()
	d.AsOf = now
	minute := func(ago int) string { return now.Add(-time.Duration(ago) * time.Minute).Format(time.RFC3339) }
	d.Add(RateLimitUsage,
		map[string]any{"key": "runs", "minute": minute(2), "limit": 400, "usage": 410, "requested": 450, "granted": 400},
		map[string]any{"key": "runs", "minute": minute(1), "limit": 400, "usage": 10, "requested": 10, "granted": 10},
	)
	since := "since=" + minute(60) + "&keys=runs"
	s := New(WithCloud(account, workspace), WithAPIKey("pnu_key"), WithData(d))
	defer s.Close()
	if !strings.HasSuffix(s.URL, "/api/accounts/"+account+"/workspaces/"+workspace) {
		t.Fatalf("URL = %s", s.URL)
	}
	root := strings.TrimSuffix(s.URL, "/accounts/"+account+"/workspaces/"+workspace)
	auth := []string{"Authorization", "Bearer pnu_key"}
	tests := []struct {
		url    string
		header []string
		status int
	}{
		{s.URL + "/flows/filter", auth, 200},
		{s.URL + "/flows/filter", nil, 401},
		{root + "/me/", auth, 200},
		{root + "/accounts/" + account, auth, 200},
		{root + "/accounts/" + account + "/workspaces/" + workspace, auth, 200},
		{root + "/accounts/" + account + "/rate-limits/usage?" + since, auth, 200},
		{root + "/flows/filter", auth, 404},
	}
	for _, tt := range tests {
		method := "GET"
		if strings.HasSuffix(tt.url, "/filter") {
			method = "POST"
		}
		r := do(t, method, tt.url, nil, tt.header...)
		if r.status != tt.status {
			t.Errorf("%s %s: %d, want %d: %s", method, tt.url, r.status, tt.status, r.raw)
		}
	}
	usage := do(t, "GET", root+"/accounts/"+account+"/rate-limits/usage?"+since, nil, auth...)
	runs := usage.body.(map[string]any)["keys"].(map[string]any)["runs"].(map[string]any)
	if !reflect.DeepEqual(runs["requested"], []any{450.0, 10.0}) || len(usage.body.(map[string]any)["minutes"].([]any)) != 2 {
		t.Errorf("usage = %s", usage.raw)
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := New(WithData(Demo(now)))
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%10 == 0 {
				s.Put(Variables, map[string]any{"id": fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "name": fmt.Sprintf("v%d", i), "value": i, "tags": []any{}})
				return
			}
			resp, err := http.Post(s.URL+"/flow_runs/filter", "application/json", strings.NewReader(`{"sort":"START_TIME_DESC","limit":10}`))
			if err != nil {
				errs <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.Count("POST /flow_runs/filter"); got != 360 {
		t.Errorf("Count = %d, want 360", got)
	}
}

// TestEveryFilterCapsLimit: every filter body takes limit ≤ 200 (events ≤ 50)
// and answers one more with Prefect's 422, as the list tools' pager relies on.
func TestEveryFilterCapsLimit(t *testing.T) {
	s := New(WithData(Demo(now)))
	defer s.Close()
	served := 0
	for _, r := range loadSpec(t).Routes() {
		if r.Method != "POST" || !strings.HasSuffix(r.Path, "/filter") {
			continue
		}
		path := strings.ReplaceAll(r.Path, "{work_pool_name}", DemoProcessPool)
		path = strings.ReplaceAll(path, "{id}", DemoID("flow_run", "crimson-falcon"))
		capLimit, want := 200, `{"detail":"Invalid limit: must be less than or equal to 200."}`
		if path == "/events/filter" {
			capLimit, want = 50, ""
		}
		at := do(t, "POST", s.URL+path, map[string]any{"limit": capLimit})
		if at.status == http.StatusNotImplemented {
			continue // a route the fake does not serve
		}
		served++
		if at.status != 200 {
			t.Errorf("%s limit %d: %d %s", r, capLimit, at.status, at.raw)
		}
		over := do(t, "POST", s.URL+path, map[string]any{"limit": capLimit + 1})
		if over.status != 422 || (want != "" && strings.TrimSpace(string(over.raw)) != want) {
			t.Errorf("%s limit %d: %d %s, want 422 %s", r, capLimit+1, over.status, over.raw, want)
		}
	}
	if served < 15 {
		t.Errorf("only %d filter routes served", served)
	}
}

// TestDeploymentsHavingRuns: POST /deployments/filter with a flow_runs
// filter selects the deployments having a run that matches it (an EXISTS on
// the deployment's runs, _apply_deployment_filters in
// src/prefect/server/models/deployments.py), which get_deployment_activity
// relies on: the same set as the deployment ids of the matching runs.
func TestDeploymentsHavingRuns(t *testing.T) {
	s := New(WithData(Demo(now)))
	defer s.Close()
	late := DemoID("deployment", "train-every-15m")
	for _, tc := range []struct {
		name string
		runs map[string]any
		want int // deployments at least
	}{
		{"failed or crashed", map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"FAILED", "CRASHED"}}}}, 2},
		{"Late", map[string]any{"state": map[string]any{"name": map[string]any{"any_": []any{"Late"}}}}, 1},
		{"started in the last day", map[string]any{"start_time": map[string]any{"after_": now.Add(-24 * time.Hour).Format(time.RFC3339)}}, 1},
		{"no run matches", map[string]any{"name": map[string]any{"any_": []any{"no-such-run"}}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string]bool{}
			for _, r := range do(t, "POST", s.URL+"/flow_runs/filter", map[string]any{"flow_runs": tc.runs}).body.([]any) {
				if dep, _ := r.(map[string]any)["deployment_id"].(string); dep != "" {
					want[dep] = true
				}
			}
			got := map[string]bool{}
			for _, id := range ids(do(t, "POST", s.URL+"/deployments/filter", map[string]any{"flow_runs": tc.runs}).body) {
				got[id] = true
			}
			if !reflect.DeepEqual(got, want) || len(got) < tc.want {
				t.Errorf("deployments %v, want those of the matching runs %v (at least %d)", got, want, tc.want)
			}
			if n := do(t, "POST", s.URL+"/deployments/count", map[string]any{"flow_runs": tc.runs}).body; n != float64(len(want)) {
				t.Errorf("count %v, want %d", n, len(want))
			}
			// Narrowed to a page of ids, as the tool asks.
			page := map[string]any{"deployments": map[string]any{"id": map[string]any{"any_": []any{late}}}, "flow_runs": tc.runs}
			if n := len(ids(do(t, "POST", s.URL+"/deployments/filter", page).body)); (n == 1) != want[late] {
				t.Errorf("narrowed to %s: %d deployments, has a matching run: %v", late, n, want[late])
			}
		})
	}
}
