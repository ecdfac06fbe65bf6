package diagnosis

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/shape"
	tn "github.com/prefect-mcp/prefect-mcp/internal/toolname"
)

const (
	// heartbeatRecent: a flow-run heartbeat this fresh means the process is
	// alive (runner heartbeats are sent every 30 s or more when enabled).
	heartbeatRecent = 10 * time.Minute
	maxListedStuck  = 10
)

// StuckDiagnosis is diagnose_stuck_runs' answer.
type StuckDiagnosis struct {
	Summary   string     `json:"summary"`
	Scope     string     `json:"scope"`
	Checked   int        `json:"active_runs_checked"`
	Stuck     []StuckRun `json:"stuck_runs,omitempty"`
	NextSteps []string   `json:"next_steps,omitempty"`
	Truncated bool       `json:"truncated,omitempty"`
}

// StuckRun is one run past its threshold, with its liveness verdict (the
// causes diagnose_flow_run gives an active run: stuck_pending, alive_slow,
// orphaned, zombie, silent).
type StuckRun struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	DeploymentID  string   `json:"deployment_id,omitempty"`
	WorkPool      string   `json:"work_pool,omitempty"`
	State         string   `json:"state"`
	Since         string   `json:"since"`
	Elapsed       string   `json:"elapsed"`
	Usual         string   `json:"usual_duration,omitempty"`
	Threshold     string   `json:"threshold"`
	Verdict       string   `json:"verdict"`
	Explanation   string   `json:"explanation"`
	LastHeartbeat string   `json:"last_heartbeat,omitempty"`
	Heartbeats    string   `json:"heartbeats"`
	Evidence      []string `json:"evidence"`

	elapsed time.Duration
}

// stuckView is the stuck facts judged at their time.
type stuckView struct {
	f       *StuckFacts
	pools   map[string]*poolHealth
	medians map[string]time.Duration
	// beating: deployments some of whose runs (a candidate or a recent
	// completed one) sent heartbeats.
	beating map[string]int
}

// stuckRule gives a run its verdict, or passes. The rules are tried in
// order; the last always holds.
type stuckRule func(r prefect.FlowRun, s *StuckRun, live stuckLive) bool

// stuckLive is what the rules judge a run by.
type stuckLive struct {
	beat         prefect.EventCount
	recent       bool // a heartbeat within heartbeatRecent
	pool         *poolHealth
	workerOnline bool
	beating      bool // the deployment's runs send heartbeats
}

var stuckRules = []stuckRule{ruleStuckPendingRun, ruleStuckAlive, ruleStuckOrphaned, ruleStuckZombie, ruleStuckSilent}

