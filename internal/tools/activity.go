package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Bounds of get_deployment_activity.
const (
	activityDefaultLimit  = 50
	activityMaxLimit      = 100
	activityDefaultWindow = 30
	activityMaxWindow     = 90
	activityConcurrency   = 8
	// failingRatio is the share of failed or crashed finished runs above
	// which a deployment counts as failing.
	failingRatio = 0.5
	// behindRatio: fewer runs than this share of what the schedule expects
	// means runs are not being created (scheduler, paused schedule, deletions).
	behindRatio = 0.5
)

type activityInput struct {
	WindowDays int `json:"window_days,omitempty" jsonschema:"days back, default 30"`
	Limit      int `json:"limit,omitempty"`
	Offset     int `json:"offset,omitempty"`
	Workspace
}

func deploymentActivityTool() Definition {
	return define(Definition{
		Name: ToolGetDeploymentActivity, Title: "Get deployment activity", Group: GroupDeployments,
		Summary: "Per deployment over a window: run outcomes against what its schedule expects, last run, last success, whether an automation runs it, and a verdict (healthy, failing, stuck, behind_schedule, not_completing, dormant).",
	}, `Per deployment over window_days: runs by outcome vs runs its schedule expects, last run/success, automations running it; verdict and why: failing, stuck, behind_schedule, not_completing (Cancelled is no success), dormant, healthy.
Example: {"window_days":7}`,
		func(s *jsonschema.Schema) {
			bound(s, "window_days", 1, activityMaxWindow)
			bound(s, "limit", 1, activityMaxLimit)
		},
		getDeploymentActivity)
}

type activityCounts struct {
	Completed *int `json:"completed,omitempty"`
	Failed    *int `json:"failed,omitempty"`
	Crashed   *int `json:"crashed,omitempty"`
	Cancelled *int `json:"cancelled,omitempty"`
	Late      *int `json:"late,omitempty"`
	// Total is every run expected to start in the window, whatever its state.
	Total *int `json:"total,omitempty"`
}

type activityRow struct {
	ID            string            `json:"id"`
	Deployment    string            `json:"deployment"` // flow/deployment slug, or the name
	Paused        bool              `json:"paused,omitempty"`
	Scheduled     bool              `json:"scheduled,omitempty"` // has an active schedule
	Runs          activityCounts    `json:"runs"`
	ExpectedRuns  *int              `json:"expected_runs,omitempty"` // from the active schedules, since the deployment exists
	LastRun       *deploymentRunRow `json:"last_run,omitempty"`
	LastCompleted string            `json:"last_completed,omitempty"`
	Automations   []string          `json:"run_by_automations,omitempty"`
	Verdict       string            `json:"verdict"`
	Why           string            `json:"why"`
	Notes         []string          `json:"notes,omitempty"`
}

// automationActions is the part of an automation this tool reads.
type automationActions struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Enabled          bool              `json:"enabled"`
	Actions          []json.RawMessage `json:"actions"`
	ActionsOnTrigger []json.RawMessage `json:"actions_on_trigger"`
	ActionsOnResolve []json.RawMessage `json:"actions_on_resolve"`
}

type runDeploymentAction struct {
	Type         string `json:"type"`
	Source       string `json:"source"`
	DeploymentID string `json:"deployment_id"`
}

