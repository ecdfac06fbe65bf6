package fakeprefect

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

var (
	largeOnce   sync.Once
	largeServer *Server
)

// largeFake serves Large(largeNow), built once per test binary.
func largeFake(tb testing.TB) *Server {
	tb.Helper()
	largeOnce.Do(func() { largeServer = NewHandler(WithData(Large(largeNow))) })
	return largeServer
}

// post sends one request to the engine and returns the status and body.
func post(tb testing.TB, s *Server, path, body string) (int, string) {
	tb.Helper()
	method := http.MethodPost
	if body == "" {
		method = http.MethodGet
	}
	req := httptest.NewRequest(method, "/api"+path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// commonFilters are the reads the tools send most, on the large workspace.
func commonFilters() []struct{ name, path, body string } {
	day := `"` + largeNow.Add(-24*3600e9).Format(isoMicros) + `"`
	hour := `"` + largeNow.Add(-3600e9).Format(isoMicros) + `"`
	dep := genID("deployment", 7)
	run := genID("flow_run", 1234)
	return []struct{ name, path, body string }{
		{"runs latest", "/flow_runs/filter", `{"limit":50,"sort":"START_TIME_DESC"}`},
		{"runs by deployment", "/flow_runs/filter", `{"limit":50,"sort":"EXPECTED_START_TIME_DESC","deployments":{"id":{"any_":["` + dep + `"]}}}`},
		{"runs by deployment_id", "/flow_runs/filter", `{"limit":50,"flow_runs":{"deployment_id":{"any_":["` + dep + `"]}}}`},
		{"runs failed last day", "/flow_runs/filter", `{"limit":50,"sort":"START_TIME_DESC","flow_runs":{"state":{"type":{"any_":["FAILED","CRASHED"]}},"expected_start_time":{"after_":` + day + `}}}`},
		{"runs by flow", "/flow_runs/filter", `{"limit":50,"flows":{"id":{"any_":["` + genID("flow", 3) + `"]}}}`},
		{"runs late", "/flow_runs/filter", `{"limit":200,"flow_runs":{"state":{"name":{"any_":["Late"]}}}}`},
		{"runs by id", "/flow_runs/filter", `{"flow_runs":{"id":{"any_":["` + run + `","` + genID("flow_run", 99) + `"]}}}`},
		{"runs count by state", "/flow_runs/count", `{"flow_runs":{"state":{"type":{"any_":["RUNNING","PENDING"]}}}}`},
		{"runs in pool", "/flow_runs/filter", `{"limit":50,"work_pools":{"name":{"any_":["orders-kubernetes-pool-00"]}}}`},
		{"history last day", "/flow_runs/history", `{"history_start":` + day + `,"history_end":"` + largeNow.Format(isoMicros) + `","history_interval_seconds":3600}`},
		{"tasks of run", "/task_runs/filter", `{"limit":200,"task_runs":{"flow_run_id":{"any_":["` + run + `"]}}}`},
		{"tasks failed", "/task_runs/filter", `{"limit":50,"sort":"EXPECTED_START_TIME_DESC","task_runs":{"state":{"type":{"any_":["FAILED"]}}}}`},
		{"events last hour", "/events/filter", `{"limit":50,"filter":{"occurred":{"since":` + hour + `}}}`},
		{"events of run", "/events/filter", `{"limit":50,"filter":{"any_resource":{"id":["prefect.flow-run.` + run + `"]}}}`},
		{"events count by event", "/events/count-by/event", `{"filter":{"occurred":{"since":` + day + `}}}`},
		{"deployments page", "/deployments/filter", `{"limit":50}`},
		{"work queues", "/work_queues/filter", `{}`},
	}
}

func BenchmarkLargeFilters(b *testing.B) {
	s := largeFake(b)
	for _, f := range commonFilters() {
		b.Run(strings.ReplaceAll(f.name, " ", "_"), func(b *testing.B) {
			for b.Loop() {
				if code, body := post(b, s, f.path, f.body); code != http.StatusOK {
					b.Fatalf("%s: %d %s", f.name, code, body)
				}
			}
		})
	}
}