// DiagnoseStuck holds each active run past the floor against its own
// threshold (StuckFactor × its deployment's median duration, at least the
// floor; DefaultStuckMinutes without history) and judges the stuck ones by
// their heartbeats and their pool's workers.
func DiagnoseStuck(f StuckFacts) StuckDiagnosis {
	d := StuckDiagnosis{Scope: f.Scope.String(), Checked: len(f.Active)}
	floor := f.floor()
	runs, cut := f.candidates()
	d.Truncated = cut
	if len(runs) == 0 {
		d.Summary = fmt.Sprintf("No run in %s is stuck: %d Running or Pending run(s) checked, none has been in that state for %s.", d.Scope, len(f.Active), shape.Dur(floor.Seconds()))
		return d
	}
	v := &stuckView{f: &f, pools: map[string]*poolHealth{}, medians: medianDurations(f.Completed), beating: map[string]int{}}
	for n, p := range f.Pools {
		v.pools[n] = judgePool(p, f.Now)
	}
	for _, r := range slices.Concat(runs, f.Completed) {
		if f.Beats[r.ID].Count > 0 && r.DeploymentID != "" {
			v.beating[r.DeploymentID]++
		}
	}
	for _, r := range runs {
		since := activeSince(r)
		s := StuckRun{ID: r.ID, Name: r.Name, DeploymentID: r.DeploymentID, WorkPool: r.WorkPoolName,
			State: shape.StateLabel(r.StateType, r.StateName), Since: shape.TS(since), elapsed: f.Now.Sub(since)}
		threshold := floor // the caller's own floor
		if f.MinMinutes == 0 {
			threshold = DefaultStuckMinutes * time.Minute
		}
		if m, ok := v.medians[r.DeploymentID]; ok {
			s.Usual = shape.Dur(m.Seconds()) + " (median of recent completed runs)"
			threshold = max(floor, StuckFactor*m)
		}
		s.Threshold = shape.Dur(threshold.Seconds())
		if s.elapsed < threshold {
			continue
		}
		s.Elapsed = shape.Dur(s.elapsed.Seconds())
		v.judge(r, &s)
		d.Stuck = append(d.Stuck, s)
	}
	if len(d.Stuck) == 0 {
		d.Summary = fmt.Sprintf("No run in %s is stuck: %d Running or Pending run(s) checked, none beyond %d× its deployment's usual duration (at least %s; %d minutes when there is no usual duration).", d.Scope, len(f.Active), StuckFactor, shape.Dur(floor.Seconds()), DefaultStuckMinutes)
		return d
	}
	sort.SliceStable(d.Stuck, func(i, j int) bool { return d.Stuck[i].elapsed > d.Stuck[j].elapsed })
	if len(d.Stuck) > maxListedStuck {
		d.Stuck, d.Truncated = d.Stuck[:maxListedStuck], true
	}
	first := d.Stuck[0]
	d.Summary = fmt.Sprintf("%d run(s) look stuck; the longest, %q, has been %s for %s (threshold %s): %s",
		len(d.Stuck), first.Name, strings.ToLower(first.State), first.Elapsed, first.Threshold, lowerFirst(first.Explanation))
	d.NextSteps = stuckNextSteps(d.Stuck)
	return d
}

// medianDurations is the median total_run_time of up to usualSample
// recent completed runs per deployment.
func medianDurations(completed []prefect.FlowRun) map[string]time.Duration {
	byDep := map[string][]prefect.FlowRun{}
	for _, r := range completed {
		if len(byDep[r.DeploymentID]) < usualSample {
			byDep[r.DeploymentID] = append(byDep[r.DeploymentID], r)
		}
	}
	out := map[string]time.Duration{}
	for dep, runs := range byDep {
		if m, n := medianSeconds(runs); n > 0 {
			out[dep] = time.Duration(m * float64(time.Second))
		}
	}
	return out
}

func (v *stuckView) judge(r prefect.FlowRun, s *StuckRun) {
	now := v.f.Now
	live := stuckLive{beat: v.f.Beats[r.ID], pool: v.pools[r.WorkPoolName], beating: v.beating[r.DeploymentID] > 0}
	live.recent = live.beat.Count > 0 && now.Sub(live.beat.EndTime) <= heartbeatRecent
	if live.beat.Count > 0 {
		s.LastHeartbeat = shape.TS(live.beat.EndTime)
		s.Evidence = append(s.Evidence, fmt.Sprintf("%d %s event(s) since the run started; the last at %s (%s ago)", live.beat.Count, HeartbeatEvent, shape.TS(live.beat.EndTime), shape.Dur(now.Sub(live.beat.EndTime).Seconds())))
	} else {
		s.Evidence = append(s.Evidence, "no "+HeartbeatEvent+" event since the run started")
	}
	s.Heartbeats = "none ever seen for this deployment's recent runs (heartbeats are off unless PREFECT_RUNNER_HEARTBEAT_FREQUENCY is set)"
	if live.beating {
		s.Heartbeats = fmt.Sprintf("enabled: %d of this deployment's recent runs sent them", v.beating[r.DeploymentID])
	}
	switch p := live.pool; {
	case p == nil:
		s.Evidence = append(s.Evidence, "the run has no work pool (started outside a worker, e.g. flow.serve() or a script)")
	case p.pushPool():
		live.workerOnline = true
		s.Evidence = append(s.Evidence, "work pool "+p.Name+" is a push/managed pool: no worker needed")
	default:
		live.workerOnline = p.hasOnlineWorker()
		s.Evidence = append(s.Evidence, p.evidence(now))
	}
	for _, rule := range stuckRules {
		if rule(r, s, live) {
			return
		}
	}
}

