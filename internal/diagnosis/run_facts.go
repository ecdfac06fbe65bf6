package diagnosis

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Bounds of the run facts: each level is a fixed number of requests,
// whatever the number of task runs, log lines or runs of the deployment.
const (
	maxErrorLogs    = 50
	maxRunTasks     = 200
	maxSubflowDepth = 3
	usualSample     = 20 // completed runs of the deployment read for its usual duration
	maxWorkersRead  = 200
	logLevelError   = 40 // Python's logging.ERROR
	// eventsLookback bounds the event search of one run: its own events
	// (state changes, heartbeats, cancellations) fall well inside it.
	eventsLookback = 30 * 24 * time.Hour
	// HeartbeatEvent is the event a flow run emits while it runs, when
	// heartbeats are enabled (PREFECT_RUNNER_HEARTBEAT_FREQUENCY).
	HeartbeatEvent = "prefect.flow-run.heartbeat"
)

// RunFacts is what diagnose_flow_run read about one run.
type RunFacts struct {
	Run       prefect.FlowRun
	Flow      string
	States    []prefect.State    // oldest first
	Events    []prefect.Event    // the run's own events, newest first
	ErrorLogs []prefect.LogEntry // ERROR and above, newest first
	Tasks     []prefect.TaskRun
	Now       time.Time
	Live      *LiveFacts     // Running, Pending and Cancelling runs only
	Subflows  []SubflowFacts // the failing child chain, when a subflow failed
}

// SubflowFacts is one level of a failing subflow chain.
type SubflowFacts struct {
	Run       prefect.FlowRun
	ErrorLogs []prefect.LogEntry
	Tasks     []prefect.TaskRun
}

// LiveFacts is what tells whether an active run is still doing anything.
type LiveFacts struct {
	UsualSeconds     float64   // median duration of the deployment's recent completed runs; 0: unknown
	UsualSample      int       // how many runs that median is of
	LastLog          time.Time // the run's newest log line, any level; zero: none
	LastLogLine      string
	DeploymentBeats  time.Time // newest heartbeat of any run of the deployment; zero: none seen
	Pool             *prefect.WorkPool
	PoolMissing      bool
	Workers          []prefect.Worker
	ZombieAutomation string // an enabled automation that crashes runs whose heartbeats stop
}

// Active reports a run whose liveness is the question.
func Active(stateType string) bool {
	return stateType == "RUNNING" || stateType == "PENDING" || stateType == "CANCELLING"
}

// GatherRun reads the facts of run id: one concurrent round of six
// requests, a second of at most six for an active run's liveness, and three
// per subflow level (at most maxSubflowDepth) when a subflow failed.
func GatherRun(ctx context.Context, api API, id string, now time.Time) (RunFacts, error) {
	f := RunFacts{Run: prefect.FlowRun{ID: id}, Now: now}
	var (
		run    prefect.FlowRun
		flows  []prefect.Flow
		events prefect.EventPage
	)
	jobs := []func(context.Context) error{
		func(ctx context.Context) error {
			return api.Get(ctx, prefect.Path("/flow_runs/%s", id), nil, &run)
		},
		func(ctx context.Context) error {
			return api.Get(ctx, "/flow_run_states/", map[string][]string{"flow_run_id": {id}}, &f.States)
		},
		// The flow through a cross filter on the run, so it does not wait for the run.
		func(ctx context.Context) error {
			return api.Post(ctx, "/flows/filter", prefect.Body{"flow_runs": prefect.IDIn(id), "limit": 1}, &flows)
		},
		func(ctx context.Context) error {
			return api.Post(ctx, "/events/filter", prefect.Body{
				"filter": prefect.Where{
					"any_resource": prefect.ResourceID("prefect.flow-run." + id),
					"occurred":     prefect.Occurred(now.Add(-eventsLookback), now),
					"order":        "DESC",
				},
				"limit": 50,
			}, &events)
		},
	}
	jobs = append(jobs, levelJobs(api, id, &f.ErrorLogs, &f.Tasks)...)
	if err := parallel(ctx, jobs...); err != nil {
		return f, err
	}
	f.Run, f.Events = run, events.Events
	slices.SortStableFunc(f.States, func(a, b prefect.State) int { return a.Timestamp.Compare(b.Timestamp) })
	if len(flows) > 0 {
		f.Flow = flows[0].Name
	}
	if Active(run.StateType) {
		live, err := gatherLive(ctx, api, run, f.Events, now)
		if err != nil {
			return f, err
		}
		f.Live = live
	}
	if run.StateType == "FAILED" && subflowFailed(f.Tasks) {
		hops, err := walkSubflows(ctx, api, f.Tasks)
		if err != nil {
			return f, err
		}
		f.Subflows = hops
	}
	return f, nil
}

