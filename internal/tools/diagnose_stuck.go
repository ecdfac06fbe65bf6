package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

const (
	// defaultStuckMinutes is the threshold of a run whose deployment has no
	// completed run to compare with.
	defaultStuckMinutes = 30
	// relativeFloor is the least a run must last before it is stuck by its
	// deployment's usual duration: minutes-long flows are judged in minutes.
	relativeFloor      = 2 * time.Minute
	maxStuckMinutes    = 7 * 24 * 60
	maxStuckCandidates = 50
	maxListedStuck     = 10
	// stuckFactor: a run is stuck past this many times its deployment's
	// median duration (and past relativeFloor and min_minutes).
	stuckFactor = 10
	// heartbeatRecent: a flow-run heartbeat this fresh means the process is
	// alive (runner heartbeats are sent every 30s or more when enabled).
	heartbeatRecent = 10 * time.Minute
	medianSamples   = 20
)

// Verdicts diagnose_stuck_runs gives a run.
const (
	stuckOrphaned   = "likely_orphaned"
	stuckNoBeat     = "no_heartbeat_worker_online"
	stuckSlow       = "alive_but_slow"
	stuckPendingInf = "stuck_pending"
)

type diagnoseStuckInput struct {
	DeploymentID string `json:"deployment_id,omitempty" jsonschema:"id or flow/deployment"`
	WorkPoolName string `json:"work_pool_name,omitempty"`
	MinMinutes   int    `json:"min_minutes,omitempty" jsonschema:"floor in minutes; default 10x the usual duration (min 2), or 30 without history"`
	Workspace
}

func diagnoseStuckRunsTool() Definition {
	return define(Definition{
		Name: ToolDiagnoseStuckRuns, Title: "Diagnose stuck runs", Group: GroupDiagnosis,
		Summary: "Runs Running or Pending far longer than their deployment usually takes, with their last flow-run heartbeat and whether a worker is online: orphaned, silent or just slow.",
	}, `Runs Running or Pending far longer than their deployment usually takes (10x its median, at least 2 min), with heartbeat and worker evidence: likely_orphaned, no_heartbeat_worker_online, alive_but_slow, stuck_pending.
Example: {"min_minutes":60}`,
		func(s *jsonschema.Schema) { bound(s, "min_minutes", 1, maxStuckMinutes) },
		diagnoseStuckRuns)
}

type stuckResult struct {
	Summary   string     `json:"summary"`
	Scope     string     `json:"scope"`
	Checked   int        `json:"active_runs_checked"`
	Stuck     []stuckRun `json:"stuck_runs,omitempty"`
	NextSteps []string   `json:"next_steps,omitempty"`
	Truncated bool       `json:"truncated,omitempty"`
}

type stuckRun struct {
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
	Evidence      []string `json:"evidence"`

	elapsed time.Duration
}

