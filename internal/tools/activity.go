package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/schedule"
)

// Bounds of get_deployment_activity.
const (
	activityDefaultLimit  = 20
	activityMaxLimit      = 100
	activityDefaultWindow = 30
	activityMaxWindow     = 90
	// activitySample is the runs read per call: the page's latest runs in
	// the window (Prefect's cap on one filter request).
	activitySample = apiMaxLimit
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
	}, `Per deployment over window_days: runs by outcome vs what its schedule expects, last run/success, automations running it; verdict and why: failing, stuck, behind_schedule, not_completing (Cancelled is no success), dormant, healthy. Counts: the page's latest 200 runs (counted_since).
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
	// Total is every run expected to start in the counted interval,
	// whatever its state.
	Total *int `json:"total,omitempty"`
}

type activityRow struct {
	ID            string            `json:"id"`
	Deployment    string            `json:"deployment"` // flow/deployment slug, or the name
	Paused        bool              `json:"paused,omitempty"`
	Scheduled     bool              `json:"scheduled,omitempty"` // has an active schedule
	Runs          activityCounts    `json:"runs"`
	ExpectedRuns  *int              `json:"expected_runs,omitempty"` // from the active schedules, over the counted interval since the deployment exists
	LastRun       *deploymentRunRow `json:"last_run,omitempty"`
	LastCompleted string            `json:"last_completed,omitempty"`
	Automations   []string          `json:"run_by_automations,omitempty"`
	Verdict       string            `json:"verdict"`
	Why           string            `json:"why"`
	Notes         []string          `json:"notes,omitempty"`
}

type activityResult struct {
	WindowDays int    `json:"window_days"`
	Since      string `json:"since"`
	// CountedSince is set when the window held more runs of the page's
	// deployments than one sample: run counts cover runs expected after it.
	CountedSince string        `json:"counted_since,omitempty"`
	Deployments  []activityRow `json:"deployments"`
	Notes        []string      `json:"notes,omitempty"`
	Page
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

// windowFacts are what the whole window holds for a deployment, whatever
// the sample covers: each is one "deployments having a run matching"
// request for the page; nil when it could not be read.
type windowFacts struct {
	failed, completed, finished, late, started *bool
}

// activityFact is one membership question: which of the page's
// deployments have a flow run matching runs.
type activityFact struct {
	into func(*windowFacts, *bool)
	what string
	runs prefect.Where
}

// getDeploymentActivity costs 9 requests in two rounds, whatever the
// workspace and the page: the deployments page and the automations; then
// the flow names, the page's latest runs in the window (one sample of
// 200, exact for the interval it covers) and five membership questions
// over the whole window (Prefect has no per-deployment run aggregate, but
// POST /deployments/filter with a flow_runs filter answers "deployments
// having a run matching": an EXISTS on the deployment's runs, see
// _apply_deployment_filters in src/prefect/server/models/deployments.py).
func getDeploymentActivity(ctx context.Context, c *call, in activityInput) (*activityResult, error) {
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

	// Round 1: the page and the automations.
	var (
		deps        []prefect.DeploymentDetail
		more        bool
		depsErr     error
		automations []automationActions
		autoErr     error
	)
	if err := parallel(ctx, 2,
		func(ctx context.Context) error {
			deps, more, depsErr = postPage[prefect.DeploymentDetail](ctx, c, "/deployments/filter", prefect.Body{"sort": "NAME_ASC"}, limit, offset)
			return nil
		},
		func(ctx context.Context) error {
			autoErr = c.target.Client.Post(ctx, "/automations/filter", prefect.Body{"limit": apiMaxLimit}, &automations)
			return nil
		}); err != nil {
		return nil, err
	}
	if depsErr != nil {
		return nil, depsErr
	}
	res := &activityResult{WindowDays: window, Since: ts(since), Deployments: make([]activityRow, len(deps)), Page: newPage(len(deps), offset, more)}
	if len(deps) == 0 {
		return res, ctx.Err()
	}
	ids := make([]string, len(deps))
	flowIDs := make([]string, len(deps))
	for i, d := range deps {
		ids[i], flowIDs[i] = d.ID, d.FlowID
	}

	// Round 2: flow names, the sample, the window facts.
	inWindow := prefect.Between(since, now)
	facts := []activityFact{
		{func(w *windowFacts, b *bool) { w.failed = b }, "failed or crashed runs", prefect.Where{"expected_start_time": inWindow, "state": prefect.StateTypeIn("FAILED", "CRASHED")}},
		{func(w *windowFacts, b *bool) { w.completed = b }, "completed runs", prefect.Where{"expected_start_time": inWindow, "state": prefect.StateTypeIn("COMPLETED")}},
		{func(w *windowFacts, b *bool) { w.finished = b }, "finished runs", prefect.Where{"expected_start_time": inWindow, "state": prefect.StateTypeIn("COMPLETED", "FAILED", "CRASHED", "CANCELLED")}},
		{func(w *windowFacts, b *bool) { w.late = b }, "Late runs", prefect.Where{"expected_start_time": inWindow, "state": prefect.NameIn("Late")}},
		{func(w *windowFacts, b *bool) { w.started = b }, "started runs", prefect.Where{"start_time": prefect.After(since)}},
	}
	var (
		flows     map[string]string
		flowsErr  error
		sample    []prefect.FlowRun
		sampleErr error
		having    = make([][]prefect.Deployment, len(facts))
		factErrs  = make([]error, len(facts))
	)
	jobs := []func(context.Context) error{
		func(ctx context.Context) error { flows, flowsErr = c.namesByID(ctx, "flows", flowIDs); return nil },
		func(ctx context.Context) error {
			sampleErr = c.target.Client.Post(ctx, "/flow_runs/filter", prefect.Body{
				"flow_runs": prefect.Where{"deployment_id": prefect.AnyOf(ids...), "expected_start_time": inWindow},
				"sort":      "EXPECTED_START_TIME_DESC", "limit": activitySample,
			}, &sample)
			return nil
		},
	}
	for i, f := range facts {
		runs := maps.Clone(f.runs)
		runs["deployment_id"] = prefect.AnyOf(ids...) // the same answer; lets Prefect start from the page's runs
		jobs = append(jobs, func(ctx context.Context) error {
			factErrs[i] = c.target.Client.Post(ctx, "/deployments/filter", prefect.Body{
				"deployments": prefect.IDIn(ids...), "flow_runs": runs, "limit": len(ids),
			}, &having[i])
			return nil
		})
	}
	if err := parallel(ctx, len(jobs), jobs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	if flowsErr != nil {
		res.Notes = append(res.Notes, "flow names unavailable, deployments shown by name: "+c.describe(flowsErr))
	}
	if autoErr != nil {
		res.Notes = append(res.Notes, "automations unavailable, run_by_automations left out: "+c.describe(autoErr))
	} else if len(automations) >= apiMaxLimit {
		res.Notes = append(res.Notes, fmt.Sprintf("run_by_automations checks the first %d automations by name only", apiMaxLimit))
	}
	counted, countedSince := sampleWindow(sample, sampleErr == nil && len(sample) >= activitySample)
	if sampleErr != nil {
		res.Notes = append(res.Notes, "run counts, last runs unavailable: "+c.describe(sampleErr))
	} else if !countedSince.IsZero() {
		res.CountedSince = ts(countedSince)
		res.Notes = append(res.Notes, fmt.Sprintf("the window holds more than %d runs of these deployments: runs, expected_runs, last_run and last_completed cover runs expected after %s (verdicts weigh the whole window); fewer deployments per call (limit) count further back", activitySample, res.CountedSince))
	}
	window2 := make([]windowFacts, len(deps))
	for i, f := range facts {
		if factErrs[i] != nil {
			res.Notes = append(res.Notes, "which deployments had "+f.what+" in the window is unknown: "+c.describe(factErrs[i]))
			continue
		}
		for j, d := range deps {
			b := slices.ContainsFunc(having[i], func(h prefect.Deployment) bool { return strings.EqualFold(h.ID, d.ID) })
			f.into(&window2[j], &b)
		}
	}
	from := since
	if !countedSince.IsZero() {
		from = countedSince
	}
	for i, d := range deps {
		r := &res.Deployments[i]
		*r = activityRow{ID: d.ID, Deployment: d.Name, Paused: d.Paused}
		if f := flows[strings.ToLower(d.FlowID)]; f != "" {
			r.Deployment = f + "/" + d.Name
		}
		for _, s := range d.Schedules {
			r.Scheduled = r.Scheduled || s.Active
		}
		r.ExpectedRuns = scheduledRuns(d, from, now)
		if autoErr == nil {
			r.Automations = automationsRunning(automations, d.ID)
		}
		var last *prefect.FlowRun
		if sampleErr == nil {
			var lastDone *prefect.FlowRun
			r.Runs, last, lastDone = sampleOf(counted, d.ID)
			if last != nil {
				lr := newDeploymentRunRow(last)
				r.LastRun = &lr
			}
			if lastDone != nil {
				r.LastCompleted = tsp(lastDone.EndTime)
			}
		}
		r.Verdict, r.Why = activityVerdict(activityFacts{runs: r.Runs, expected: r.ExpectedRuns, last: last, countedSince: countedSince, window: window2[i]})
	}
	return res, nil
}

// sampleWindow returns the runs whose counts are exact: all of them when
// the sample holds every run of the window, else those expected strictly
// after the oldest expected start in it (runs at that instant may go on
// beyond the sample), with that instant.
func sampleWindow(sample []prefect.FlowRun, full bool) ([]prefect.FlowRun, time.Time) {
	if !full || len(sample) == 0 || sample[len(sample)-1].ExpectedStartTime == nil {
		return sample, time.Time{}
	}
	cut := *sample[len(sample)-1].ExpectedStartTime
	n := len(sample)
	for n > 0 && sample[n-1].ExpectedStartTime != nil && !sample[n-1].ExpectedStartTime.After(cut) {
		n--
	}
	return sample[:n], cut
}

// sampleOf counts the deployment's counted runs by outcome and picks its
// latest started run and latest completed one.
func sampleOf(counted []prefect.FlowRun, deploymentID string) (counts activityCounts, last, lastDone *prefect.FlowRun) {
	var completed, failed, crashed, cancelled, late, total int
	for i := range counted {
		r := &counted[i]
		if !strings.EqualFold(r.DeploymentID, deploymentID) {
			continue
		}
		total++
		switch r.StateType {
		case "COMPLETED":
			completed++
		case "FAILED":
			failed++
		case "CRASHED":
			crashed++
		case "CANCELLED":
			cancelled++
		}
		if r.StateName == "Late" {
			late++
		}
		if r.StartTime != nil && (last == nil || r.StartTime.After(*last.StartTime)) {
			last = r
		}
		if r.StateType == "COMPLETED" && r.EndTime != nil && (lastDone == nil || r.EndTime.After(*lastDone.EndTime)) {
			lastDone = r
		}
	}
	return activityCounts{Completed: &completed, Failed: &failed, Crashed: &crashed, Cancelled: &cancelled, Late: &late, Total: &total}, last, lastDone
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
		n, ok := schedule.Count(s.Schedule, from, now)
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

// activityFacts are what a verdict weighs for one deployment.
type activityFacts struct {
	runs     activityCounts   // counted runs (nil counts: the sample could not be read)
	expected *int             // what the schedule expects over the counted interval
	last     *prefect.FlowRun // latest started counted run
	// countedSince is zero when the counts cover the whole window.
	countedSince time.Time
	window       windowFacts
}

// activityVerdict classifies a deployment and says why: from its counted
// runs where they decide, from the whole window's facts where the counted
// interval may not show them (a verdict never rests on a fact that could
// not be read: then it is unknown).
func activityVerdict(f activityFacts) (verdict, why string) {
	span := "in the window"
	if !f.countedSince.IsZero() {
		span = "since " + ts(f.countedSince)
	}
	failed := val(f.runs.Failed) + val(f.runs.Crashed)
	completed := val(f.runs.Completed)
	finished := failed + completed + val(f.runs.Cancelled)
	w := f.window
	known := f.runs.Total != nil && w.failed != nil && w.completed != nil && w.finished != nil && w.late != nil && w.started != nil
	switch {
	case f.last != nil && (f.last.StateType == "FAILED" || f.last.StateType == "CRASHED"):
		return "failing", "its latest run " + f.last.Name + " ended " + f.last.StateName
	case failed > 0 && float64(failed) >= failingRatio*float64(finished):
		return "failing", fmt.Sprintf("%d of %d finished runs %s failed or crashed", failed, finished, span)
	case !known:
		return "unknown", "some facts could not be read (see notes)"
	case (val(f.runs.Late) > 0 || *w.late) && !*w.started:
		return "stuck", "it has Late runs in the window and none started in it"
	case f.expected != nil && float64(val(f.runs.Total)) < behindRatio*float64(*f.expected):
		return "behind_schedule", fmt.Sprintf("its schedule expects %d run(s) %s, %d exist", *f.expected, span, val(f.runs.Total))
	case !*w.completed && finished > 0:
		if f.countedSince.IsZero() {
			return "not_completing", fmt.Sprintf("none of its %d finished run(s) completed", finished)
		}
		return "not_completing", fmt.Sprintf("none of its %d finished run(s) %s completed, nor any before in the window", finished, span)
	case !*w.completed && *w.finished:
		return "not_completing", "none of its finished runs in the window completed (none " + span + ")"
	case !*w.finished && !*w.late && !*w.started:
		return "dormant", "no run finished, started or went Late in the window"
	case finished > 0:
		return "healthy", fmt.Sprintf("%d of %d finished run(s) %s completed", completed, finished, span)
	case *w.failed:
		// Only outside the counted interval: the mix is not counted.
		return "unknown", "no run finished " + span + "; before, some completed and some failed or crashed (" + ToolGetFlowRuns + " with its deployment_id lists them)"
	case *w.completed:
		return "healthy", "no run finished " + span + "; runs before completed, none failed"
	}
	return "healthy", "its runs are in progress; none failed"
}