// levelJobs reads a run's ERROR logs and task runs (two requests).
func levelJobs(api API, id string, logs *[]prefect.LogEntry, tasks *[]prefect.TaskRun) []func(context.Context) error {
	return []func(context.Context) error{
		func(ctx context.Context) error {
			return api.Post(ctx, "/logs/filter", prefect.Body{
				"logs":  prefect.Where{"flow_run_id": prefect.AnyOf(id), "level": prefect.AtLeast(logLevelError)},
				"sort":  "TIMESTAMP_DESC",
				"limit": maxErrorLogs,
			}, logs)
		},
		func(ctx context.Context) error {
			return api.Post(ctx, "/task_runs/filter", prefect.Body{
				"task_runs": prefect.Where{"flow_run_id": prefect.AnyOf(id)},
				"sort":      "EXPECTED_START_TIME_ASC",
				"limit":     maxRunTasks,
			}, tasks)
		},
	}
}

// gatherLive reads an active run's liveness: the deployment's usual
// duration, the run's last log line, whether any run of the deployment ever
// sent a heartbeat, its pool and workers, and the zombie automation.
func gatherLive(ctx context.Context, api API, run prefect.FlowRun, events []prefect.Event, now time.Time) (*LiveFacts, error) {
	l := &LiveFacts{}
	var (
		completed []prefect.FlowRun
		lastLog   []prefect.LogEntry
		beats     prefect.EventPage
		autos     []prefect.Automation
	)
	jobs := []func(context.Context) error{
		func(ctx context.Context) error {
			return api.Post(ctx, "/logs/filter", prefect.Body{
				"logs": prefect.Where{"flow_run_id": prefect.AnyOf(run.ID)}, "sort": "TIMESTAMP_DESC", "limit": 1,
			}, &lastLog)
		},
		func(ctx context.Context) error {
			return api.Post(ctx, "/automations/filter", prefect.Body{"limit": prefect.MaxLimit}, &autos)
		},
	}
	if run.DeploymentID != "" {
		jobs = append(jobs,
			func(ctx context.Context) error {
				return api.Post(ctx, "/flow_runs/filter", prefect.Body{
					"flow_runs": prefect.Where{"deployment_id": prefect.AnyOf(run.DeploymentID), "state": prefect.StateTypeIn("COMPLETED")},
					"sort":      "START_TIME_DESC", "limit": usualSample,
				}, &completed)
			},
			func(ctx context.Context) error {
				return api.Post(ctx, "/events/filter", prefect.Body{
					"filter": prefect.Where{
						"event":        prefect.EventName(HeartbeatEvent),
						"any_resource": prefect.ResourceID("prefect.deployment." + run.DeploymentID),
						"occurred":     prefect.Occurred(now.Add(-eventsLookback), now),
						"order":        "DESC",
					},
					"limit": 1,
				}, &beats)
			})
	}
	if run.WorkPoolName != "" {
		l.Pool = &prefect.WorkPool{}
		jobs = append(jobs,
			func(ctx context.Context) error {
				err := api.Get(ctx, prefect.Path("/work_pools/%s", run.WorkPoolName), nil, l.Pool)
				if prefect.IsNotFound(err) {
					l.PoolMissing = true
					return nil
				}
				return err
			},
			func(ctx context.Context) error {
				err := api.Post(ctx, prefect.Path("/work_pools/%s/workers/filter", run.WorkPoolName), prefect.Body{"limit": maxWorkersRead}, &l.Workers)
				if prefect.IsNotFound(err) {
					return nil
				}
				return err
			})
	}
	if err := parallel(ctx, jobs...); err != nil {
		return nil, err
	}
	if l.PoolMissing {
		l.Pool = nil
	}
	if len(lastLog) > 0 {
		l.LastLog, l.LastLogLine = lastLog[0].Timestamp, lastLog[0].Message
	}
	for _, e := range append(beats.Events, events...) {
		if e.Event == HeartbeatEvent && e.Occurred.After(l.DeploymentBeats) {
			l.DeploymentBeats = e.Occurred
		}
	}
	l.UsualSeconds, l.UsualSample = medianSeconds(completed)
	l.ZombieAutomation = zombieAutomation(autos)
	return l, nil
}