func silence(live stuckLive) string {
	if live.beat.Count > 0 {
		return "no heartbeat since " + shape.TS(live.beat.EndTime)
	}
	return "no heartbeat since it started"
}

// ruleStuckPendingRun: Pending means a worker took the run and is starting
// its infrastructure; the engine moves it to Running when the flow starts.
func ruleStuckPendingRun(r prefect.FlowRun, s *StuckRun, live stuckLive) bool {
	if r.StateType != "PENDING" {
		return false
	}
	s.Verdict = CauseStuckPending
	s.Explanation = "It was submitted but never reached Running: its infrastructure did not start (image pull, scheduling, crash before start)."
	if !live.workerOnline && live.pool != nil {
		s.Explanation = "It was submitted but never reached Running, and no worker is online in pool " + live.pool.Name + " to notice."
	}
	return true
}

func ruleStuckAlive(_ prefect.FlowRun, s *StuckRun, live stuckLive) bool {
	if !live.recent {
		return false
	}
	s.Verdict = CauseAliveSlow
	s.Explanation = "It is still heartbeating, so its process is alive: it is slow or waiting (on a task, a lock, an external system), not dead."
	return true
}

// ruleStuckOrphaned: the worker that would report its end is gone.
func ruleStuckOrphaned(_ prefect.FlowRun, s *StuckRun, live stuckLive) bool {
	if live.pool == nil || live.workerOnline {
		return false
	}
	s.Verdict = CauseOrphaned
	s.Explanation = fmt.Sprintf("Its process appears gone: %s and no online worker; Prefect will not end it by itself.", silence(live))
	return true
}

// ruleStuckZombie: this deployment's runs send heartbeats, and this one
// stopped (or never started) sending them.
func ruleStuckZombie(_ prefect.FlowRun, s *StuckRun, live stuckLive) bool {
	if !live.beating {
		return false
	}
	s.Verdict = CauseZombie
	s.Explanation = "Its process most likely died: this deployment's runs send heartbeats, but this one has sent none since " + shape.TS(live.beat.EndTime) + "; it stays Running until something marks it Crashed."
	if live.beat.Count == 0 {
		s.Explanation = "Its process most likely died or never started the engine: this deployment's runs send heartbeats, but this one never did; it stays Running until something marks it Crashed."
	}
	return true
}

// ruleStuckSilent: no heartbeats to judge by; only its infrastructure can
// tell.
func ruleStuckSilent(_ prefect.FlowRun, s *StuckRun, _ stuckLive) bool {
	s.Verdict = CauseSilent
	s.Explanation = "Prefect cannot tell whether it is alive: heartbeats were never seen for this deployment's runs, so it may be working or may have died without reporting."
	return true
}

func stuckNextSteps(stuck []StuckRun) []string {
	var out []string
	add := func(s string) { addUnique(&out, s) }
	for _, s := range stuck {
		switch s.Verdict {
		case CauseOrphaned:
			add("Cancel or mark the orphaned run(s) Crashed (prefect flow-run cancel <id>) so their concurrency slots are released, then restart the worker.")
			add("Consider a proactive automation on " + HeartbeatEvent + " that marks silent runs Crashed.")
		case CauseZombie:
			add("Check whether the zombie run's infrastructure (process, container, pod) still exists; if not, mark it Crashed or re-run it.")
			add("Add a proactive automation on " + HeartbeatEvent + " that changes such runs to Crashed (" + tn.GetAutomations + " lists the existing ones).")
		case CauseSilent:
			add("Check the silent run's infrastructure (process, container, pod) directly: it may have died without reporting.")
			add("Enable heartbeats (PREFECT_RUNNER_HEARTBEAT_FREQUENCY) so stopped runs can be told from slow ones.")
		case CauseAliveSlow:
			add("Read the run's latest logs (" + tn.GetFlowRunLogs + ", tail=true) to see what it is waiting on.")
		case CauseStuckPending:
			add("Check the worker's logs and the infrastructure events (pod scheduling, image pull) for the Pending run(s).")
		}
	}
	add("Diagnose one run in depth with " + tn.DiagnoseFlowRun + ".")
	return out
}
