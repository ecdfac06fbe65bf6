package tools

import (
	"context"
	"net/url"
	"sort"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Bounds of a state timeline: runs with many retries or pauses can have
// hundreds of states; the first and the last ones tell the story.
const (
	historyHead = 10
	historyTail = 40
)

type stateHistoryInput struct {
	FlowRunID string `json:"flow_run_id,omitempty" jsonschema:"give this or task_run_id"`
	TaskRunID string `json:"task_run_id,omitempty" jsonschema:"give this or flow_run_id"`
	Workspace
}

func stateHistoryTool() Definition {
	return define(Definition{
		Name: ToolGetRunStateHistory, Title: "Get run state history", Group: GroupRuns,
		Summary: "The full state timeline of one flow or task run, oldest first, with time spent in each state and counts of retries, pauses and crashes.",
	}, `Every state of one flow or task run, oldest first, with messages and time in each state; counts retries, pauses and crashes.
Example: {"flow_run_id":"<uuid>"}`,
		nil, getStateHistory)
}

type stateRow struct {
	Time      string `json:"time"`
	State     string `json:"state"`
	Message   string `json:"message,omitempty"`
	Duration  string `json:"duration,omitempty"`
	Ongoing   bool   `json:"ongoing,omitempty"`
	Scheduled string `json:"scheduled_for,omitempty"`
	PauseTill string `json:"pause_timeout,omitempty"`
}

type historySummary struct {
	States   int    `json:"states"`
	Retries  int    `json:"retries,omitempty"`
	Pauses   int    `json:"pauses,omitempty"`
	Crashes  int    `json:"crashes,omitempty"`
	Failures int    `json:"failures,omitempty"`
	Late     bool   `json:"was_late,omitempty"`
	Current  string `json:"current"`
	Span     string `json:"span,omitempty"`
}

// stateHistoryResult is one run's timeline, its middle left out when long.
type stateHistoryResult struct {
	RunKind string         `json:"run_kind"`
	RunID   string         `json:"run_id"`
	Summary historySummary `json:"summary"`
	States  []stateRow     `json:"states"`
	Omitted int            `json:"omitted_states,omitempty"`
	Note    string         `json:"note,omitempty"`
}

func getStateHistory(ctx context.Context, c *call, in stateHistoryInput) (*stateHistoryResult, error) {
	if (in.FlowRunID == "") == (in.TaskRunID == "") {
		return nil, badInput("give exactly one of flow_run_id or task_run_id")
	}
	kind, param, path, idArg := "flow run", "flow_run_id", "/flow_run_states/", in.FlowRunID
	if in.TaskRunID != "" {
		kind, param, path, idArg = "task run", "task_run_id", "/task_run_states/", in.TaskRunID
	}
	var id string
	var err error
	if in.TaskRunID != "" {
		id, err = checkUUID(param, idArg)
	} else {
		id, err = c.resolveFlowRun(ctx, param, idArg)
	}
	if err != nil {
		return nil, err
	}
	var states []prefect.State
	if err := c.target.Client.Get(ctx, path, url.Values{param: {id}}, &states); err != nil {
		return nil, err
	}
	if len(states) == 0 {
		return nil, c.runNotFound(ctx, kind, id)
	}
	// Prefect sorts by timestamp already; a stable sort keeps ties in its order.
	sortStates(states)
	now := c.deps.now()
	sum := historySummary{States: len(states)}
	rows := make([]stateRow, len(states))
	for i, s := range states {
		r := stateRow{Time: ts(s.Timestamp), State: stateLabel(s.Type, s.Name), Message: clip(s.Message, messageBudget)}
		switch {
		case i+1 < len(states):
			r.Duration = dur(states[i+1].Timestamp.Sub(s.Timestamp).Seconds())
		case !isFinalType(s.Type):
			r.Duration, r.Ongoing = dur(now.Sub(s.Timestamp).Seconds()), true
		}
		if s.Type == "SCHEDULED" {
			r.Scheduled = tsp(s.StateDetails.ScheduledTime)
		}
		if s.Type == "PAUSED" {
			r.PauseTill = tsp(s.StateDetails.PauseTimeout)
		}
		rows[i] = r
		switch {
		case s.Name == "AwaitingRetry":
			sum.Retries++
		case s.Type == "PAUSED":
			sum.Pauses++
		case s.Type == "CRASHED":
			sum.Crashes++
		case s.Type == "FAILED":
			sum.Failures++
		}
		if s.Name == "Late" {
			sum.Late = true
		}
	}
	last := states[len(states)-1]
	sum.Current = stateLabel(last.Type, last.Name)
	sum.Span = dur(last.Timestamp.Sub(states[0].Timestamp).Seconds())

	res := &stateHistoryResult{RunKind: kind, RunID: id, Summary: sum, States: rows}
	if len(rows) > historyHead+historyTail {
		res.Omitted = len(rows) - historyHead - historyTail
		res.States = append(rows[:historyHead:historyHead], rows[len(rows)-historyTail:]...)
		res.Note = "the middle of a long timeline is left out; the summary counts every state"
	}
	return res, nil
}

func sortStates(states []prefect.State) {
	sort.SliceStable(states, func(i, j int) bool { return states[i].Timestamp.Before(states[j].Timestamp) })
}

// isFinalType is a state a run does not leave on its own.
func isFinalType(t string) bool {
	switch strings.ToUpper(t) {
	case "COMPLETED", "FAILED", "CANCELLED", "CRASHED":
		return true
	}
	return false
}

// runNotFound turns an empty state list for an unknown id into not-found;
// a known run without states is reported as such.
func (c *call) runNotFound(ctx context.Context, kind, id string) error {
	path, list := prefect.Path("/flow_runs/%s", id), ToolGetFlowRuns
	if kind == "task run" {
		path, list = prefect.Path("/task_runs/%s", id), ToolGetTaskRuns
	}
	err := c.target.Client.Get(ctx, path, nil, nil)
	if prefect.IsNotFound(err) {
		return &notFound{msg: kind + " " + id + " was not found; find its id with " + list}
	}
	if err != nil {
		return err
	}
	return &notFound{msg: kind + " " + id + " exists but Prefect returned no states for it"}
}
