package tools

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Bounds of get_dashboard.
const (
	dashboardPools    = 50 // pools read, in one request
	dashboardFailures = 5
)

type dashboardInput struct {
	Workspace
}

func dashboardTool() Definition {
	return define(Definition{
		Name: ToolGetDashboard, Title: "Get dashboard", Group: GroupRuns,
		Summary: "One-call health overview: exact run counts by state (running, pending, scheduled, late, last-24h outcomes), work pools with status (NOT_READY = no worker online), limits at capacity, the latest failures.",
	}, `Workspace health in one call; start here. Exact run counts (running, pending, scheduled, late; failed, crashed, completed, cancelled in 24 h), pools with status, limits at capacity, the 5 latest failures.
Example: {}`,
		nil, getDashboard)
}

type runCounts struct {
	Running      *int `json:"running,omitempty"`
	Pending      *int `json:"pending,omitempty"`
	Scheduled    *int `json:"scheduled,omitempty"`
	Late         *int `json:"late,omitempty"`
	Failed24h    *int `json:"failed_24h,omitempty"`
	Crashed24h   *int `json:"crashed_24h,omitempty"`
	Completed24h *int `json:"completed_24h,omitempty"`
	Cancelled24h *int `json:"cancelled_24h,omitempty"`
}

type dashboardPool struct {
	Name             string `json:"name"`
	Type             string `json:"type,omitempty"`
	Status           string `json:"status,omitempty"`
	Paused           bool   `json:"paused,omitempty"`
	ConcurrencyLimit *int   `json:"concurrency_limit,omitempty"`
	RunsInUse        *int   `json:"runs_in_use,omitempty"` // Prefect counts these for pools with a limit
}

type failureRow struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Flow    string `json:"flow,omitempty"`
	State   string `json:"state"`
	At      string `json:"at,omitempty"`
	Message string `json:"message,omitempty"`
	UIURL   string `json:"ui_url,omitempty"`
}

type dashboardResult struct {
	AsOf             string          `json:"as_of"`
	FlowRuns         runCounts       `json:"flow_runs"`
	WorkPools        []dashboardPool `json:"work_pools,omitempty"`
	PoolsTruncated   bool            `json:"work_pools_truncated,omitempty"`
	LimitsAtCapacity []limitRow      `json:"limits_at_capacity,omitempty"`
	RecentFailures   []failureRow    `json:"recent_failures,omitempty"`
	// Missing names the parts that could not be read; Errors says why,
	// once per distinct error.
	Missing []string       `json:"missing,omitempty"`
	Errors  []sectionError `json:"errors,omitempty"`
}

type sectionError struct {
	Parts []string `json:"parts"`
	Error string   `json:"error"`
}

// getDashboard runs every section concurrently; a section that fails is
// named in Missing instead of failing the tool, since a partial overview
// still tells the model where to look. When every section fails the call
// fails with the first error.
func getDashboard(ctx context.Context, c *call, _ dashboardInput) (*dashboardResult, error) {
	now := c.deps.now()
	res := dashboardResult{AsOf: ts(now)}
	var countsErr, poolsErr, limitsErr, failuresErr error
	// The sections that need a second round of requests start first, so
	// the whole dashboard costs about two upstream round trips.
	jobs := []func(context.Context) error{
		func(ctx context.Context) error {
			res.WorkPools, res.PoolsTruncated, poolsErr = c.dashboardPools(ctx)
			return nil
		},
		func(ctx context.Context) error {
			lim, err := c.collectLimits(ctx)
			if err != nil {
				limitsErr = err
				return nil
			}
			for _, r := range lim.rows {
				if r.AtCapacity {
					res.LimitsAtCapacity = append(res.LimitsAtCapacity, r)
				}
			}
			return nil
		},
		func(ctx context.Context) error {
			res.RecentFailures, failuresErr = c.recentFailures(ctx)
			return nil
		},
		func(ctx context.Context) error {
			res.FlowRuns, countsErr = c.runCounts(ctx, now)
			return nil
		},
	}
	if err := parallel(ctx, len(jobs), jobs...); err != nil {
		return nil, err
	}
	failed := map[string]error{"work_pools": poolsErr, "limits_at_capacity": limitsErr, "recent_failures": failuresErr}
	for _, key := range runCountKeys {
		failed["flow_runs."+key] = countsErr
	}
	var first error
	for _, part := range slices.Sorted(maps.Keys(failed)) {
		err := failed[part]
		if err == nil {
			continue
		}
		// A caller's cancellation is not a degraded section: fail the call.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if first == nil {
			first = err
		}
		res.Missing = append(res.Missing, part)
		msg := c.describe(err)
		if i := slices.IndexFunc(res.Errors, func(e sectionError) bool { return e.Error == msg }); i >= 0 {
			res.Errors[i].Parts = append(res.Errors[i].Parts, part)
		} else {
			res.Errors = append(res.Errors, sectionError{Parts: []string{part}, Error: msg})
		}
	}
	// Nothing read is one failure, not a dashboard of errors.
	if len(res.Missing) == len(failed) {
		return nil, first
	}
	return &res, nil
}