func diagnoseStuckRuns(ctx context.Context, c *call, in diagnoseStuckInput) (any, error) {
	minMinutes := in.MinMinutes
	if minMinutes < 0 || minMinutes > maxStuckMinutes {
		return nil, badInput("min_minutes must be between 1 and %d (got %d)", maxStuckMinutes, minMinutes)
	}
	scope := "the whole workspace"
	filter := map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"RUNNING", "PENDING"}}}}
	body := map[string]any{"flow_runs": filter, "sort": "START_TIME_ASC", "limit": maxDiagnosedRuns}
	if in.DeploymentID != "" {
		id, err := c.resolveDeployment(ctx, "deployment_id", in.DeploymentID)
		if err != nil {
			return nil, err
		}
		in.DeploymentID = id
		filter["deployment_id"] = map[string]any{"any_": []string{id}}
		scope = "deployment " + id
	}
	if pool := strings.TrimSpace(in.WorkPoolName); pool != "" {
		in.WorkPoolName = pool
		body["work_pools"] = map[string]any{"name": map[string]any{"any_": []string{pool}}}
		scope = strings.TrimPrefix(scope+" in work pool "+pool, "the whole workspace in ")
	}
	var active []prefect.FlowRun
	if err := c.target.Client.Post(ctx, "/flow_runs/filter", body, &active); err != nil {
		return nil, err
	}
	now := c.deps.now()
	// Candidates: past the floor given, else past the relative floor; each is
	// then held against its own threshold.
	floor := max(time.Duration(minMinutes)*time.Minute, relativeFloor)
	res := stuckResult{Scope: scope, Checked: len(active)}
	var cands []stuckRun
	var runs []prefect.FlowRun
	for _, r := range active {
		since := runningSince(r)
		if since.IsZero() || now.Sub(since) < floor {
			continue
		}
		runs = append(runs, r)
		cands = append(cands, stuckRun{ID: r.ID, Name: r.Name, DeploymentID: r.DeploymentID, WorkPool: r.WorkPoolName,
			State: stateLabel(r.StateType, r.StateName), Since: ts(since), elapsed: now.Sub(since)})
	}
	if len(cands) > maxStuckCandidates {
		runs, cands, res.Truncated = runs[:maxStuckCandidates], cands[:maxStuckCandidates], true
	}
	if len(cands) == 0 {
		if len(active) == 0 {
			if err := c.checkScopeExists(ctx, diagnoseLateInput{DeploymentID: in.DeploymentID, WorkPoolName: in.WorkPoolName}); err != nil {
				return nil, err
			}
		}
		res.Summary = fmt.Sprintf("No run in %s is stuck: %d Running or Pending run(s) checked, none has been in that state for %s.", scope, len(active), dur(floor.Seconds()))
		return res, nil
	}

	// Usual durations, heartbeats and workers: a fixed number of requests.
	var depIDs, poolNames, resources []string
	earliest := now
	for _, r := range runs {
		addUnique(&depIDs, r.DeploymentID)
		addUnique(&poolNames, r.WorkPoolName)
		resources = append(resources, "prefect.flow-run."+r.ID)
		if s := runningSince(r); s.Before(earliest) {
			earliest = s
		}
	}
	var completed []prefect.FlowRun
	var beats []prefect.EventCount
	pools := map[string]*poolHealth{}
	jobs := c.poolJobs(poolNames, pools)
	if len(depIDs) > 0 {
		jobs = append(jobs, func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/flow_runs/filter", map[string]any{
				"flow_runs": map[string]any{"deployment_id": map[string]any{"any_": depIDs}, "state": map[string]any{"type": map[string]any{"any_": []string{"COMPLETED"}}}},
				"sort":      "END_TIME_DESC", "limit": maxDiagnosedRuns,
			}, &completed)
		})
	}
	jobs = append(jobs, func(ctx context.Context) error {
		return c.target.Client.Post(ctx, "/events/count-by/resource", map[string]any{"filter": map[string]any{
			"event":    map[string]any{"name": []string{flowRunHeartbeatName}},
			"resource": map[string]any{"id": resources},
			"occurred": map[string]any{"since": earliest.Add(-time.Minute).Format(time.RFC3339), "until": ts(now)},
		}}, &beats)
	})
	if err := parallel(ctx, diagnosisParallel, jobs...); err != nil {
		return nil, err
	}
	for _, p := range pools {
		p.evaluate(now)
	}
	medians := medianDurations(completed)
	lastBeat := map[string]prefect.EventCount{}
	for _, b := range beats {
		lastBeat[strings.TrimPrefix(b.Value, "prefect.flow-run.")] = b
	}
	for i, r := range runs {
		s := &cands[i]
		threshold := floor // the caller's own floor
		if in.MinMinutes == 0 {
			threshold = defaultStuckMinutes * time.Minute
		}
		if m, ok := medians[r.DeploymentID]; ok {
			s.Usual = dur(m.Seconds()) + " (median of recent completed runs)"
			threshold = max(floor, time.Duration(stuckFactor)*m)
		}
		s.Threshold = dur(threshold.Seconds())
		if s.elapsed < threshold {
			continue
		}
		s.Elapsed = dur(s.elapsed.Seconds())
		judgeStuck(s, r, lastBeat[r.ID], pools[r.WorkPoolName], now)
		res.Stuck = append(res.Stuck, *s)
	}
	if len(res.Stuck) == 0 {
		res.Summary = fmt.Sprintf("No run in %s is stuck: %d Running or Pending run(s) checked, none beyond %d× its deployment's usual duration (at least %s; %d minutes when there is no usual duration).", scope, len(active), stuckFactor, dur(floor.Seconds()), defaultStuckMinutes)
		return res, nil
	}
	sort.SliceStable(res.Stuck, func(i, j int) bool { return res.Stuck[i].elapsed > res.Stuck[j].elapsed })
	if len(res.Stuck) > maxListedStuck {
		res.Stuck, res.Truncated = res.Stuck[:maxListedStuck], true
	}
	first := res.Stuck[0]
	res.Summary = fmt.Sprintf("%d run(s) look stuck; the longest, %q, has been %s for %s (threshold %s): %s",
		len(res.Stuck), first.Name, strings.ToLower(first.State), first.Elapsed, first.Threshold, lowerFirst(first.Explanation))
	res.NextSteps = stuckNextSteps(res.Stuck)
	for len(res.Stuck) > 1 && jsonSize(res) > diagnosisBudget {
		res.Stuck, res.Truncated = res.Stuck[:len(res.Stuck)-1], true
	}
	return res, nil
}

