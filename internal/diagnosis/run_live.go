package diagnosis

import (
	"fmt"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/shape"
	tn "github.com/prefect-mcp/prefect-mcp/internal/toolname"
)

// liveness measures an active run against its deployment's usual duration,
// its heartbeats, logs, worker and pool.
func liveness(v *runView) *Liveness {
	f, r, l := v.f, v.f.Run, v.f.Live
	out := &Liveness{Heartbeats: "none ever seen for this deployment's runs (heartbeats are off unless PREFECT_RUNNER_HEARTBEAT_FREQUENCY is set)"}
	if r.State != nil {
		out.InStateFor = shape.Dur(f.Now.Sub(r.State.Timestamp).Seconds())
	}
	if l.UsualSeconds > 0 {
		out.UsualDuration = fmt.Sprintf("%s (median of %d completed run(s))", shape.Dur(l.UsualSeconds), l.UsualSample)
	}
	if w := v.d.Evidence.Where; w != nil {
		out.LastHeartbeat, out.Worker = w.LastHeartbeat, w.Worker
	}
	if !l.DeploymentBeats.IsZero() {
		out.Heartbeats = "enabled: this deployment's runs send them (newest " + shape.TS(l.DeploymentBeats) + ")"
	}
	if !l.LastLog.IsZero() {
		out.LastLog = shape.TS(l.LastLog) + " " + shape.Clip(l.LastLogLine, 160)
	}
	switch {
	case l.Pool != nil:
		out.PoolStatus = shape.FirstNonEmpty(l.Pool.Status, "unknown")
		if l.Pool.IsPaused {
			out.PoolStatus = "PAUSED"
		}
	case l.PoolMissing:
		out.PoolStatus = "deleted"
	}
	if out.Worker != "" {
		out.WorkerStatus = "not registered in the pool"
		for _, w := range l.Workers {
			if w.Name == out.Worker {
				out.WorkerStatus = shape.FirstNonEmpty(w.Status, "unknown")
				if w.LastHeartbeatTime != nil {
					out.WorkerStatus += " (last heartbeat " + shape.TS(*w.LastHeartbeatTime) + ")"
				}
			}
		}
	}
	out.CrashAutomation = l.ZombieAutomation
	return out
}

// offline reports that nothing can act on the run: the worker that picked
// it up is offline, or its pool has no online worker.
func offline(l *Liveness) bool {
	if l.PoolStatus == "deleted" {
		return true
	}
	if l.Worker != "" {
		return !strings.HasPrefix(l.WorkerStatus, "ONLINE")
	}
	return l.PoolStatus == "NOT_READY"
}

func offlineText(l *Liveness, pool string) string {
	switch {
	case l.PoolStatus == "deleted":
		return "its work pool " + pool + " was deleted"
	case l.Worker != "" && strings.HasPrefix(l.WorkerStatus, "not registered"):
		return "the worker " + l.Worker + " that picked it up is no longer registered in work pool " + pool
	case l.Worker != "":
		return "the worker " + l.Worker + " that picked it up is " + strings.ToLower(strings.Fields(l.WorkerStatus + " offline")[0])
	}
	return "work pool " + pool + " has no online worker (status NOT_READY)"
}

func inState(v *runView) time.Duration {
	if v.f.Run.State == nil {
		return 0
	}
	return v.f.Now.Sub(v.f.Run.State.Timestamp)
}

// ruleStuckPending: Pending means a worker took the run and is starting its
// infrastructure; the engine moves it to Running when the flow starts.
func ruleStuckPending(v *runView) bool {
	if v.f.Run.StateType != "PENDING" || inState(v) < stuckPendingAfter {
		return false
	}
	d := v.d
	d.Liveness = liveness(v)
	d.Liveness.Verdict = "stuck Pending: the infrastructure never reported the flow started"
	d.Cause = CauseStuckPending
	d.Evidence.Log = findLog(v.f.ErrorLogs, submissionLogStart)
	d.Summary = fmt.Sprintf("%s has been Pending for %s: a worker took it but its infrastructure never started the flow.", v.name, d.Liveness.InStateFor)
	if d.Evidence.Log != "" {
		d.Summary = fmt.Sprintf("%s has been Pending for %s: the worker logged a submission failure, so its infrastructure never started.", v.name, d.Liveness.InStateFor)
	}
	d.NextSteps = []string{"Check the infrastructure the worker created (pod/container/process: image pull, scheduling, quotas) and the worker's own log.",
		"Check work pool " + v.f.Run.WorkPoolName + " and its workers with " + tn.GetWorkPools + "."}
	return true
}

// ruleOrphaned: Running, but the worker that would report its end is gone.
func ruleOrphaned(v *runView) bool {
	if v.f.Run.StateType != "RUNNING" {
		return false
	}
	live := liveness(v)
	if !offline(live) || (live.Worker == "" && live.PoolStatus != "deleted") {
		return false
	}
	d := v.d
	d.Liveness, live.Verdict, d.Cause = live, "orphaned: its worker went offline", CauseOrphaned
	d.Summary = fmt.Sprintf("%s says Running for %s, but %s: nothing will report its end if its infrastructure died.", v.name, live.InStateFor, offlineText(live, v.f.Run.WorkPoolName))
	d.NextSteps = []string{"Check whether its infrastructure (process, pod, container) still exists; if not, the run is dead and can be marked Crashed or re-run.",
		"Restart the worker of work pool " + v.f.Run.WorkPoolName + " (" + tn.GetWorkPools + ")."}
	return true
}

