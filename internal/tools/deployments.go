package tools

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// maxDetailDeployments bounds detail mode: two run queries per deployment.
const maxDetailDeployments = 10

// defaultDeploymentLimit keeps the default page within 12 KB.
const defaultDeploymentLimit = 30

// recentRunsPerDeployment is how many past runs detail mode lists.
const recentRunsPerDeployment = 10

type deploymentsInput struct {
	Filter         map[string]any `json:"filter,omitempty"`
	Flows          map[string]any `json:"flows,omitempty"`
	FlowRuns       map[string]any `json:"flow_runs,omitempty"`
	TaskRuns       map[string]any `json:"task_runs,omitempty"`
	WorkPools      map[string]any `json:"work_pools,omitempty"`
	WorkPoolQueues map[string]any `json:"work_pool_queues,omitempty"`
	Flow           string         `json:"flow,omitempty"`
	WorkPool       string         `json:"work_pool,omitempty"`
	Limit          int            `json:"limit,omitempty"`
	Offset         int            `json:"offset,omitempty"`
	Workspace
}

func deploymentsTool() Definition {
	return define(Definition{
		Name: ToolGetDeployments, Title: "Get deployments", Group: GroupDeployments,
		Summary: "Deployments with their flow, schedules in words, work pool and queue and concurrency limit; by flow and work pool; detail (slug, parameters and defaults, job variables, recent runs) when the filter selects ids.",
	}, `Deployments: flow, name, tags, paused, status, pool/queue, schedules in words, concurrency. By flow (name), work_pool, or Prefect filters: filter (DeploymentFilter), flows, flow_runs, task_runs, work_pools, work_pool_queues. Selecting ids (≤10) adds parameters, defaults, schema, job variables, entrypoint, pull steps, last 10 runs.
Example: {"flow":"etl","filter":{"paused":{"eq_":true}}}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getDeployments)
}

type scheduleRow struct {
	Schedule string `json:"schedule"`
	Timezone string `json:"timezone,omitempty"`
	Active   bool   `json:"active"`
}

// deploymentRow is a deployment in a list: flow and name (together the
// flow/deployment slug other tools take), without its parameters.
type deploymentRow struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Flow        string        `json:"flow,omitempty"`
	Tags        []string      `json:"tags,omitempty"`
	Paused      bool          `json:"paused,omitempty"`
	Status      string        `json:"status,omitempty"`
	WorkPool    string        `json:"work_pool,omitempty"`
	WorkQueue   string        `json:"work_queue,omitempty"`
	Schedules   []scheduleRow `json:"schedules,omitempty"`
	Concurrency string        `json:"concurrency,omitempty"`
}

type deploymentRunRow struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	State   string `json:"state"`
	At      string `json:"at,omitempty"`
	Message string `json:"message,omitempty"`
}

// deploymentDetail is a deployment selected by id; in a list only its
// deploymentRow part is set.
type deploymentDetail struct {
	deploymentRow
	Slug              string             `json:"slug,omitempty"`
	Parameters        []string           `json:"parameters,omitempty"`
	Description       string             `json:"description,omitempty"`
	Version           string             `json:"version,omitempty"`
	ParameterDefaults any                `json:"parameter_defaults,omitempty"`
	ParameterSchema   any                `json:"parameter_schema,omitempty"`
	JobVariables      any                `json:"job_variables,omitempty"`
	Entrypoint        string             `json:"entrypoint,omitempty"`
	Path              string             `json:"path,omitempty"`
	PullSteps         any                `json:"pull_steps,omitempty"`
	LastPolled        string             `json:"last_polled,omitempty"`
	RecentRuns        []deploymentRunRow `json:"recent_runs,omitempty"`
	NextRun           *deploymentRunRow  `json:"next_run,omitempty"`
	WorkPoolOf        *workPoolBrief     `json:"work_pool_summary,omitempty"`
	Notes             []string           `json:"notes,omitempty"`
}

type deploymentsResult struct {
	Deployments []deploymentDetail `json:"deployments"`
	Page
	// UIURLTemplate links a deployment in the Prefect UI: {id} is its id.
	UIURLTemplate string `json:"ui_url_template,omitempty"`
}

func getDeployments(ctx context.Context, c *call, in deploymentsInput) (*deploymentsResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultDeploymentLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	b := bodyFilters{}
	b.add("deployments", in.Filter)
	b.add("flows", in.Flows)
	b.add("flow_runs", in.FlowRuns)
	b.add("task_runs", in.TaskRuns)
	b.add("work_pools", in.WorkPools)
	b.add("work_pool_queues", in.WorkPoolQueues)
	if f := strings.TrimSpace(in.Flow); f != "" {
		if err := flowShortcut(b, f); err != nil {
			return nil, err
		}
	}
	if err := workPoolShortcut(b, in.WorkPool); err != nil {
		return nil, err
	}
	filter := b["deployments"]
	delete(b, "deployments")
	deps, more, err := fetchPage[prefect.DeploymentDetail](ctx, c, listQuery{
		path: "/deployments/filter", key: "deployments", component: "DeploymentFilter", sort: "NAME_ASC",
		filter: filter, siblings: b, limit: limit, offset: offset,
	})
	if err != nil {
		return nil, err
	}
	flows, err := c.flowNames(ctx, deps)
	if err != nil {
		return nil, err
	}
	out := &deploymentsResult{Page: newPage(len(deps), offset, more), UIURLTemplate: c.uiURLTemplate(uiDeployment)}
	if len(prefect.Selected(in.Filter, "id")) > 0 && len(deps) > 0 && len(deps) <= maxDetailDeployments {
		if out.Deployments, err = c.deploymentDetails(ctx, deps, flows); err != nil {
			return nil, err
		}
		return out, nil
	}
	out.Deployments = make([]deploymentDetail, len(deps))
	for i := range deps {
		out.Deployments[i].deploymentRow = newDeploymentRow(&deps[i], flows)
	}
	return out, nil
}

// flowNames maps the deployments' flow ids (lower case) to names with one
// request.
func (c *call) flowNames(ctx context.Context, deps []prefect.DeploymentDetail) (map[string]string, error) {
	ids := make([]string, len(deps))
	for i, d := range deps {
		ids[i] = d.FlowID
	}
	return c.namesByID(ctx, "flows", ids)
}

func newDeploymentRow(d *prefect.DeploymentDetail, flows map[string]string) deploymentRow {
	row := deploymentRow{
		ID: d.ID, Name: d.Name, Flow: flows[strings.ToLower(d.FlowID)], Tags: d.Tags, Paused: d.Paused, Status: d.Status,
		WorkPool: d.WorkPoolName, WorkQueue: d.WorkQueueName, Concurrency: deploymentLimitText(d.Deployment),
	}
	for _, s := range d.Schedules {
		text, tz := scheduleText(s.Schedule)
		row.Schedules = append(row.Schedules, scheduleRow{Schedule: text, Timezone: tz, Active: s.Active})
	}
	return row
}

// parameterNames lists the schema's properties in their declared position,
// then any default not in the schema.
func parameterNames(d *prefect.DeploymentDetail) []string {
	props, _ := d.ParameterOpenAPISchema["properties"].(map[string]any)
	names := make([]string, 0, len(props)+len(d.Parameters))
	for name := range props {
		names = append(names, name)
	}
	position := func(name string) float64 {
		p, _ := props[name].(map[string]any)
		if f, ok := p["position"].(float64); ok {
			return f
		}
		return math.MaxFloat64
	}
	slices.SortFunc(names, func(a, b string) int {
		if pa, pb := position(a), position(b); pa != pb {
			if pa < pb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var extra []string
	for name := range d.Parameters {
		if _, ok := props[name]; !ok {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	return append(names, extra...)
}

// scheduleText says a Prefect schedule (interval, cron or rrule) in words
// and returns its timezone.
func scheduleText(s map[string]any) (string, string) {
	tz, _ := s["timezone"].(string)
	switch {
	case s["interval"] != nil:
		secs, _ := s["interval"].(float64)
		return "every " + intervalText(secs), tz
	case s["cron"] != nil:
		cron, _ := s["cron"].(string)
		text := fmt.Sprintf("cron %q", cron)
		if dayOr, ok := s["day_or"].(bool); ok && !dayOr {
			text += " (day of month AND day of week)"
		}
		return text, tz
	case s["rrule"] != nil:
		rr, _ := s["rrule"].(string)
		return "rrule " + clip(strings.ReplaceAll(rr, "\n", "; "), 200), tz
	}
	return clip(fmt.Sprint(s), 200), tz
}

// intervalText formats seconds as "1h", "15m", "1d", "1h30m", "45s".
func intervalText(secs float64) string {
	if secs <= 0 {
		return "?"
	}
	d := time.Duration(secs * float64(time.Second)).Round(time.Second)
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	for _, u := range []struct {
		unit time.Duration
		sym  string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.sym)
			d -= n * u.unit
		}
	}
	if b.Len() == 0 {
		return dur(secs)
	}
	return b.String()
}

// deploymentDetails adds runs (two queries per deployment, at most
// maxDetailDeployments) and pool summaries (one query for all pools).
func (c *call) deploymentDetails(ctx context.Context, deps []prefect.DeploymentDetail, flows map[string]string) ([]deploymentDetail, error) {
	now := c.deps.now()
	recent := make([][]prefect.FlowRun, len(deps))
	next := make([][]prefect.FlowRun, len(deps))
	var pools []string
	for _, d := range deps {
		if d.WorkPoolName != "" && !slices.Contains(pools, d.WorkPoolName) {
			pools = append(pools, d.WorkPoolName)
		}
	}
	var poolInfo []prefect.WorkPool
	var jobs []func(context.Context) error
	for i := range deps {
		byDep := prefect.AnyOf(deps[i].ID)
		// Past runs only: Prefect schedules many runs ahead, which would
		// otherwise fill the list.
		jobs = append(jobs, func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/flow_runs/filter", prefect.Body{
				"flow_runs": prefect.Where{"deployment_id": byDep, "expected_start_time": prefect.Before(now)},
				"sort":      "START_TIME_DESC", "limit": recentRunsPerDeployment,
			}, &recent[i])
		}, func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/flow_runs/filter", prefect.Body{
				"flow_runs": prefect.Where{"deployment_id": byDep, "expected_start_time": prefect.After(now)},
				"sort":      "EXPECTED_START_TIME_ASC", "limit": 1,
			}, &next[i])
		})
	}
	if len(pools) > 0 {
		jobs = append(jobs, func(ctx context.Context) (err error) {
			poolInfo, err = prefect.ByNames[prefect.WorkPool](ctx, c.target.Client, "work_pools", pools)
			return err
		})
	}
	if err := parallel(ctx, 8, jobs...); err != nil {
		return nil, err
	}
	out := make([]deploymentDetail, len(deps))
	for i := range deps {
		d := &deps[i]
		det := deploymentDetail{
			deploymentRow:     newDeploymentRow(d, flows),
			Parameters:        parameterNames(d),
			Description:       clip(d.Description, messageBudget),
			Version:           d.Version,
			ParameterDefaults: clipJSON(d.Parameters, parameterBudget),
			JobVariables:      clipJSON(d.JobVariables, parameterBudget),
			Entrypoint:        d.Entrypoint,
			Path:              d.Path,
			PullSteps:         clipJSON(d.PullSteps, parameterBudget),
			LastPolled:        tsp(d.LastPolled),
		}
		if det.Flow != "" {
			det.Slug = det.Flow + "/" + d.Name
		}
		if props, ok := d.ParameterOpenAPISchema["properties"].(map[string]any); ok {
			schema := map[string]any{"properties": props}
			if req, ok := d.ParameterOpenAPISchema["required"]; ok {
				schema["required"] = req
			}
			if len(props) > 0 {
				det.ParameterSchema = clipJSON(schema, parameterBudget)
			}
		}
		for _, r := range recent[i] {
			det.RecentRuns = append(det.RecentRuns, newDeploymentRunRow(&r))
		}
		if len(det.RecentRuns) == 0 {
			det.Notes = append(det.Notes, "no runs yet")
		}
		if len(next[i]) > 0 {
			n := newDeploymentRunRow(&next[i][0])
			det.NextRun = &n
		} else if !d.Paused && slices.ContainsFunc(d.Schedules, func(s prefect.DeploymentSchedule) bool { return s.Active }) {
			det.Notes = append(det.Notes, "no upcoming run is scheduled although the deployment has a schedule")
		}
		for _, p := range poolInfo {
			if p.Name == d.WorkPoolName {
				det.WorkPoolOf = &workPoolBrief{Name: p.Name, Type: p.Type, Status: p.Status, Paused: p.IsPaused, ConcurrencyLimit: p.ConcurrencyLimit}
			}
		}
		if d.WorkPoolName != "" && det.WorkPoolOf == nil {
			det.Notes = append(det.Notes, "work pool "+d.WorkPoolName+" does not exist")
		}
		out[i] = det
	}
	return out, nil
}

func newDeploymentRunRow(r *prefect.FlowRun) deploymentRunRow {
	row := deploymentRunRow{ID: r.ID, Name: r.Name, State: stateLabel(r.StateType, r.StateName)}
	switch {
	case r.StartTime != nil:
		row.At = tsp(r.StartTime)
	default:
		row.At = tsp(r.ExpectedStartTime)
	}
	if r.State != nil && (r.StateType == "FAILED" || r.StateType == "CRASHED" || r.StateType == "CANCELLED") {
		row.Message = clip(r.State.Message, 200)
	}
	return row
}
