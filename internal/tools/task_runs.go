package tools

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// defaultTaskRunLimit keeps the default page within 8 KB when its rows
// span many flow runs (each row then names its flow run).
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
		Summary: "Task runs, newest first, with state and message, timing, retries, cache key and upstream task-run dependencies; by flow run, flow, deployment, state and time window.",
	}, `Task runs, newest first: state, message, times, retries, cache key; upstream = task runs it depended on (not argument values). By flow_run (id or name), flow, deployment, state, since/until (as in `+ToolGetFlowRuns+`), or Prefect filters: filter (TaskRunFilter), flows, flow_runs, deployments.
Example: {"flow_run":"crimson-falcon","state":["Failed"]}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getTaskRuns)
}

type taskRunRow struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	TaskKey         string   `json:"task_key,omitempty"`
	FlowRunID       string   `json:"flow_run_id,omitempty"`
	FlowRun         string   `json:"flow_run,omitempty"` // key into taskRunsResult.FlowRuns
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

type taskRunsResult struct {
	FlowRunID string `json:"flow_run_id,omitempty"`
	FlowRun   string `json:"flow_run,omitempty"`
	// FlowRuns maps the flow_run of the rows, when they span flow runs, to
	// its id: a run's name, a third of a UUID's bytes, in each row.
	FlowRuns map[string]string `json:"flow_runs,omitempty"`
	TaskRuns []taskRunRow      `json:"task_runs"`
	Page
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
		if err := b.set("flow_run", "task_runs", "flow_run_id", anyOf(id)); err != nil {
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
	names, err := c.flowRunNames(ctx, flowRunIDs)
	if err != nil {
		return nil, err
	}
	res := &taskRunsResult{TaskRuns: make([]taskRunRow, len(runs)), Page: newPage(len(runs), offset, more)}
	single := len(flowRunIDs) == 1
	var refs map[string]string // flow run id -> its key in res.FlowRuns
	if single {
		res.FlowRunID, res.FlowRun = flowRunIDs[0], names[flowRunIDs[0]]
	} else if len(flowRunIDs) > 1 {
		res.FlowRuns, refs = flowRunKeys(flowRunIDs, names)
	}
	for i := range runs {
		row := newTaskRunRow(&runs[i], rowMessages(len(runs)))
		if single {
			row.FlowRunID = ""
		} else if key, ok := refs[row.FlowRunID]; ok {
			row.FlowRun, row.FlowRunID = key, ""
		}
		res.TaskRuns[i] = row
	}
	nameUpstreamInPage(res.TaskRuns)
	return res, nil
}

// flowRunKeys keys each flow run by its name, or by its id when the name
// is unknown or another run of the page has it, and maps keys to ids.
func flowRunKeys(ids []string, names map[string]string) (byKey, keyOf map[string]string) {
	count := map[string]int{}
	for _, id := range ids {
		count[names[id]]++
	}
	byKey, keyOf = map[string]string{}, map[string]string{}
	for _, id := range ids {
		key := names[id]
		if key == "" || count[key] > 1 || prefect.IsUUID(key) {
			key = id
		}
		byKey[key], keyOf[id] = id, key
	}
	return byKey, keyOf
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

// flowRunNames maps flow run ids to names in one request.
func (c *call) flowRunNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var runs []prefect.FlowRun
	err := c.target.Client.Post(ctx, "/flow_runs/filter", map[string]any{
		"flow_runs": map[string]any{"id": map[string]any{"any_": ids}}, "limit": len(ids),
	}, &runs)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		out[r.ID] = r.Name
	}
	return out, nil
}

func newTaskRunRow(r *prefect.TaskRunDetail, msgBudget int) taskRunRow {
	row := taskRunRow{
		ID:        r.ID,
		Name:      r.Name,
		TaskKey:   r.TaskKey,
		FlowRunID: r.FlowRunID,
		State:     stateLabel(r.StateType, r.StateName),
		Start:     tsp(r.StartTime),
		End:       tsp(r.EndTime),
		Duration:  dur(r.TotalRunTime),
		Tags:      r.Tags,
		CacheKey:  r.CacheKey,
	}
	// The task key is the task's name and a hash of its code: said only
	// when the run's name does not start with the task's.
	if _, ok := taskOfKey(r.Name, r.TaskKey); ok {
		row.TaskKey = ""
	}
	// Tags matter while a run waits (a tag concurrency limit holds a
	// Pending task run); on a finished run they only describe it.
	switch r.StateType {
	case "COMPLETED", "FAILED", "CANCELLED", "CRASHED":
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
		row.Message = clip(s.Message, msgBudget)
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