// ruleZombie: this deployment's runs send heartbeats, and this one stopped.
func ruleZombie(v *runView) bool {
	if v.f.Run.StateType != "RUNNING" || v.f.Live.DeploymentBeats.IsZero() {
		return false
	}
	live := liveness(v)
	last := v.f.Run.State.Timestamp
	if live.LastHeartbeat != "" {
		last, _ = time.Parse(time.RFC3339, live.LastHeartbeat)
	}
	if v.f.Now.Sub(last) < heartbeatStaleAfter {
		return false
	}
	d := v.d
	d.Liveness, live.Verdict, d.Cause = live, "zombie: heartbeats stopped while Running", CauseZombie
	since := shape.Dur(v.f.Now.Sub(last).Seconds())
	d.Summary = fmt.Sprintf("%s is a zombie: it is Running but has sent no heartbeat for %s although this deployment's runs send them; its process most likely died.", v.name, since)
	if live.CrashAutomation != "" {
		d.Summary += " Automation " + live.CrashAutomation + " will mark it Crashed."
	} else {
		d.Summary += " No automation marks such runs Crashed, so it stays Running."
	}
	d.NextSteps = []string{"Check whether its infrastructure still exists; if not, mark the run Crashed or re-run it.",
		"Add a proactive automation on " + HeartbeatEvent + " that changes the run's state to Crashed (" + tn.GetAutomations + " lists the existing ones)."}
	return true
}

// ruleSilent: no heartbeats to judge by and no log line for a long time.
func ruleSilent(v *runView) bool {
	if v.f.Run.StateType != "RUNNING" {
		return false
	}
	live := liveness(v)
	quietSince := v.f.Run.State.Timestamp
	if !v.f.Live.LastLog.IsZero() {
		quietSince = v.f.Live.LastLog
	}
	if v.f.Now.Sub(quietSince) < max(silentAfter, 10*time.Duration(v.f.Live.UsualSeconds*float64(time.Second))) {
		return false
	}
	d := v.d
	d.Liveness, live.Verdict, d.Cause = live, "silent: no heartbeat and no log line for a long time", CauseSilent
	d.Summary = fmt.Sprintf("%s has been Running for %s and has logged nothing for %s; without heartbeats Prefect cannot tell whether it is alive.", v.name, live.InStateFor, shape.Dur(v.f.Now.Sub(quietSince).Seconds()))
	d.NextSteps = []string{"Look at its infrastructure directly (process, pod, container); if it is gone, the run is dead.",
		"Enable heartbeats (PREFECT_RUNNER_HEARTBEAT_FREQUENCY) so stopped runs can be detected."}
	return true
}

func ruleAliveSlow(v *runView) bool {
	u := v.f.Live.UsualSeconds
	if v.f.Run.StateType != "RUNNING" || u <= 0 || inState(v).Seconds() < 2*u {
		return false
	}
	d := v.d
	d.Liveness = liveness(v)
	d.Liveness.Verdict, d.Cause = "alive and slow", CauseAliveSlow
	d.Summary = fmt.Sprintf("%s is alive but slow: Running for %s against a usual %s; it is still logging or sending heartbeats.", v.name, d.Liveness.InStateFor, shape.Dur(u))
	d.NextSteps = []string{"Find the slow step in its recent logs (" + tn.GetFlowRunLogs + ", tail=true) or task runs (" + tn.GetTaskRuns + ")."}
	return true
}

func ruleAlive(v *runView) bool {
	if v.f.Run.StateType != "RUNNING" {
		return false
	}
	d := v.d
	d.Liveness = liveness(v)
	d.Liveness.Verdict, d.Cause = "alive", CauseAlive
	d.Summary = fmt.Sprintf("%s is running normally (for %s%s); it has not failed.", v.name, d.Liveness.InStateFor, optional(", usual "+shape.Dur(v.f.Live.UsualSeconds), v.f.Live.UsualSeconds > 0))
	d.NextSteps = []string{"If it runs much longer than usual, call " + tn.DiagnoseStuckRuns + "."}
	return true
}

// notFailed answers for a run that has nothing to diagnose (yet).
func notFailed(v *runView) {
	d, r := v.d, v.f.Run
	d.Cause = CauseNotFailed
	d.Evidence.Exception, d.Evidence.FailedTasks, d.Evidence.NotReady = nil, nil, nil
	label := shape.StateLabel(r.StateType, r.StateName)
	if v.f.Live != nil {
		d.Liveness = liveness(v)
		d.Liveness.Verdict = "starting"
	}
	switch r.StateType {
	case "COMPLETED":
		d.Summary = fmt.Sprintf("%s completed successfully; there is nothing to diagnose.", v.name)
	case "RUNNING":
		since := ""
		if r.StartTime != nil {
			since = " for " + shape.Dur(v.f.Now.Sub(*r.StartTime).Seconds())
		}
		d.Summary = fmt.Sprintf("%s is still running%s; it has not failed.", v.name, since)
		d.NextSteps = []string{"If it runs much longer than usual, call " + tn.DiagnoseStuckRuns + "."}
	case "SCHEDULED", "PENDING":
		if r.StateName == "Late" || r.StateName == "AwaitingConcurrencySlot" || r.StateType == "PENDING" {
			d.Summary = fmt.Sprintf("%s is %s and has not started yet; it has not failed.", v.name, label)
		} else {
			d.Summary = fmt.Sprintf("%s is %s; it has not run yet, so there is nothing to diagnose.", v.name, label)
		}
		d.NextSteps = []string{"Call " + tn.DiagnoseLateRuns + " with this run's deployment_id or work pool to see why it has not started."}
	case "PAUSED":
		d.Summary = fmt.Sprintf("%s is paused and waiting to be resumed; it has not failed.", v.name)
		d.NextSteps = []string{"Resume it from the UI or CLI (prefect flow-run resume), or let it time out."}
	default:
		d.Summary = fmt.Sprintf("%s is %s; there is nothing to diagnose.", v.name, label)
	}
}
