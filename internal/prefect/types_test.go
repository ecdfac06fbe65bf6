package prefect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readSample(t testing.TB, name string, out any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
}

func TestTypesDecodeCapturedSamples(t *testing.T) {
	var runs []FlowRun
	readSample(t, "flow_runs_filter.json", &runs)
	if len(runs) != 57 {
		t.Fatalf("decoded %d flow runs, want 57", len(runs))
	}
	first := runs[0]
	wantCreated := time.Date(2026, 11, 26, 7, 40, 6, 559062000, time.UTC)
	if first.ID != "01a216cc-2206-76e5-82a7-9d887cb94194" || first.Name != "cheerful-moth" ||
		!first.Created.Equal(wantCreated) || first.StateType != "SCHEDULED" || first.State == nil ||
		first.State.StateDetails.ScheduledTime == nil || first.StartTime != nil ||
		first.WorkPoolName != "local-process-pool" || first.CreatedBy == nil || first.CreatedBy.Type != "SCHEDULE" ||
		!strings.Contains(string(first.Parameters), `"n": 5`) && !strings.Contains(string(first.Parameters), `"n":5`) || !first.AutoScheduled || first.EmpiricalPolicy.Retries != nil {
		t.Fatalf("first run decoded wrongly: %+v", first)
	}
	var sawSubflow, sawEnded, sawRetries bool
	for _, r := range runs {
		sawSubflow = sawSubflow || r.ParentTaskRunID != ""
		sawEnded = sawEnded || (r.EndTime != nil && r.StartTime != nil && r.TotalRunTime > 0)
		sawRetries = sawRetries || (r.EmpiricalPolicy.Retries != nil && *r.EmpiricalPolicy.Retries > 0)
	}
	if !sawSubflow || !sawEnded || !sawRetries {
		t.Errorf("sample features lost: subflow=%v ended=%v retries=%v", sawSubflow, sawEnded, sawRetries)
	}

	var failed FlowRun
	readSample(t, "flow_run_by_id_failed.json", &failed)
	if failed.StateType != "FAILED" || failed.State == nil || failed.State.Message == "" || failed.RunCount == 0 {
		t.Errorf("failed run decoded wrongly: %+v", failed)
	}

	var states []State
	readSample(t, "flow_run_states_failed.json", &states)
	if len(states) == 0 || states[0].Type != "PENDING" || states[0].StateDetails.FlowRunID == "" || states[0].Timestamp.IsZero() {
		t.Errorf("states decoded wrongly: %+v", states)
	}

	var logs []LogEntry
	readSample(t, "logs_filter.json", &logs)
	if len(logs) == 0 || logs[0].Level != 20 || logs[0].Message == "" || logs[0].FlowRunID == "" || logs[0].Timestamp.IsZero() {
		t.Errorf("logs decoded wrongly: %+v", logs[0])
	}

	var deployments []Deployment
	readSample(t, "deployments_filter.json", &deployments)
	d := deployments[0]
	if d.Name != "etl-limited" || d.ConcurrencyLimit != nil || d.GlobalConcurrencyLimit == nil ||
		d.GlobalConcurrencyLimit.Limit != 1 || len(d.Schedules) != 1 || d.Schedules[0].Schedule["interval"] != 3600.0 {
		t.Errorf("deployment decoded wrongly: %+v", d)
	}

	var pool WorkPool
	readSample(t, "work_pool_by_name.json", &pool)
	if pool.Name != "local-process-pool" || pool.Type != "process" || pool.ConcurrencyLimit == nil ||
		*pool.ConcurrencyLimit != 5 || pool.Status != "NOT_READY" || pool.ActiveSlots == nil {
		t.Errorf("work pool decoded wrongly: %+v", pool)
	}

	var flows []Flow
	readSample(t, "flows_filter.json", &flows)
	if len(flows) == 0 || flows[0].Name != "always-fails" {
		t.Errorf("flows decoded wrongly: %+v", flows)
	}
}

// TestWorkPoolNeedsNoWorker: the rule Prefect's WorkPool.is_push_pool and
// is_managed_pool apply, shared by get_work_pools and the diagnoses (the
// diagnoses used to know only prefect:managed).
func TestWorkPoolNeedsNoWorker(t *testing.T) {
	for typ, want := range map[string]bool{
		"prefect:managed": true, "modal:managed": true, "ecs:push": true, "cloud-run:push": true,
		"kubernetes": false, "process": false, "docker": false, "push": false, "managed": false,
	} {
		if got := (WorkPool{Type: typ}).NeedsNoWorker(); got != want {
			t.Errorf("%q: NeedsNoWorker() = %v, want %v", typ, got, want)
		}
	}
}
