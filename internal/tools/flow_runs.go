package tools

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// rowMessageBudget bounds a state message in the rows of a long page: the
// exception and the start of its text. A page of at most maxDetailRuns
// rows keeps messageBudget; detail mode and diagnose_flow_run carry the
// full text.
const rowMessageBudget = 80

// engineFailurePrefixes are the words Prefect's engines put before a failed
// run's exception (exception_to_failed_state's message in
// src/prefect/flow_engine.py and task_engine.py; the reference samples'
// flow_runs_filter_failed.json and task_runs_filter_failed.json): the
// row's state already says it failed.
var engineFailurePrefixes = []string{"Flow run encountered an exception: ", "Task run encountered an exception "}

// rowMessage is a state message in a page of n rows, and whether it was
// shortened: a long page keeps the exception, without the engine's
// prefix, within rowMessageBudget.
func rowMessage(msg string, n int) (string, bool) {
	if n <= maxDetailRuns {
		out := clip(msg, messageBudget)
		return out, out != msg
	}
	full := msg
	for _, p := range engineFailurePrefixes {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			msg = rest
			break
		}
	}
	out := clip(msg, rowMessageBudget)
	return out, out != full
}

// longPageNote says, once per page of more than maxDetailRuns rows, what
// its rows leave out (messages shortened, and what else) and where the
// rest is.
func (c *call) longPageNote(cut bool, omitted, rest string) string {
	var parts []string
	if cut {
		parts = append(parts, "messages are the exception cut to "+strconv.Itoa(rowMessageBudget)+" chars")
	}
	if omitted != "" {
		parts = append(parts, omitted)
	}
	if len(parts) == 0 {
		return ""
	}
	if c.offered == nil || c.offered.Has(ToolDiagnoseFlowRun) {
		rest += " or " + ToolDiagnoseFlowRun
	}
	return "over " + strconv.Itoa(maxDetailRuns) + " rows: " + strings.Join(parts, ", ") + "; " + rest + " give all"
}

// defaultFlowRunLimit keeps the default page within 12 KB on a busy
// workspace; 50 rows of mixed states fit 18 KB when asked for.
const defaultFlowRunLimit = 30

// maxDetailRuns bounds detail mode: one state-history request per run.
const maxDetailRuns = 10

type flowRunsInput struct {
	Filter         map[string]any `json:"filter,omitempty"`
	Flows          map[string]any `json:"flows,omitempty"`
	Deployments    map[string]any `json:"deployments,omitempty"`
	WorkPools      map[string]any `json:"work_pools,omitempty"`
	WorkPoolQueues map[string]any `json:"work_pool_queues,omitempty"`
	TaskRuns       map[string]any `json:"task_runs,omitempty"`
	runShortcuts
	WorkPool string `json:"work_pool,omitempty"`
	Limit    int    `json:"limit,omitempty"`
	Offset   int    `json:"offset,omitempty"`
	Workspace
}

