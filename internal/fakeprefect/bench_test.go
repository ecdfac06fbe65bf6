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

// toolQueries are the reads of the tools that were slowest on the large
// workspace (diagnose_stuck_runs, count_events, diagnose_automation,
// get_deployment_activity), as they send them.
func toolQueries(tb testing.TB) []struct{ name, path, body string } {
	s := largeFake(tb)
	quote := func(ids []string) string { return `"` + strings.Join(ids, `","`) + `"` }
	day := `"` + largeNow.Add(-24*3600e9).Format(isoMicros) + `"`
	month := `"` + largeNow.Add(-30*24*3600e9).Format(isoMicros) + `"`
	end := `"` + largeNow.Format(isoMicros) + `"`
	// The stuck diagnosis counts heartbeats of its 50 longest-running runs
	// and of 200 completed runs of their deployments.
	var running, completed, deps []string
	for _, r := range s.data.tables[FlowRuns].recs {
		switch st := str(r, "state_type"); {
		case st == "RUNNING" && len(running) < 50:
			running = append(running, "prefect.flow-run."+str(r, "id"))
			if d := str(r, "deployment_id"); d != "" {
				deps = append(deps, d)
			}
		case st == "COMPLETED" && len(completed) < 200:
			completed = append(completed, "prefect.flow-run."+str(r, "id"))
		}
	}
	return []struct{ name, path, body string }{
		{"stuck active runs", "/flow_runs/filter", `{"flow_runs":{"state":{"type":{"any_":["RUNNING","PENDING"]}}},"limit":200,"sort":"START_TIME_ASC"}`},
		{"stuck completed of deployments", "/flow_runs/filter", `{"flow_runs":{"deployment_id":{"any_":[` + quote(deps) + `]},"state":{"type":{"any_":["COMPLETED"]}}},"limit":200,"sort":"END_TIME_DESC"}`},
		{"stuck heartbeats by run", "/events/count-by/resource", `{"filter":{"event":{"name":["prefect.flow-run.heartbeat"]},"occurred":{"since":` + month + `,"until":` + end + `},"resource":{"id":[` + quote(append(running, completed...)) + `]}}}`},
		{"count events by name last day", "/events/count-by/event", `{"filter":{"occurred":{"since":` + day + `,"until":` + end + `}}}`},
		{"count events by day", "/events/count-by/day", `{"filter":{"occurred":{"since":` + month + `,"until":` + end + `}}}`},
		{"automation failures of deployment", "/events/filter", `{"filter":{"event":{"name":["prefect.flow-run.Failed"]},"occurred":{"since":` + day + `,"until":` + end + `},"order":"DESC","related":[{"labels":{"prefect.resource.id":"prefect.deployment.` + deps[0] + `"}}],"resource":{"labels":{"prefect.resource.id":"prefect.flow-run.*"}}},"limit":50}`},
		{"events of deployment prefix", "/events/filter", `{"filter":{"event":{"prefix":["prefect.flow-run."]},"related":{"id":["prefect.deployment.` + deps[0] + `"]}},"limit":50}`},
		{"activity runs of deployments", "/flow_runs/filter", `{"flow_runs":{"deployment_id":{"any_":[` + quote(deps[:20]) + `]},"expected_start_time":{"after_":` + month + `,"before_":` + end + `}},"limit":200,"sort":"EXPECTED_START_TIME_DESC"}`},
	}
}

func BenchmarkLargeToolQueries(b *testing.B) { benchQueries(b, toolQueries(b)) }

func BenchmarkLargeFilters(b *testing.B) { benchQueries(b, commonFilters()) }

// benchQueries times each query against the large fake, its indexes built.
func benchQueries(b *testing.B, queries []struct{ name, path, body string }) {
	s := largeFake(b)
	for _, f := range queries {
		b.Run(strings.ReplaceAll(f.name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			post(b, s, f.path, f.body) // builds the indexes the query uses
			for b.Loop() {
				if code, body := post(b, s, f.path, f.body); code != http.StatusOK {
					b.Fatalf("%s: %d %s", f.name, code, body)
				}
			}
		})
	}
}