func medianSeconds(runs []prefect.FlowRun) (float64, int) {
	var d []float64
	for _, r := range runs {
		if r.TotalRunTime > 0 {
			d = append(d, r.TotalRunTime)
		}
	}
	if len(d) == 0 {
		return 0, 0
	}
	sort.Float64s(d)
	return d[len(d)/2], len(d)
}

// zombieAutomation names an enabled automation that crashes a run whose
// heartbeats stopped: Prefect's documented recipe is a proactive trigger
// expecting prefect.flow-run.heartbeat with a change-flow-run-state action.
func zombieAutomation(autos []prefect.Automation) string {
	for _, a := range autos {
		if !a.Enabled || a.Trigger["posture"] != "Proactive" {
			continue
		}
		expect, _ := a.Trigger["expect"].([]any)
		if !slices.Contains(expect, any(HeartbeatEvent)) {
			continue
		}
		for _, act := range a.Actions {
			if act["type"] == "change-flow-run-state" {
				return a.Name
			}
		}
	}
	return ""
}

func isFailure(stateType string) bool { return stateType == "FAILED" || stateType == "CRASHED" }

func subflowFailed(tasks []prefect.TaskRun) bool {
	return slices.ContainsFunc(tasks, func(t prefect.TaskRun) bool {
		return isFailure(t.StateType) && t.State != nil && t.State.StateDetails.ChildFlowRunID != ""
	})
}

// walkSubflows follows the failing child flow run down to the root cause,
// at most maxSubflowDepth levels; each level costs three requests. Prefect 3
// links a subflow through its tracking task's child_flow_run_id; deeper
// levels are also found by parent_task_run_id.
func walkSubflows(ctx context.Context, api API, tasks []prefect.TaskRun) ([]SubflowFacts, error) {
	var hops []SubflowFacts
	for depth := 1; depth <= maxSubflowDepth; depth++ {
		var childIDs, taskIDs []string
		for _, t := range tasks {
			if !isFailure(t.StateType) {
				continue
			}
			taskIDs = append(taskIDs, t.ID)
			if t.State != nil && t.State.StateDetails.ChildFlowRunID != "" {
				childIDs = append(childIDs, t.State.StateDetails.ChildFlowRunID)
			}
		}
		if len(taskIDs) == 0 {
			break
		}
		filter := prefect.Where{"parent_task_run_id": prefect.AnyOf(taskIDs...)}
		if len(childIDs) > 0 {
			filter = prefect.Either(prefect.Where{"id": prefect.AnyOf(childIDs...), "parent_task_run_id": prefect.AnyOf(taskIDs...)})
		}
		var children []prefect.FlowRun
		if err := api.Post(ctx, "/flow_runs/filter", prefect.Body{"flow_runs": filter, "sort": "EXPECTED_START_TIME_ASC", "limit": 20}, &children); err != nil {
			return nil, err
		}
		idx := slices.IndexFunc(children, func(r prefect.FlowRun) bool { return isFailure(r.StateType) })
		if idx < 0 {
			break
		}
		next := SubflowFacts{Run: children[idx]}
		if err := parallel(ctx, levelJobs(api, next.Run.ID, &next.ErrorLogs, &next.Tasks)...); err != nil {
			return nil, err
		}
		hops = append(hops, next)
		tasks = next.Tasks
	}
	return hops, nil
}
