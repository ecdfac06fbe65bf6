package tools

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// defaultTaskRunLimit keeps the default page well within 8 KB when its
// rows span many flow runs.
const defaultTaskRunLimit = 40

// maxUpstreamShown bounds a row's upstream list (a fan-in task can have hundreds).
const maxUpstreamShown = 10

type taskRunsInput struct {
	Filter      map[string]any `json:"filter,omitempty"`
	Flows       map[string]any `json:"flows,omitempty"`
	FlowRuns    map[string]any `json:"flow_runs,omitempty"`
	Deployments map[string]any `json:"deployments,omitempty"`
	FlowRun     string         `json:"flow_run,omitempty"`
	runShortcuts
	Limit  int `json:"limit,omitempty"`
	Offset int `json:"offset,omitempty"`
	Workspace
}

func taskRunsTool() Definition {
	return define(Definition{
		Name: ToolGetTaskRuns, Title: "Get task runs", Group: GroupRuns,
		Summary: "Task runs, newest first, grouped by flow run, with state and message, timing, retries, cache key and upstream task-run dependencies; by flow run, flow, deployment, state and time window.",
	}, `Task runs, newest first, grouped by flow run: state, message, times, retries, cache key; upstream = task runs it depended on (not argument values). By flow_run (id or name), flow, deployment, state, since/until (as in `+ToolGetFlowRuns+`), or filters: filter (TaskRunFilter), flows, flow_runs, deployments.
Example: {"flow_run":"crimson-falcon","state":["Failed"]}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getTaskRuns)
}

type taskRunRow struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	TaskKey         string   `json:"task_key,omitempty"`
	State           string   `json:"state"`
	Message         string   `json:"message,omitempty"`
	ExpectedStart   string   `json:"expected_start,omitempty"`
	Start           string   `json:"start,omitempty"`
	End             string   `json:"end,omitempty"`
	Duration        string   `json:"duration,omitempty"`
	RunCount        int      `json:"run_count,omitempty"`
	Retries         string   `json:"retries,omitempty"`
	Tags            []string `json:"tags,omitempty"`
	CacheKey        string   `json:"cache_key,omitempty"`
	CacheExpiration string   `json:"cache_expiration,omitempty"`
	SubflowRunID    string   `json:"subflow_run_id,omitempty"`
	Upstream        []string `json:"upstream,omitempty"`
	UpstreamMore    int      `json:"upstream_more,omitempty"`
}

// taskRunsResult groups the rows under their flow run, so each flow run's
// name and id are said once: the page's order (newest first) within each
// group, groups by their newest row.
type taskRunsResult struct {
	FlowRuns []taskRunGroup `json:"flow_runs"`
	Page
	Note string `json:"note,omitempty"`
}

// taskRunGroup is one flow run's task runs of the page; Name and ID are
// absent for task runs run outside a flow run.
type taskRunGroup struct {
	Name     string       `json:"name,omitempty"`
	ID       string       `json:"id,omitempty"`
	TaskRuns []taskRunRow `json:"task_runs"`
}

func getTaskRuns(ctx context.Context, c *call, in taskRunsInput) (*taskRunsResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultTaskRunLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	b := bodyFilters{}
	b.add("task_runs", in.Filter)
	b.add("flows", in.Flows)
	b.add("flow_runs", in.FlowRuns)
	b.add("deployments", in.Deployments)
	if ref := strings.TrimSpace(in.FlowRun); ref != "" {
		id, err := c.resolveFlowRun(ctx, "flow_run", ref)
		if err != nil {
			return nil, err
		}
		if err := b.set("flow_run", "task_runs", "flow_run_id", prefect.AnyOf(id)); err != nil {
			return nil, err
		}
	}
	if err := in.apply(ctx, c, b, "task_runs"); err != nil {
		return nil, err
	}
	filter := b["task_runs"]
	delete(b, "task_runs")
	runs, more, err := fetchPage[prefect.TaskRunDetail](ctx, c, listQuery{
		path: "/task_runs/filter", key: "task_runs", component: "TaskRunFilter", sort: "EXPECTED_START_TIME_DESC",
		filter: filter, siblings: b, limit: limit, offset: offset,
	})
	if err != nil {
		return nil, err
	}
	var flowRunIDs []string
	for _, r := range runs {
		if r.FlowRunID != "" && !slices.Contains(flowRunIDs, r.FlowRunID) {
			flowRunIDs = append(flowRunIDs, r.FlowRunID)
		}
	}
	names, err := c.namesByID(ctx, "flow_runs", flowRunIDs) // one request
	if err != nil {
		return nil, err
	}
	res := &taskRunsResult{FlowRuns: []taskRunGroup{}, Page: newPage(len(runs), offset, more)}
	rows := make([]taskRunRow, len(runs))
	cut := false
	for i := range runs {
		rows[i] = newTaskRunRow(&runs[i])
		if s := runs[i].State; s != nil {
			var clipped bool
			rows[i].Message, clipped = rowMessage(s.Message, len(runs))
			cut = cut || clipped
		}
	}
	if len(runs) > maxDetailRuns {
		res.Note = c.longPageNote(cut, "", "a page of ≤10 task runs")
	}
	nameUpstreamInPage(rows)
	group := map[string]int{} // flow run id -> its index in res.FlowRuns
	for i, r := range runs {
		g, ok := group[r.FlowRunID]
		if !ok {
			g = len(res.FlowRuns)
			group[r.FlowRunID] = g
			res.FlowRuns = append(res.FlowRuns, taskRunGroup{Name: names[r.FlowRunID], ID: r.FlowRunID})
		}
		res.FlowRuns[g].TaskRuns = append(res.FlowRuns[g].TaskRuns, rows[i])
	}
	return res, nil
}

// nameUpstreamInPage refers to upstream task runs that are rows of the same
// result by their (unique) name, a third of a UUID's bytes; others keep ids.
func nameUpstreamInPage(rows []taskRunRow) {
	byID := make(map[string]string, len(rows))
	count := map[string]int{}
	for _, r := range rows {
		byID[r.ID] = r.Name
		count[r.Name]++
	}
	for i := range rows {
		for j, id := range rows[i].Upstream {
			if name, ok := byID[id]; ok && count[name] == 1 {
				rows[i].Upstream[j] = name
			}
		}
	}
}

// newTaskRunRow is a task run's row without its message: the page's size
// decides how much of it to keep.
func newTaskRunRow(r *prefect.TaskRunDetail) taskRunRow {
	row := taskRunRow{
		ID:       r.ID,
		Name:     r.Name,
		TaskKey:  r.TaskKey,
		State:    stateLabel(r.StateType, r.StateName),
		Start:    tsp(r.StartTime),
		End:      tsp(r.EndTime),
		Duration: dur(r.TotalRunTime),
		Tags:     r.Tags,
		CacheKey: r.CacheKey,
	}
	// The task key is the task's name and a hash of its code: said only
	// when the run's name does not start with the task's.
	if _, ok := taskOfKey(r.Name, r.TaskKey); ok {
		row.TaskKey = ""
	}
	// Tags matter while a run waits (a tag concurrency limit holds a
	// Pending task run); a running one holds its slots (get_concurrency_limits
	// lists the holders) and a finished one is only described by them.
	switch r.StateType {
	case "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED":
		row.Tags = nil
	}
	if r.RunCount != 1 {
		row.RunCount = r.RunCount // one run is the norm; say it only when it is not
	}
	if r.StartTime == nil {
		row.ExpectedStart = tsp(r.ExpectedStartTime)
	} else if r.EndTime != nil && row.Duration != "" {
		// end = start + duration unless retries waited in between: keep it
		// only when it says something the duration does not
		gap := r.EndTime.Sub(*r.StartTime).Seconds() - r.TotalRunTime
		if gap > -1 && gap < 1 {
			row.End = ""
		}
	}
	if r.CacheExpiration != nil {
		row.CacheExpiration = tsp(r.CacheExpiration)
	}
	if s := r.State; s != nil {
		if row.State == "" {
			row.State = stateLabel(s.Type, s.Name)
		}
		if row.CacheKey == "" {
			row.CacheKey = s.StateDetails.CacheKey
		}
		if row.CacheExpiration == "" {
			row.CacheExpiration = tsp(s.StateDetails.CacheExpiration)
		}
		row.SubflowRunID = s.StateDetails.ChildFlowRunID
	}
	allowed := 0
	if r.EmpiricalPolicy.Retries != nil {
		allowed = *r.EmpiricalPolicy.Retries
	}
	if allowed > 0 || r.RunCount > 1 {
		row.Retries = retriesText(r.RunCount, allowed)
	}
	row.Upstream, row.UpstreamMore = upstreamTaskRuns(r.TaskInputs)
	return row
}

// taskOfKey returns the task name shared by a run name ("extract-6f0")
// and its task key ("extract-9c2e1f4b"): the part before their last dash.
func taskOfKey(name, key string) (string, bool) {
	i, j := strings.LastIndexByte(name, '-'), strings.LastIndexByte(key, '-')
	if i <= 0 || j <= 0 || name[:i] != key[:j] {
		return "", false
	}
	return key[:j], true
}

// upstreamTaskRuns lists the distinct task runs in task_inputs, in argument
// name order, at most maxUpstreamShown, and how many more there are.
func upstreamTaskRuns(inputs map[string][]prefect.TaskInput) ([]string, int) {
	params := make([]string, 0, len(inputs))
	for p := range inputs {
		params = append(params, p)
	}
	sort.Strings(params)
	var ids []string
	for _, p := range params {
		for _, in := range inputs[p] {
			if in.InputType == "task_run" && in.ID != "" && !slices.Contains(ids, in.ID) {
				ids = append(ids, in.ID)
			}
		}
	}
	if len(ids) > maxUpstreamShown {
		return ids[:maxUpstreamShown], len(ids) - maxUpstreamShown
	}
	return ids, 0
}