// getDeploymentActivity costs 3 requests (deployments, flows, automations)
// plus 3 per deployment on the page (its run history over the window, last
// run, last completed run): it grows with the page, never with runs.
func getDeploymentActivity(ctx context.Context, c *call, in activityInput) (any, error) {
	window := in.WindowDays
	if window == 0 {
		window = activityDefaultWindow
	}
	if window < 1 || window > activityMaxWindow {
		return nil, badInput("window_days must be between 1 and %d (got %d)", activityMaxWindow, window)
	}
	limit, offset, err := pageArgs(in.Limit, in.Offset, activityDefaultLimit, activityMaxLimit)
	if err != nil {
		return nil, err
	}
	now := c.deps.now()
	since := now.Add(-time.Duration(window) * 24 * time.Hour)

	deps, more, err := postPage[prefect.DeploymentDetail](ctx, c, "/deployments/filter", map[string]any{"sort": "NAME_ASC"}, limit, offset)
	if err != nil {
		return nil, err
	}
	rows := make([]activityRow, len(deps))
	for i, d := range deps {
		rows[i] = activityRow{ID: d.ID, Deployment: d.Name, Paused: d.Paused}
		for _, s := range d.Schedules {
			rows[i].Scheduled = rows[i].Scheduled || s.Active
		}
		rows[i].ExpectedRuns = scheduledRuns(d, since, now)
	}

	var (
		flows       map[string]string
		flowsErr    error
		automations []automationActions
		autoErr     error
		lastRun     = make([][]prefect.FlowRun, len(deps))
		lastDone    = make([][]prefect.FlowRun, len(deps))
		lastRunErr  = make([]error, len(deps))
		lastDoneErr = make([]error, len(deps))
		countErrs   = make([][]error, len(deps))
	)
	jobs := []func(context.Context) error{
		func(ctx context.Context) error { flows, flowsErr = c.flowNames(ctx, deps); return nil },
		func(ctx context.Context) error {
			autoErr = c.target.Client.Post(ctx, "/automations/filter", map[string]any{"limit": maxLimitRows}, &automations)
			return nil
		},
	}
	for i := range deps {
		byDep := map[string]any{"any_": []string{deps[i].ID}}
		r := &rows[i]
		countErrs[i] = make([]error, 1)
		// Every outcome count in one request: the run history over the
		// window as a single interval, by state (runs bucketed by expected
		// start time, as the window filter does).
		jobs = append(jobs, func(ctx context.Context) error {
			var hist []runHistoryInterval
			err := c.target.Client.Post(ctx, "/flow_runs/history", map[string]any{
				"history_start": since.Format(time.RFC3339), "history_end": now.Format(time.RFC3339),
				"history_interval_seconds": now.Sub(since).Seconds(),
				"flow_runs":                map[string]any{"deployment_id": byDep},
			}, &hist)
			if err != nil {
				countErrs[i][0] = err
				return nil
			}
			r.Runs = historyCounts(hist)
			return nil
		})
		jobs = append(jobs,
			func(ctx context.Context) error {
				lastRunErr[i] = c.target.Client.Post(ctx, "/flow_runs/filter", map[string]any{
					"flow_runs": map[string]any{"deployment_id": byDep, "start_time": map[string]any{"is_null_": false}},
					"sort":      "START_TIME_DESC", "limit": 1,
				}, &lastRun[i])
				return nil
			},
			func(ctx context.Context) error {
				lastDoneErr[i] = c.target.Client.Post(ctx, "/flow_runs/filter", map[string]any{
					"flow_runs": map[string]any{"deployment_id": byDep, "state": map[string]any{"type": map[string]any{"any_": []string{"COMPLETED"}}}},
					"sort":      "END_TIME_DESC", "limit": 1,
				}, &lastDone[i])
				return nil
			})
	}
	if err := parallel(ctx, activityConcurrency, jobs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var notes []string
	if flowsErr != nil {
		notes = append(notes, "flow names unavailable, deployments shown by name: "+c.describe(flowsErr))
	}
	if autoErr != nil {
		notes = append(notes, "automations unavailable, run_by_automations left out: "+c.describe(autoErr))
	}
	for i := range rows {
		r := &rows[i]
		if f := flows[deps[i].FlowID]; f != "" {
			r.Deployment = f + "/" + deps[i].Name
		}
		for j, err := range countErrs[i] {
			if err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("run counts (%d of %d) are missing: %s", j+1, len(countErrs[i]), c.describe(err)))
				break
			}
		}
		if lastRunErr[i] != nil {
			r.Notes = append(r.Notes, "last run unavailable: "+c.describe(lastRunErr[i]))
		} else if len(lastRun[i]) > 0 {
			lr := newDeploymentRunRow(&lastRun[i][0])
			r.LastRun = &lr
		}
		if lastDoneErr[i] != nil {
			r.Notes = append(r.Notes, "last completed run unavailable: "+c.describe(lastDoneErr[i]))
		} else if len(lastDone[i]) > 0 {
			r.LastCompleted = tsp(lastDone[i][0].EndTime)
		}
		if autoErr == nil {
			r.Automations = automationsRunning(automations, deps[i].ID)
		}
		var last *prefect.FlowRun
		if len(lastRun[i]) > 0 {
			last = &lastRun[i][0]
		}
		incomplete := lastRunErr[i] != nil || slices.ContainsFunc(countErrs[i], func(err error) bool { return err != nil })
		r.Verdict, r.Why = activityVerdict(r, last, since, incomplete)
	}
	return struct {
		WindowDays  int           `json:"window_days"`
		Since       string        `json:"since"`
		Deployments []activityRow `json:"deployments"`
		Notes       []string      `json:"notes,omitempty"`
		Page
	}{window, ts(since), rows, notes, newPage(len(rows), offset, more)}, nil
}

