package tools

import (
	"context"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

type workQueuesInput struct {
	Filter       map[string]any `json:"filter,omitempty" jsonschema:"a Prefect WorkQueueFilter (id, name)"`
	WorkPoolName string         `json:"work_pool_name,omitempty" jsonschema:"only this pool's queues"`
	Limit        int            `json:"limit,omitempty"`
	Offset       int            `json:"offset,omitempty"`
	Workspace
}

func workQueuesTool() Definition {
	return define(Definition{
		Name: ToolGetWorkQueues, Title: "Get work queues", Group: GroupInfrastructure,
		Summary: "Work queues with their pool, priority, concurrency limit, paused flag, status and last poll by a worker.",
	}, `Work queues: pool, priority, limit, paused, status, last polled. A queue no worker polls leaves its runs Late.
Example: {"work_pool_name":"local-process-pool"}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getWorkQueues)
}

type workQueueRow struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Pool             string `json:"pool,omitempty"`
	Priority         int    `json:"priority"`
	ConcurrencyLimit *int   `json:"concurrency_limit,omitempty"`
	Paused           bool   `json:"paused,omitempty"`
	Status           string `json:"status,omitempty"`
	// LastPolled is a time, as get_work_pools' and get_deployments' are.
	LastPolled  string `json:"last_polled,omitempty"`
	Description string `json:"description,omitempty"`
}

// workQueuesResult is one page of work queues.
type workQueuesResult struct {
	WorkQueues []workQueueRow `json:"work_queues"`
	Page
	Note string `json:"note,omitempty"`
}

func getWorkQueues(ctx context.Context, c *call, in workQueuesInput) (*workQueuesResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	if err := c.checkFilter("WorkQueueFilter", in.Filter); err != nil {
		return nil, err
	}
	body := prefect.Body{}
	if len(in.Filter) > 0 {
		body["work_queues"] = in.Filter
	}
	path := "/work_queues/filter"
	if pool := strings.TrimSpace(in.WorkPoolName); pool != "" {
		if err := pathName("work pool", pool, poolNameBanned, ToolGetWorkPools); err != nil {
			return nil, err
		}
		path = prefect.Path("/work_pools/%s/queues/filter", pool)
	}
	queues, more, err := postPage[prefect.WorkQueue](ctx, c, path, body, limit, offset)
	if err != nil {
		if in.WorkPoolName != "" && prefect.IsNotFound(err) {
			return nil, &notFound{msg: "work pool " + clip(in.WorkPoolName, 80) + " was not found; list pools with " + ToolGetWorkPools}
		}
		return nil, err
	}
	rows := make([]workQueueRow, len(queues))
	var unpolled []string
	for i, q := range queues {
		r := workQueueRow{
			ID: q.ID, Name: q.Name, Pool: q.WorkPoolName, Priority: q.Priority, ConcurrencyLimit: q.ConcurrencyLimit,
			Paused: q.IsPaused, Status: q.Status, LastPolled: tsp(q.LastPolled), Description: clip(q.Description, 120),
		}
		if q.LastPolled == nil && !q.IsPaused {
			unpolled = append(unpolled, queueLabel(q))
		}
		rows[i] = r
	}
	res := &workQueuesResult{WorkQueues: rows, Page: newPage(len(rows), offset, more)}
	if len(unpolled) > 0 {
		res.Note = "never polled by a worker: " + strings.Join(unpolled, ", ") + "; runs sent there wait until a worker serves the queue"
	}
	if len(rows) == 0 {
		res.Note = "no work queue matched"
	}
	return res, nil
}

func queueLabel(q prefect.WorkQueue) string {
	if q.WorkPoolName == "" {
		return q.Name
	}
	return q.WorkPoolName + "/" + q.Name
}