func flowRunsTool() Definition {
	return define(Definition{
		Name: ToolGetFlowRuns, Title: "Get flow runs", Group: GroupRuns,
		Summary: "Flow runs, newest first, with state, timing, flow and deployment names; by flow, deployment, work pool, state (Late included) and time window; detail (parameters, state history, deployment and work pool) when the filter selects ids.",
	}, `Flow runs, newest first. By flow, deployment (flow/deployment, name or id), work_pool, state (Late, Failed or a TYPE: RUNNING), since/until (expected start: RFC 3339, date, -24h), or filters: filter (FlowRunFilter), flows, deployments, work_pools, work_pool_queues, task_runs. Ids in filter.id.any_ (≤10) add full message, parameters, state history, deployment and pool.
Example: {"flow":"etl","state":["Failed","Crashed"],"since":"-24h"}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getFlowRuns)
}

// flowRunsResult is a page of flow runs; rows carry the detail fields
// only when the filter selected them by id.
type flowRunsResult struct {
	FlowRuns []flowRunDetail `json:"flow_runs"`
	Page
	// UIURLTemplate links a run in the Prefect UI: {id} is its id. Said
	// once, not in every row, where it repeated the id.
	UIURLTemplate string `json:"ui_url_template,omitempty"`
	Note          string `json:"note,omitempty"`
}

func getFlowRuns(ctx context.Context, c *call, in flowRunsInput) (*flowRunsResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultFlowRunLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	b := bodyFilters{}
	b.add("flow_runs", in.Filter)
	b.add("flows", in.Flows)
	b.add("deployments", in.Deployments)
	b.add("work_pools", in.WorkPools)
	b.add("work_pool_queues", in.WorkPoolQueues)
	b.add("task_runs", in.TaskRuns)
	if err := in.apply(ctx, c, b, "flow_runs"); err != nil {
		return nil, err
	}
	if err := workPoolShortcut(b, in.WorkPool); err != nil {
		return nil, err
	}
	filter := b["flow_runs"]
	delete(b, "flow_runs")
	runs, more, err := fetchPage[prefect.FlowRun](ctx, c, listQuery{
		path: "/flow_runs/filter", key: "flow_runs", component: "FlowRunFilter", sort: "START_TIME_DESC",
		filter: filter, siblings: b, limit: limit, offset: offset,
	})
	if err != nil {
		return nil, err
	}
	names, err := c.lookupNames(ctx, runs)
	if err != nil {
		return nil, err
	}
	out := &flowRunsResult{Page: newPage(len(runs), offset, more), UIURLTemplate: c.uiURLTemplate(uiFlowRun)}
	if ids := prefect.Selected(in.Filter, "id"); len(ids) > 0 && len(runs) <= maxDetailRuns {
		if out.FlowRuns, err = c.flowRunDetails(ctx, runs, names); err != nil {
			return nil, err
		}
		return out, nil
	}
	// A long page keeps what a model triages runs by; its finished runs'
	// tags and queue (what they ran with, not why they ended as they did),
	// and the rest of long messages, come with ids.
	long := len(runs) > maxDetailRuns
	out.FlowRuns = make([]flowRunDetail, len(runs))
	cut, omitted := false, ""
	for i := range runs {
		row := newFlowRunRow(&runs[i], names)
		if runs[i].State != nil {
			var clipped bool
			row.Message, clipped = rowMessage(runs[i].State.Message, len(runs))
			cut = cut || clipped
		}
		if long && isFinalType(runs[i].StateType) && (row.Tags != nil || row.WorkQueue != "") {
			row.Tags, row.WorkQueue = nil, ""
			omitted = "finished runs omit tags and work_queue"
		}
		out.FlowRuns[i].flowRunRow = row
	}
	if long {
		out.Note = c.longPageNote(cut, omitted, "filter.id.any_ (≤10 ids)")
	}
	return out, nil
}

// flowRunRow is a run in a list. The deployment is named, not given by
// id: the tools that take a deployment accept "flow/deployment".
type flowRunRow struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Flow          string   `json:"flow,omitempty"`
	Deployment    string   `json:"deployment,omitempty"`
	State         string   `json:"state"`
	Message       string   `json:"message,omitempty"`
	ExpectedStart string   `json:"expected_start,omitempty"`
	Start         string   `json:"start,omitempty"`
	End           string   `json:"end,omitempty"`
	Duration      string   `json:"duration,omitempty"`
	RunCount      int      `json:"run_count,omitempty"`
	WorkPool      string   `json:"work_pool,omitempty"`
	WorkQueue     string   `json:"work_queue,omitempty"`
	Tags          []string `json:"tags,omitempty"`
	Subflow       bool     `json:"subflow,omitempty"`
}

// newFlowRunRow is a run's row without its message: a page's size or
// detail mode decides how much of it to keep.
func newFlowRunRow(r *prefect.FlowRun, n runNames) flowRunRow {
	row := flowRunRow{
		ID:        r.ID,
		Name:      r.Name,
		Flow:      n.flows[strings.ToLower(r.FlowID)],
		State:     stateLabel(r.StateType, r.StateName),
		Start:     tsp(r.StartTime),
		Duration:  dur(r.TotalRunTime),
		WorkPool:  r.WorkPoolName,
		WorkQueue: r.WorkQueueName,
		Tags:      r.Tags,
		Subflow:   r.ParentTaskRunID != "",
	}
	if r.RunCount > 1 {
		row.RunCount = r.RunCount // one run is the norm; say it only when retried
	}
	if r.DeploymentID != "" {
		row.Deployment = n.deployments[r.DeploymentID].Name
	}
	// Times a model needs without redundancy: when a run should have started
	// until it starts; then its start, and its end only while it is not
	// simply start + duration (still running has no end).
	if r.StartTime == nil {
		row.ExpectedStart = tsp(r.ExpectedStartTime)
	} else if r.EndTime != nil && row.Duration == "" {
		row.End = tsp(r.EndTime)
	}
	return row
}

// runNames maps ids in flow runs to flow names (by lower-case id) and
// deployments, fetched in one request per kind.
type runNames struct {
	flows       map[string]string
	deployments map[string]prefect.Deployment
}

func (c *call) lookupNames(ctx context.Context, runs []prefect.FlowRun) (runNames, error) {
	n := runNames{deployments: map[string]prefect.Deployment{}}
	flowIDs, depIDs := make([]string, len(runs)), make([]string, len(runs))
	for i, r := range runs {
		flowIDs[i], depIDs[i] = r.FlowID, r.DeploymentID
	}
	var deps []prefect.Deployment
	err := parallel(ctx, 2,
		func(ctx context.Context) (err error) {
			n.flows, err = c.namesByID(ctx, "flows", flowIDs)
			return err
		},
		func(ctx context.Context) (err error) {
			deps, err = prefect.ByIDs[prefect.Deployment](ctx, c.target.Client, "deployments", depIDs)
			return err
		})
	if err != nil {
		return n, err
	}
	for _, d := range deps {
		n.deployments[d.ID] = d
	}
	return n, nil
}

type flowRunDetail struct {
	flowRunRow
	DeploymentID string           `json:"deployment_id,omitempty"`
	Parameters   any              `json:"parameters,omitempty"`
	FullMessage  string           `json:"state_message,omitempty"`
	StateHistory []stateEntry     `json:"state_history,omitempty"`
	Retries      string           `json:"retries,omitempty"`
	CreatedBy    string           `json:"created_by,omitempty"`
	InfraPID     string           `json:"infrastructure_pid,omitempty"`
	ParentTask   string           `json:"parent_task_run_id,omitempty"`
	DeploymentOf *deploymentBrief `json:"deployment_summary,omitempty"`
	WorkPoolOf   *workPoolBrief   `json:"work_pool_summary,omitempty"`
}

type stateEntry struct {
	At      string `json:"at"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
}

type deploymentBrief struct {
	Name      string `json:"name"`
	Paused    bool   `json:"paused,omitempty"`
	Status    string `json:"status,omitempty"`
	WorkQueue string `json:"work_queue,omitempty"`
	Limit     string `json:"concurrency,omitempty"`
}

type workPoolBrief struct {
	Name             string `json:"name"`
	Type             string `json:"type,omitempty"`
	Status           string `json:"status,omitempty"`
	Paused           bool   `json:"paused,omitempty"`
	ConcurrencyLimit *int   `json:"concurrency_limit,omitempty"`
}

// flowRunDetails adds state histories (one request per run, at most
// maxDetailRuns) and work-pool summaries (one request per distinct pool).
func (c *call) flowRunDetails(ctx context.Context, runs []prefect.FlowRun, names runNames) ([]flowRunDetail, error) {
	histories := make([][]prefect.State, len(runs))
	var pools []string
	for _, r := range runs {
		if r.WorkPoolName != "" && !slices.Contains(pools, r.WorkPoolName) {
			pools = append(pools, r.WorkPoolName)
		}
	}
	poolInfo := make([]prefect.WorkPool, len(pools))
	var jobs []func(context.Context) error
	for i := range runs {
		jobs = append(jobs, func(ctx context.Context) error {
			q := map[string][]string{"flow_run_id": {runs[i].ID}}
			return c.target.Client.Get(ctx, "/flow_run_states/", q, &histories[i])
		})
	}
	for i := range pools {
		jobs = append(jobs, func(ctx context.Context) error {
			err := c.target.Client.Get(ctx, prefect.Path("/work_pools/%s", pools[i]), nil, &poolInfo[i])
			if prefect.IsNotFound(err) {
				return nil // pool deleted since the run: the row still has its name
			}
			return err
		})
	}
	if err := parallel(ctx, 6, jobs...); err != nil {
		return nil, err
	}
	out := make([]flowRunDetail, len(runs))
	for i := range runs {
		r := &runs[i]
		d := flowRunDetail{
			flowRunRow:   newFlowRunRow(r, names),
			DeploymentID: r.DeploymentID,
			Parameters:   clipJSON(r.Parameters, parameterBudget),
			InfraPID:     r.InfrastructurePID,
			ParentTask:   r.ParentTaskRunID,
		}
		if r.State != nil {
			d.FullMessage = clip(r.State.Message, detailBudget)
		}
		if r.EmpiricalPolicy.Retries != nil || r.RunCount > 1 {
			allowed := 0
			if r.EmpiricalPolicy.Retries != nil {
				allowed = *r.EmpiricalPolicy.Retries
			}
			d.Retries = retriesText(r.RunCount, allowed)
		}
		if r.CreatedBy != nil {
			d.CreatedBy = r.CreatedBy.Type
			if r.CreatedBy.DisplayValue != "" {
				d.CreatedBy += ": " + r.CreatedBy.DisplayValue
			}
		}
		for _, s := range sortedStates(histories[i]) {
			d.StateHistory = append(d.StateHistory, stateEntry{At: ts(s.Timestamp), State: stateLabel(s.Type, s.Name), Message: clip(s.Message, messageBudget)})
		}
		if dep, ok := names.deployments[r.DeploymentID]; ok {
			d.DeploymentOf = &deploymentBrief{Name: dep.Name, Paused: dep.Paused, Status: dep.Status, WorkQueue: dep.WorkQueueName, Limit: deploymentLimitText(dep)}
		}
		for j, p := range pools {
			if p == r.WorkPoolName && poolInfo[j].Name != "" {
				w := poolInfo[j]
				d.WorkPoolOf = &workPoolBrief{Name: w.Name, Type: w.Type, Status: w.Status, Paused: w.IsPaused, ConcurrencyLimit: w.ConcurrencyLimit}
			}
		}
		out[i] = d
	}
	return out, nil
}

func retriesText(runCount, allowed int) string {
	used := max(runCount-1, 0)
	return strconv.Itoa(used) + " of " + strconv.Itoa(allowed) + " retries used"
}

func sortedStates(states []prefect.State) []prefect.State {
	slices.SortStableFunc(states, func(a, b prefect.State) int { return a.Timestamp.Compare(b.Timestamp) })
	return states
}

// deploymentLimitText describes a deployment's concurrency limit. Prefect
// 3.8 reports it through a v2 limit named deployment:<id>.
func deploymentLimitText(d prefect.Deployment) string {
	if g := d.GlobalConcurrencyLimit; g != nil {
		s := strconv.Itoa(g.ActiveSlots) + "/" + strconv.Itoa(g.Limit) + " slots in use"
		if !g.Active {
			s += " (limit inactive)"
		}
		if d.ConcurrencyOptions != nil && d.ConcurrencyOptions.CollisionStrategy != "" {
			s += ", collision strategy " + d.ConcurrencyOptions.CollisionStrategy
		}
		return s
	}
	if d.ConcurrencyLimit != nil {
		return "limit " + strconv.Itoa(*d.ConcurrencyLimit)
	}
	return ""
}