// automationsRunning names the automations with a run-deployment action on
// the deployment (disabled ones marked).
func automationsRunning(autos []automationActions, deploymentID string) []string {
	var out []string
	for _, a := range autos {
		for _, raw := range append(append(append([]json.RawMessage{}, a.Actions...), a.ActionsOnTrigger...), a.ActionsOnResolve...) {
			var act runDeploymentAction
			if json.Unmarshal(raw, &act) != nil || act.Type != "run-deployment" || !strings.EqualFold(act.DeploymentID, deploymentID) {
				continue
			}
			name := a.Name
			if !a.Enabled {
				name += " (disabled)"
			}
			out = append(out, name)
			break
		}
	}
	return out
}

func val(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// scheduledRuns is how many runs the deployment's active schedules create
// with an expected start in the window, counted from when the deployment
// exists; nil when unknown (an rrule) or not scheduled. A paused deployment
// gets no scheduled runs.
func scheduledRuns(d prefect.DeploymentDetail, since, now time.Time) *int {
	if d.Paused {
		return nil
	}
	from := since
	if d.Created.After(from) {
		from = d.Created
	}
	total, scheduled := 0, false
	for _, s := range d.Schedules {
		if !s.Active {
			continue
		}
		n, ok := expectedRuns(s.Schedule, from, now)
		if !ok {
			return nil
		}
		total, scheduled = total+n, true
	}
	if !scheduled {
		return nil
	}
	return &total
}

// activityVerdict classifies a deployment from its counts, what its
// schedule expects and its last run (nil when it never started one), and
// says why.
func activityVerdict(r *activityRow, lastRun *prefect.FlowRun, since time.Time, incomplete bool) (verdict, why string) {
	failed := val(r.Runs.Failed) + val(r.Runs.Crashed)
	completed := val(r.Runs.Completed)
	finished := failed + completed + val(r.Runs.Cancelled)
	startedInWindow := lastRun != nil && lastRun.StartTime != nil && !lastRun.StartTime.Before(since)
	seen := val(r.Runs.Total)
	switch {
	case startedInWindow && (lastRun.StateType == "FAILED" || lastRun.StateType == "CRASHED"):
		return "failing", "its latest run " + lastRun.Name + " ended " + lastRun.StateName
	case failed > 0 && float64(failed) >= failingRatio*float64(finished):
		return "failing", fmt.Sprintf("%d of %d finished runs failed or crashed", failed, finished)
	case incomplete:
		return "unknown", "some counts could not be read (see notes)"
	case val(r.Runs.Late) > 0 && !startedInWindow:
		return "stuck", fmt.Sprintf("%d run(s) are Late and none started in the window", val(r.Runs.Late))
	case r.ExpectedRuns != nil && float64(seen) < behindRatio*float64(*r.ExpectedRuns):
		return "behind_schedule", fmt.Sprintf("its schedule expects %d run(s) in the window, %d exist", *r.ExpectedRuns, seen)
	case finished > 0 && completed == 0:
		return "not_completing", fmt.Sprintf("none of its %d finished run(s) completed", finished)
	case finished == 0 && val(r.Runs.Late) == 0 && !startedInWindow:
		return "dormant", "no run finished or started in the window"
	}
	if finished == 0 {
		return "healthy", "its runs are in progress; none failed"
	}
	return "healthy", fmt.Sprintf("%d of %d finished run(s) completed", completed, finished)
}

// runHistoryInterval is one interval of POST /flow_runs/history.
type runHistoryInterval struct {
	States []struct {
		StateType string `json:"state_type"`
		StateName string `json:"state_name"`
		CountRuns int    `json:"count_runs"`
	} `json:"states"`
}

// historyCounts sums run history intervals into outcome counts.
func historyCounts(hist []runHistoryInterval) activityCounts {
	var completed, failed, crashed, cancelled, late, total int
	for _, h := range hist {
		for _, st := range h.States {
			total += st.CountRuns
			switch st.StateType {
			case "COMPLETED":
				completed += st.CountRuns
			case "FAILED":
				failed += st.CountRuns
			case "CRASHED":
				crashed += st.CountRuns
			case "CANCELLED":
				cancelled += st.CountRuns
			}
			if st.StateName == "Late" {
				late += st.CountRuns
			}
		}
	}
	return activityCounts{Completed: &completed, Failed: &failed, Crashed: &crashed, Cancelled: &cancelled, Late: &late, Total: &total}
}
