package tools

import (
	"context"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

const (
	defaultLogLimit = 100
	maxLogLimit     = 1000
	// logsPageSize is Prefect's own cap on rows per /logs/filter call.
	logsPageSize = apiMaxLimit
	// logsBudget bounds a whole logs result; tail mode keeps the newest lines.
	logsBudget = 96 << 10
	// defaultLogsBudget bounds a call that leaves limit out, like every
	// list tool's default call: a model asks for more lines when it needs them.
	defaultLogsBudget = 11 << 10
)

type flowRunLogsInput struct {
	FlowRunID string `json:"flow_run_id,omitempty" jsonschema:"the flow run's id or name"`
	TaskRunID string `json:"task_run_id,omitempty" jsonschema:"only this task run's lines"`
	Limit     int    `json:"limit,omitempty" jsonschema:"default 100"`
	Offset    int    `json:"offset,omitempty" jsonschema:"ignored with tail"`
	Level     string `json:"level,omitempty" jsonschema:"minimum level"`
	Tail      bool   `json:"tail,omitempty" jsonschema:"the last lines instead of the first"`
	Workspace
}

func flowRunLogsTool() Definition {
	return define(Definition{
		Name: ToolGetFlowRunLogs, Title: "Get flow run logs", Group: GroupRuns,
		Summary: "A flow run's log lines, oldest first or the last N (tail), filtered by minimum level, paged past Prefect's 200-row cap.",
	}, `A flow run's log lines (its tasks' included), oldest first: "time LEVEL logger: message", tracebacks kept. tail=true gives the last lines, where a failure's traceback is; level filters by minimum level; task_run_id narrows to one task.
Example: {"flow_run_id":"crimson-falcon","tail":true,"level":"error"}`,
		func(s *jsonschema.Schema) {
			bound(s, "limit", 1, maxLogLimit)
			s.Properties["level"].Enum = []any{"debug", "info", "warning", "error", "critical"}
		},
		getFlowRunLogs)
}

type logsResult struct {
	FlowRunID string   `json:"flow_run_id,omitempty"`
	TaskRunID string   `json:"task_run_id,omitempty"`
	Level     string   `json:"min_level,omitempty"`
	Order     string   `json:"order"`
	Lines     []string `json:"lines"`
	Page
	Note string `json:"note,omitempty"`
}

func getFlowRunLogs(ctx context.Context, c *call, in flowRunLogsInput) (*logsResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultLogLimit, maxLogLimit)
	if err != nil {
		return nil, err
	}
	level, err := parseLevel(in.Level)
	if err != nil {
		return nil, err
	}
	q := logQuery{minLevel: level, limit: limit, offset: offset, newestFirst: in.Tail}
	if in.TaskRunID != "" {
		if q.taskRunID, err = checkUUID("task_run_id", in.TaskRunID); err != nil {
			return nil, err
		}
	}
	if in.FlowRunID != "" || q.taskRunID == "" {
		if q.flowRunID, err = c.resolveFlowRun(ctx, "flow_run_id", in.FlowRunID); err != nil {
			return nil, err
		}
	}
	if in.Tail {
		offset, q.offset = 0, 0
	}
	logs, more, err := c.readLogs(ctx, q)
	if err != nil {
		return nil, err
	}
	res := &logsResult{FlowRunID: q.flowRunID, TaskRunID: q.taskRunID, Order: "oldest first"}
	if level > 0 {
		res.Level = levelName(level)
	}
	if in.Tail {
		slices.Reverse(logs)
		res.Order = "oldest first (the last lines of the run)"
	}
	budget := logsBudget
	if in.Limit == 0 {
		budget = defaultLogsBudget
	}
	lines, cut := formatLogLines(logs, budget, in.Tail)
	res.Lines = lines
	if in.Tail {
		res.Page = Page{Count: len(lines), Truncated: more || cut > 0}
		if res.Truncated {
			res.Note = "earlier lines exist; call again without tail (offset 0) to read from the start"
		}
	} else {
		res.Page = newPage(len(lines), offset, more || cut > 0)
	}
	if len(logs) == 0 {
		res.Note = "no log lines matched; the run may not have started, or its logs were not sent to the API"
		if err := c.ensureRun(ctx, q); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// ensureRun turns an empty log result for an unknown id into not-found.
func (c *call) ensureRun(ctx context.Context, q logQuery) error {
	path, what, hint := prefect.Path("/flow_runs/%s", q.flowRunID), "flow run "+q.flowRunID, "list runs with "+ToolGetFlowRuns
	if q.flowRunID == "" {
		path, what, hint = prefect.Path("/task_runs/%s", q.taskRunID), "task run "+q.taskRunID, "find task runs with "+ToolGetTaskRuns
	}
	err := c.target.Client.Get(ctx, path, nil, nil)
	if prefect.IsNotFound(err) {
		return &notFound{msg: what + " was not found; " + hint + " to find its id"}
	}
	return err
}

type logQuery struct {
	flowRunID, taskRunID string
	minLevel             int
	limit, offset        int
	newestFirst          bool
}

// readLogs pages through /logs/filter (Prefect serves at most 200 rows per
// call) and reports whether more rows exist past limit.
func (c *call) readLogs(ctx context.Context, q logQuery) ([]prefect.LogEntry, bool, error) {
	filter := prefect.Where{}
	if q.flowRunID != "" {
		filter["flow_run_id"] = prefect.AnyOf(q.flowRunID)
	}
	if q.taskRunID != "" {
		filter["task_run_id"] = prefect.AnyOf(q.taskRunID)
	}
	if q.minLevel > 0 {
		filter["level"] = prefect.AtLeast(q.minLevel)
	}
	sort := "TIMESTAMP_ASC"
	if q.newestFirst {
		sort = "TIMESTAMP_DESC"
	}
	want := q.limit + 1 // one more tells us whether there is more
	var out []prefect.LogEntry
	for len(out) < want {
		n := min(logsPageSize, want-len(out))
		var batch []prefect.LogEntry
		body := prefect.Body{"logs": filter, "sort": sort, "limit": n, "offset": q.offset + len(out)}
		if err := c.target.Client.Post(ctx, "/logs/filter", body, &batch); err != nil {
			return nil, false, err
		}
		out = append(out, batch...)
		if len(batch) < n {
			break
		}
	}
	more := len(out) > q.limit
	if more {
		out = out[:q.limit]
	}
	return out, more, nil
}

// formatLogLines renders lines within a byte budget. When the budget runs
// out it keeps the head (or, for tail, the newest lines) and reports how
// many lines were dropped.
func formatLogLines(logs []prefect.LogEntry, budget int, keepNewest bool) ([]string, int) {
	lines := make([]string, len(logs))
	for i, l := range logs {
		var b strings.Builder
		b.WriteString(l.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z"))
		b.WriteByte(' ')
		b.WriteString(levelName(l.Level))
		if l.Name != "" {
			b.WriteByte(' ')
			b.WriteString(l.Name)
		}
		b.WriteString(": ")
		b.WriteString(clip(l.Message, logLineBudget))
		lines[i] = b.String()
	}
	total := 0
	if keepNewest {
		for i := len(lines) - 1; i >= 0; i-- {
			total += len(lines[i])
			if total > budget {
				return lines[i+1:], i + 1
			}
		}
		return lines, 0
	}
	for i, l := range lines {
		total += len(l)
		if total > budget {
			return lines[:i], len(lines) - i
		}
	}
	return lines, 0
}