// runCountKeys name the counts of runCounts, as in the result.
var runCountKeys = []string{"running", "pending", "scheduled", "late", "failed_24h", "crashed_24h", "completed_24h", "cancelled_24h"}

// runCounts reads every run count in one request: the run history as a
// single interval covering every run, grouped by current state, of the
// runs that are running, pending or scheduled now or ended in the last
// 24 h. Prefect buckets runs by expected start time (run_history in
// src/prefect/server/api/run_history.py) and sets it on every run's first
// state (SetExpectedStartTime in src/prefect/server/orchestration/
// global_policy.py), so the interval below holds them all.
func (c *call) runCounts(ctx context.Context, now time.Time) (runCounts, error) {
	from, to := time.Unix(0, 0).UTC(), now.AddDate(100, 0, 0)
	var hist []struct {
		States []struct {
			StateType string `json:"state_type"`
			StateName string `json:"state_name"`
			CountRuns int    `json:"count_runs"`
		} `json:"states"`
	}
	if err := c.target.Client.Post(ctx, "/flow_runs/history", prefect.Body{
		"history_start": prefect.APITime(from), "history_end": prefect.APITime(to),
		"history_interval_seconds": to.Sub(from).Seconds(),
		"flow_runs": prefect.Either(prefect.Where{
			"state":    prefect.StateTypeIn("RUNNING", "PENDING", "SCHEDULED"),
			"end_time": prefect.After(now.Add(-24 * time.Hour)),
		}),
	}, &hist); err != nil {
		return runCounts{}, err
	}
	counts := runCounts{Running: new(int), Pending: new(int), Scheduled: new(int), Late: new(int),
		Failed24h: new(int), Crashed24h: new(int), Completed24h: new(int), Cancelled24h: new(int)}
	byType := map[string]*int{"RUNNING": counts.Running, "PENDING": counts.Pending, "SCHEDULED": counts.Scheduled,
		"FAILED": counts.Failed24h, "CRASHED": counts.Crashed24h, "COMPLETED": counts.Completed24h, "CANCELLED": counts.Cancelled24h}
	for _, h := range hist {
		for _, st := range h.States {
			into := byType[st.StateType]
			if st.StateName == "Late" { // a SCHEDULED state, counted apart
				into = counts.Late
			}
			if into != nil {
				*into += st.CountRuns
			}
		}
	}
	return counts, nil
}

// dashboardPools reads the pools: one request whatever their number.
// Status comes with each pool (Prefect sets NOT_READY when none of its
// workers is online); get_work_pools names the workers.
func (c *call) dashboardPools(ctx context.Context) ([]dashboardPool, bool, error) {
	var pools []prefect.WorkPool
	if err := c.target.Client.Post(ctx, "/work_pools/filter", prefect.Body{"limit": dashboardPools + 1}, &pools); err != nil {
		return nil, false, err
	}
	more := len(pools) > dashboardPools
	if more {
		pools = pools[:dashboardPools]
	}
	out := make([]dashboardPool, len(pools))
	for i, p := range pools {
		out[i] = dashboardPool{Name: p.Name, Type: p.Type, Status: p.Status, Paused: p.IsPaused,
			ConcurrencyLimit: p.ConcurrencyLimit, RunsInUse: p.ActiveSlots}
	}
	return out, more, nil
}

// recentFailures reads the latest failed or crashed runs and their flow
// names: two requests.
func (c *call) recentFailures(ctx context.Context) ([]failureRow, error) {
	var runs []prefect.FlowRun
	if err := c.target.Client.Post(ctx, "/flow_runs/filter", prefect.Body{
		"flow_runs": prefect.Where{"state": prefect.StateTypeIn("FAILED", "CRASHED")},
		"sort":      "END_TIME_DESC", "limit": dashboardFailures,
	}, &runs); err != nil {
		return nil, err
	}
	flowIDs := make([]string, len(runs))
	for i, r := range runs {
		flowIDs[i] = r.FlowID
	}
	names, err := c.namesByID(ctx, "flows", flowIDs)
	if err != nil {
		return nil, err
	}
	out := make([]failureRow, len(runs))
	for i, r := range runs {
		out[i] = failureRow{ID: r.ID, Name: r.Name, Flow: names[strings.ToLower(r.FlowID)], State: stateLabel(r.StateType, r.StateName), At: tsp(r.EndTime), UIURL: c.uiURL(uiFlowRun, r.ID)}
		if r.State != nil {
			out[i].Message = clip(r.State.Message, 200)
		}
	}
	return out, nil
}
