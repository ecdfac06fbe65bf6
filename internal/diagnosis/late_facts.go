package diagnosis

import (
	"context"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Scope narrows the late and stuck diagnoses: a deployment (by id), a work
// pool (by name), both, or neither (the whole workspace).
type Scope struct {
	DeploymentID string
	WorkPool     string
}

// String names the scope in a summary.
func (s Scope) String() string {
	switch {
	case s.DeploymentID != "" && s.WorkPool != "":
		return "deployment " + s.DeploymentID + " in work pool " + s.WorkPool
	case s.DeploymentID != "":
		return "deployment " + s.DeploymentID
	case s.WorkPool != "":
		return "work pool " + s.WorkPool
	}
	return "the whole workspace"
}

// LateFacts is what diagnose_late_runs reads: the runs not starting, what
// holds slots, the limits, and the deployments, queues and pools the
// waiting runs need.
type LateFacts struct {
	Scope        Scope
	Now          time.Time
	Late         []prefect.FlowRun // Late and AwaitingConcurrencySlot, oldest first (at most MaxScanned)
	Active       []prefect.FlowRun // Running, Pending and Cancelling runs in the pool scope
	Limits       []prefect.GlobalConcurrencyLimit
	PendingTasks []prefect.TaskRun // tagged Pending task runs inside Running flow runs
	Scheduling   *SchedulingFacts  // with a deployment in scope
	Deployments  map[string]prefect.Deployment
	Queues       map[string]prefect.WorkQueue
	Pools        map[string]*PoolFacts
}

// GatherLate reads the late facts: one concurrent round of four requests
// (six with a deployment in scope, for its scheduling), and, when runs are
// waiting, a second of at most four (their deployments, queues, pools, and
// the workers of the first pool). A missing deployment in scope is a
// not-found error.
func GatherLate(ctx context.Context, api API, scope Scope, now time.Time) (LateFacts, error) {
	f := LateFacts{Scope: scope, Now: now, Deployments: map[string]prefect.Deployment{}, Queues: map[string]prefect.WorkQueue{}, Pools: map[string]*PoolFacts{}}
	lateFilter := prefect.Where{"state": prefect.Where{
		"type": prefect.AnyOf("SCHEDULED"),
		"name": prefect.AnyOf("Late", "AwaitingConcurrencySlot"),
	}}
	lateBody := prefect.Body{"flow_runs": lateFilter, "sort": "EXPECTED_START_TIME_ASC", "limit": MaxScanned}
	activeBody := prefect.Body{
		"flow_runs": prefect.Where{"state": prefect.StateTypeIn("RUNNING", "PENDING", "CANCELLING")},
		"sort":      "START_TIME_ASC", "limit": MaxScanned,
	}
	if scope.DeploymentID != "" {
		lateFilter["deployment_id"] = prefect.AnyOf(scope.DeploymentID)
	}
	if scope.WorkPool != "" {
		pools := prefect.NameIn(scope.WorkPool)
		lateBody["work_pools"], activeBody["work_pools"] = pools, pools
	}
	jobs := []func(context.Context) error{
		func(ctx context.Context) error { return api.Post(ctx, "/flow_runs/filter", lateBody, &f.Late) },
		func(ctx context.Context) error { return api.Post(ctx, "/flow_runs/filter", activeBody, &f.Active) },
		func(ctx context.Context) error {
			return api.Post(ctx, "/v2/concurrency_limits/filter", prefect.Body{"limit": MaxScanned}, &f.Limits)
		},
		func(ctx context.Context) error {
			return api.Post(ctx, "/task_runs/filter", prefect.Body{
				"task_runs": prefect.Where{"state": prefect.StateTypeIn("PENDING"), "tags": prefect.IsNull(false)},
				"flow_runs": prefect.Where{"state": prefect.StateTypeIn("RUNNING")},
				"sort":      "EXPECTED_START_TIME_ASC", "limit": MaxScanned,
			}, &f.PendingTasks)
		},
	}
	if scope.DeploymentID != "" {
		f.Scheduling = &SchedulingFacts{Now: now}
		jobs = append(jobs, SchedulingJobs(api, scope.DeploymentID, f.Scheduling)...)
	}
	if err := parallel(ctx, jobs...); err != nil || len(f.Late) == 0 {
		return f, err
	}

	var depIDs, queueIDs, poolNames []string
	for _, r := range f.Late {
		addUnique(&depIDs, r.DeploymentID)
		addUnique(&queueIDs, r.WorkQueueID)
		addUnique(&poolNames, r.WorkPoolName)
	}
	var deps []prefect.Deployment
	var queues []prefect.WorkQueue
	jobs = poolJobs(api, poolNames, f.Pools)
	if len(depIDs) > 0 {
		jobs = append(jobs, func(ctx context.Context) (err error) {
			deps, err = prefect.ByIDs[prefect.Deployment](ctx, api, "deployments", depIDs)
			return err
		})
	}
	if len(queueIDs) > 0 {
		jobs = append(jobs, func(ctx context.Context) (err error) {
			queues, err = prefect.ByIDs[prefect.WorkQueue](ctx, api, "work_queues", queueIDs)
			return err
		})
	}
	if err := parallel(ctx, jobs...); err != nil {
		return f, err
	}
	for _, d := range deps {
		f.Deployments[d.ID] = d
	}
	for _, q := range queues {
		f.Queues[q.ID] = q
	}
	return f, nil
}
