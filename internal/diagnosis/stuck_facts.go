package diagnosis

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Bounds and thresholds of diagnose_stuck_runs.
const (
	// DefaultStuckMinutes is the threshold of a run whose deployment has
	// no completed run to compare with.
	DefaultStuckMinutes = 30
	// RelativeFloor is the least a run must last before it is stuck by its
	// deployment's usual duration: minutes-long flows are judged in minutes.
	RelativeFloor = 2 * time.Minute
	// StuckFactor: a run is stuck past this many times its deployment's
	// median duration (and past RelativeFloor and the caller's floor).
	StuckFactor = 10
	// MaxStuckMinutes is the largest floor a caller may give.
	MaxStuckMinutes    = 7 * 24 * 60
	maxStuckCandidates = 50
)

// StuckFacts is what diagnose_stuck_runs reads: the active runs, and for
// those past the floor their deployments' recent completed runs, heartbeat
// counts and pools.
type StuckFacts struct {
	Scope      Scope
	MinMinutes int // the caller's floor; 0: the relative default
	Now        time.Time
	Active     []prefect.FlowRun // Running and Pending in scope, longest first (at most MaxScanned)
	Completed  []prefect.FlowRun // recent completed runs of the candidates' deployments
	// Beats counts prefect.flow-run.heartbeat events per flow run, for the
	// candidates and the Completed runs: whether a deployment's runs send
	// heartbeats at all, and when each candidate last did.
	Beats map[string]prefect.EventCount
	Pools map[string]*PoolFacts
}

// floor is the least time in state a run needs to be a candidate.
func (f *StuckFacts) floor() time.Duration {
	return max(time.Duration(f.MinMinutes)*time.Minute, RelativeFloor)
}

// candidates are the active runs past the floor, at most maxStuckCandidates;
// cut reports that more were past it.
func (f *StuckFacts) candidates() (runs []prefect.FlowRun, cut bool) {
	for _, r := range f.Active {
		if since := activeSince(r); !since.IsZero() && f.Now.Sub(since) >= f.floor() {
			runs = append(runs, r)
		}
	}
	if len(runs) > maxStuckCandidates {
		return runs[:maxStuckCandidates], true
	}
	return runs, false
}

// activeSince is when a run entered its current Running or Pending state.
func activeSince(r prefect.FlowRun) time.Time {
	if r.StateType == "RUNNING" && r.StartTime != nil {
		return *r.StartTime
	}
	if r.State != nil {
		return r.State.Timestamp
	}
	return time.Time{}
}

// GatherStuck reads the stuck facts: one request for the active runs; when
// some are past the floor, one concurrent round of at most three (their
// deployments' completed runs, their pools, the first pool's workers) and
// one count of heartbeat events by flow run.
func GatherStuck(ctx context.Context, api API, scope Scope, minMinutes int, now time.Time) (StuckFacts, error) {
	f := StuckFacts{Scope: scope, MinMinutes: minMinutes, Now: now, Beats: map[string]prefect.EventCount{}, Pools: map[string]*PoolFacts{}}
	filter := prefect.Where{"state": prefect.StateTypeIn("RUNNING", "PENDING")}
	body := prefect.Body{"flow_runs": filter, "sort": "START_TIME_ASC", "limit": MaxScanned}
	if scope.DeploymentID != "" {
		filter["deployment_id"] = prefect.AnyOf(scope.DeploymentID)
	}
	if scope.WorkPool != "" {
		body["work_pools"] = prefect.NameIn(scope.WorkPool)
	}
	if err := api.Post(ctx, "/flow_runs/filter", body, &f.Active); err != nil {
		return f, err
	}
	runs, _ := f.candidates()
	if len(runs) == 0 {
		return f, nil
	}
	var depIDs, poolNames []string
	for _, r := range runs {
		addUnique(&depIDs, r.DeploymentID)
		addUnique(&poolNames, r.WorkPoolName)
	}
	jobs := poolJobs(api, poolNames, f.Pools)
	if len(depIDs) > 0 {
		jobs = append(jobs, func(ctx context.Context) error {
			return api.Post(ctx, "/flow_runs/filter", prefect.Body{
				"flow_runs": prefect.Where{"deployment_id": prefect.AnyOf(depIDs...), "state": prefect.StateTypeIn("COMPLETED")},
				"sort":      "END_TIME_DESC", "limit": MaxScanned,
			}, &f.Completed)
		})
	}
	if err := parallel(ctx, jobs...); err != nil {
		return f, err
	}
	var resources []string
	for _, r := range slices.Concat(runs, f.Completed) {
		resources = append(resources, "prefect.flow-run."+r.ID)
	}
	var beats []prefect.EventCount
	if err := api.Post(ctx, "/events/count-by/resource", prefect.Body{"filter": prefect.Where{
		"event":    prefect.EventName(HeartbeatEvent),
		"resource": prefect.ResourceID(resources...),
		"occurred": prefect.Occurred(now.Add(-eventsLookback), now),
	}}, &beats); err != nil {
		return f, err
	}
	for _, b := range beats {
		f.Beats[strings.TrimPrefix(b.Value, "prefect.flow-run.")] = b
	}
	return f, nil
}
