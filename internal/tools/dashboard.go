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
	dashboardConcurrency = 12
	dashboardPools       = 50 // pools read, in one request
	dashboardFailures    = 5
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
func getDashboard(ctx context.Context, c *call, _ dashboardInput) (any, error) {
	now := c.deps.now()
	since := now.Add(-24 * time.Hour).Format(time.RFC3339)
	stateType := func(types ...string) map[string]any {
		return map[string]any{"type": map[string]any{"any_": types}}
	}
	ended := func(types ...string) map[string]any {
		return map[string]any{"state": stateType(types...), "end_time": map[string]any{"after_": since}}
	}
	res := dashboardResult{AsOf: ts(now)}
	counts := []struct {
		key    string
		into   **int
		filter map[string]any
	}{
		{"running", &res.FlowRuns.Running, map[string]any{"state": stateType("RUNNING")}},
		{"pending", &res.FlowRuns.Pending, map[string]any{"state": stateType("PENDING")}},
		{"scheduled", &res.FlowRuns.Scheduled, map[string]any{"state": map[string]any{
			"type": map[string]any{"any_": []string{"SCHEDULED"}}, "name": map[string]any{"not_any_": []string{"Late"}}}}},
		{"late", &res.FlowRuns.Late, map[string]any{"state": map[string]any{"name": map[string]any{"any_": []string{"Late"}}}}},
		{"failed_24h", &res.FlowRuns.Failed24h, ended("FAILED")},
		{"crashed_24h", &res.FlowRuns.Crashed24h, ended("CRASHED")},
		{"completed_24h", &res.FlowRuns.Completed24h, ended("COMPLETED")},
		{"cancelled_24h", &res.FlowRuns.Cancelled24h, ended("CANCELLED")},
	}
	// One error slot per job: jobs run concurrently and never share one.
	countErrs := make([]error, len(counts))
	var poolsErr, limitsErr, failuresErr error
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
	}
	for i, q := range counts {
		jobs = append(jobs, func(ctx context.Context) error {
			var n int
			if err := c.target.Client.Post(ctx, "/flow_runs/count", map[string]any{"flow_runs": q.filter}, &n); err != nil {
				countErrs[i] = err
				return nil
			}
			*q.into = &n
			return nil
		})
	}
	if err := parallel(ctx, dashboardConcurrency, jobs...); err != nil {
		return nil, err
	}
	failed := map[string]error{"work_pools": poolsErr, "limits_at_capacity": limitsErr, "recent_failures": failuresErr}
	for i, err := range countErrs {
		failed["flow_runs."+counts[i].key] = err
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
	return res, nil
}

// dashboardPools reads the pools: one request whatever their number.
// Status comes with each pool (Prefect sets NOT_READY when none of its
// workers is online); get_work_pools names the workers.
func (c *call) dashboardPools(ctx context.Context) ([]dashboardPool, bool, error) {
	var pools []prefect.WorkPool
	if err := c.target.Client.Post(ctx, "/work_pools/filter", map[string]any{"limit": dashboardPools + 1}, &pools); err != nil {
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
	if err := c.target.Client.Post(ctx, "/flow_runs/filter", map[string]any{
		"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"FAILED", "CRASHED"}}}},
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