func jsonSize(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// runningSince is when a run entered its current Running or Pending state.
func runningSince(r prefect.FlowRun) time.Time {
	if r.StateType == "RUNNING" && r.StartTime != nil {
		return *r.StartTime
	}
	if r.State != nil {
		return r.State.Timestamp
	}
	return time.Time{}
}

// medianDurations is the median total_run_time of up to medianSamples
// recent completed runs per deployment.
func medianDurations(completed []prefect.FlowRun) map[string]time.Duration {
	samples := map[string][]float64{}
	for _, r := range completed {
		if r.TotalRunTime > 0 && len(samples[r.DeploymentID]) < medianSamples {
			samples[r.DeploymentID] = append(samples[r.DeploymentID], r.TotalRunTime)
		}
	}
	out := map[string]time.Duration{}
	for dep, s := range samples {
		slices.Sort(s)
		m := s[len(s)/2]
		if len(s)%2 == 0 {
			m = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		out[dep] = time.Duration(m * float64(time.Second))
	}
	return out
}

func judgeStuck(s *stuckRun, r prefect.FlowRun, beat prefect.EventCount, pool *poolHealth, now time.Time) {
	recent := beat.Count > 0 && now.Sub(beat.EndTime) <= heartbeatRecent
	if beat.Count > 0 {
		s.LastHeartbeat = ts(beat.EndTime)
		s.Evidence = append(s.Evidence, fmt.Sprintf("%d prefect.flow-run.heartbeat event(s) since the run started; the last at %s (%s ago)", beat.Count, ts(beat.EndTime), dur(now.Sub(beat.EndTime).Seconds())))
	} else {
		s.Evidence = append(s.Evidence, "no prefect.flow-run.heartbeat event since the run started")
	}
	workerOnline := false
	switch {
	case pool == nil:
		s.Evidence = append(s.Evidence, "the run has no work pool (started outside a worker, e.g. flow.serve() or a script)")
	case pool.pushPool():
		workerOnline = true
		s.Evidence = append(s.Evidence, "work pool "+pool.name+" is a push/managed pool: no worker needed")
	default:
		workerOnline = pool.hasOnlineWorker()
		s.Evidence = append(s.Evidence, pool.workerEvidence(now))
	}
	silence := "no heartbeat since it started"
	if beat.Count > 0 {
		silence = "no heartbeat since " + ts(beat.EndTime)
	}
	switch {
	case r.StateType == "PENDING":
		s.Verdict = stuckPendingInf
		s.Explanation = "It was submitted but never reached Running: its infrastructure did not start (image pull, scheduling, crash before start)."
		if !workerOnline && pool != nil {
			s.Explanation = "It was submitted but never reached Running, and no worker is online in pool " + pool.name + " to notice."
		}
	case recent:
		s.Verdict = stuckSlow
		s.Explanation = "It is still heartbeating, so its process is alive: it is slow or waiting (on a task, a lock, an external system), not dead."
	case !workerOnline:
		s.Verdict = stuckOrphaned
		s.Explanation = fmt.Sprintf("Its process appears gone: %s and no online worker; Prefect will not end it by itself.", silence)
	default:
		s.Verdict = stuckNoBeat
		s.Explanation = fmt.Sprintf("The worker is online but the run's process is silent (%s); it may have died without reporting, or heartbeats are not enabled.", silence)
	}
}

func stuckNextSteps(stuck []stuckRun) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range stuck {
		switch s.Verdict {
		case stuckOrphaned:
			add("Cancel or mark the orphaned run(s) Crashed (prefect flow-run cancel <id>) so their concurrency slots are released, then restart the worker.")
			add("Consider a proactive automation on prefect.flow-run.heartbeat that marks silent runs Crashed.")
		case stuckNoBeat:
			add("Check the run's infrastructure (process, container, pod) on the worker's host: it may have died without reporting.")
		case stuckSlow:
			add("Read the run's latest logs (" + ToolGetFlowRunLogs + ", tail=true) to see what it is waiting on.")
		case stuckPendingInf:
			add("Check the worker's logs and the infrastructure events (pod scheduling, image pull) for the Pending run(s).")
		}
	}
	return out
}
