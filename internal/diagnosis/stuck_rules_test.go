package diagnosis

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

func stuckRun(name, dep, typ string, since time.Duration) prefect.FlowRun {
	r := prefect.FlowRun{ID: "id-" + name, Name: name, DeploymentID: dep, WorkPoolName: "p", StateType: typ,
		StateName: map[string]string{"RUNNING": "Running", "PENDING": "Pending"}[typ], State: &prefect.State{Timestamp: at(-since)}}
	if typ == "RUNNING" {
		r.StartTime = ptr(at(-since))
	}
	return r
}

func completedRuns(dep string, seconds ...float64) []prefect.FlowRun {
	var out []prefect.FlowRun
	for i, s := range seconds {
		out = append(out, prefect.FlowRun{ID: fmt.Sprintf("done-%s-%d", dep, i), DeploymentID: dep, StateType: "COMPLETED", TotalRunTime: s})
	}
	return out
}

func beats(n int, last time.Duration) prefect.EventCount {
	return prefect.EventCount{Count: n, EndTime: at(-last)}
}

// stuckWorld: pool "p" with an online worker; deployment "dep" usually
// takes 5 minutes, so its runs are stuck after 50.
func stuckWorld(change func(f *StuckFacts)) StuckFacts {
	f := StuckFacts{Now: t0, Beats: map[string]prefect.EventCount{},
		Active:    []prefect.FlowRun{stuckRun("r", "dep", "RUNNING", 3*time.Hour)},
		Completed: completedRuns("dep", 240, 300, 360),
		Pools: map[string]*PoolFacts{"p": {Name: "p", WorkersRead: true, Pool: &prefect.WorkPool{Name: "p", Type: "process", Status: "READY"},
			Workers: []prefect.Worker{{Name: "w1", Status: "ONLINE", LastHeartbeatTime: ptr(at(-10 * time.Second))}}}},
	}
	if change != nil {
		change(&f)
	}
	return f
}

// TestStuckRules: each liveness verdict from facts alone.
func TestStuckRules(t *testing.T) {
	offline := func(f *StuckFacts) {
		f.Pools["p"].Workers[0].LastHeartbeatTime, f.Pools["p"].Workers[0].Status = ptr(at(-time.Hour)), "OFFLINE"
	}
	for _, tc := range []struct {
		name, verdict, want string
		change              func(f *StuckFacts)
	}{
		{"pending", CauseStuckPending, "never reached Running", func(f *StuckFacts) { f.Active = []prefect.FlowRun{stuckRun("r", "dep", "PENDING", time.Hour)} }},
		{"pending, no worker", CauseStuckPending, "no worker is online in pool p", func(f *StuckFacts) {
			f.Active = []prefect.FlowRun{stuckRun("r", "dep", "PENDING", time.Hour)}
			offline(f)
		}},
		{"still heartbeating", CauseAliveSlow, "still heartbeating", func(f *StuckFacts) { f.Beats["id-r"] = beats(300, 20*time.Second) }},
		{"heartbeating, worker gone", CauseAliveSlow, "still heartbeating", func(f *StuckFacts) {
			f.Beats["id-r"] = beats(300, 20*time.Second)
			offline(f)
		}},
		{"worker gone", CauseOrphaned, "no online worker", offline},
		{"heartbeats stopped", CauseZombie, "none since 2026-03-02T09:05:00Z", func(f *StuckFacts) { f.Beats["id-r"] = beats(10, 2*time.Hour+55*time.Minute) }},
		{"never beat, siblings do", CauseZombie, "this one never did", func(f *StuckFacts) { f.Beats["done-dep-0"] = beats(10, 24*time.Hour) }},
		{"no heartbeats in the deployment", CauseSilent, "never seen", nil},
		{"no work pool", CauseSilent, "never seen", func(f *StuckFacts) { f.Active[0].WorkPoolName, f.Pools = "", nil }},
	} {
		d := DiagnoseStuck(stuckWorld(tc.change))
		if len(d.Stuck) != 1 {
			t.Fatalf("%s: stuck %+v (%s)", tc.name, d.Stuck, d.Summary)
		}
		s := d.Stuck[0]
		if s.Verdict != tc.verdict || !strings.Contains(s.Explanation, tc.want) || len(d.NextSteps) < 2 || s.Heartbeats == "" {
			t.Errorf("%s: %s %q (steps %v); want %s %q", tc.name, s.Verdict, s.Explanation, d.NextSteps, tc.verdict, tc.want)
		}
	}
}

// TestStuckThresholds: 10× the usual duration, at least 2 minutes, 30
// minutes without history; the caller's floor holds for every run.
func TestStuckThresholds(t *testing.T) {
	f := StuckFacts{Now: t0, Beats: map[string]prefect.EventCount{},
		Active: []prefect.FlowRun{
			stuckRun("quick-stuck", "quick", "RUNNING", 6*time.Minute), stuckRun("quick-fine", "quick", "RUNNING", 4*time.Minute),
			stuckRun("tiny-fine", "tiny", "RUNNING", 90*time.Second), stuckRun("tiny-stuck", "tiny", "RUNNING", 3*time.Minute),
			stuckRun("new-fine", "new", "RUNNING", 20*time.Minute), stuckRun("new-stuck", "new", "RUNNING", 31*time.Minute),
		},
		Completed: append(completedRuns("quick", 25, 30, 35), completedRuns("tiny", 2, 2, 2)...),
	}
	got := func(f StuckFacts) map[string]string {
		out := map[string]string{}
		for _, s := range DiagnoseStuck(f).Stuck {
			out[s.Name] = s.Threshold
		}
		return out
	}
	if g := got(f); fmt.Sprint(g) != "map[new-stuck:30m0s quick-stuck:5m0s tiny-stuck:2m0s]" {
		t.Errorf("stuck = %v", g)
	}
	f.MinMinutes = 10
	if g := got(f); fmt.Sprint(g) != "map[new-fine:10m0s new-stuck:10m0s]" {
		t.Errorf("min_minutes 10: stuck = %v", g)
	}
	f.MinMinutes = 0
	f.Active = []prefect.FlowRun{stuckRun("quick-fine", "quick", "RUNNING", time.Minute)}
	if d := DiagnoseStuck(f); d.Stuck != nil || !strings.Contains(d.Summary, "none has been in that state for 2m0s") {
		t.Errorf("nothing past the floor: %+v", d)
	}
}

// Many stuck runs: at most maxListedStuck, within the budget, longest first.
func TestFitStuck(t *testing.T) {
	f := stuckWorld(func(f *StuckFacts) {
		f.Active = nil
		for i := range 40 {
			f.Active = append(f.Active, stuckRun(fmt.Sprintf("a-rather-long-run-name-%02d", i), "dep", "RUNNING", time.Duration(100+i)*time.Minute))
		}
	})
	d := DiagnoseStuck(f)
	FitStuck(&d)
	if size(d) > Budget || !d.Truncated || len(d.Stuck) == 0 || d.Stuck[0].Name != "a-rather-long-run-name-39" {
		t.Errorf("%d bytes, truncated %v, %d listed, first %s", size(d), d.Truncated, len(d.Stuck), d.Stuck[0].Name)
	}
}
