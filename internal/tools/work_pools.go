package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Bounds of get_work_pools: detail mode reads one queue status per queue.
const (
	maxDetailPools      = 5
	maxQueueStatuses    = 10 // per pool in detail mode
	maxWorkersListed    = 5  // per pool; counts cover all workers read
	maxWorkersRead      = 200
	jobTemplateBudget   = 1200
	poolListConcurrency = 8
)

type workPoolsInput struct {
	Filter map[string]any `json:"filter,omitempty"`
	Limit  int            `json:"limit,omitempty"`
	Offset int            `json:"offset,omitempty"`
	Workspace
}

func workPoolsTool() Definition {
	return define(Definition{
		Name: ToolGetWorkPools, Title: "Get work pools", Group: GroupInfrastructure,
		Summary: "Work pools with status, concurrency limit and runs in use, workers by status with last heartbeat, and queues; job template and queue health when the filter selects names.",
	}, `Work pools, filtered by a Prefect WorkPoolFilter: type, status (NOT_READY = no worker online: runs go Late), paused, limit, runs in use, workers with last heartbeat, queues. Selecting names (≤5) adds the job template and queue health.
Example: {"filter":{"name":{"any_":["my-pool"]}}}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getWorkPools)
}

type workerRow struct {
	Name          string `json:"name"`
	Status        string `json:"status,omitempty"`
	LastHeartbeat string `json:"last_heartbeat,omitempty"`
}

type workersSummary struct {
	Online        int         `json:"online"`
	Offline       int         `json:"offline"`
	LastHeartbeat string      `json:"last_heartbeat,omitempty"`
	Recent        []workerRow `json:"recent,omitempty"`
	Truncated     bool        `json:"truncated,omitempty"`
}

type queueRow struct {
	Name             string `json:"name"`
	Priority         int    `json:"priority"`
	ConcurrencyLimit *int   `json:"concurrency_limit,omitempty"`
	Paused           bool   `json:"paused,omitempty"`
	Status           string `json:"status,omitempty"`
	LastPolled       string `json:"last_polled,omitempty"`
	Healthy          *bool  `json:"healthy,omitempty"`
	LateRuns         int    `json:"late_runs,omitempty"`
}

type jobTemplateSummary struct {
	Variables []string `json:"variables,omitempty"` // "name" or "name=default"
	Image     string   `json:"image,omitempty"`
	Command   string   `json:"command,omitempty"`
}

type workPoolRow struct {
	Name             string              `json:"name"`
	Type             string              `json:"type,omitempty"`
	Status           string              `json:"status,omitempty"`
	Paused           bool                `json:"paused,omitempty"`
	Description      string              `json:"description,omitempty"`
	ConcurrencyLimit *int                `json:"concurrency_limit,omitempty"`
	RunsInUse        int                 `json:"runs_in_use"`
	Workers          workersSummary      `json:"workers"`
	Queues           []queueRow          `json:"queues,omitempty"`
	JobTemplate      *jobTemplateSummary `json:"job_template,omitempty"`
	Notes            []string            `json:"notes,omitempty"`
	UIURL            string              `json:"ui_url,omitempty"`
}

func getWorkPools(ctx context.Context, c *call, in workPoolsInput) (any, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	pools, more, err := fetchPage[prefect.WorkPoolDetail](ctx, c, listQuery{
		path: "/work_pools/filter", key: "work_pools", component: "WorkPoolFilter",
		filter: in.Filter, limit: limit, offset: offset,
	})
	if err != nil {
		return nil, err
	}
	detail := len(filterAnyOf(in.Filter, "name")) > 0 && len(pools) > 0 && len(pools) <= maxDetailPools

	// Per pool: workers, queues and one exact count of Running + Pending
	// runs. /flow_runs/count per pool keeps the number exact whatever the
	// number of runs; the request count grows with pools only.
	workers := make([][]prefect.Worker, len(pools))
	queues := make([][]prefect.WorkQueue, len(pools))
	inUse := make([]int, len(pools))
	var jobs []func(context.Context) error
	for i := range pools {
		name := pools[i].Name
		jobs = append(jobs,
			func(ctx context.Context) error {
				return c.target.Client.Post(ctx, prefect.Path("/work_pools/%s/workers/filter", name), map[string]any{"limit": maxWorkersRead}, &workers[i])
			},
			func(ctx context.Context) error {
				return c.target.Client.Post(ctx, prefect.Path("/work_pools/%s/queues/filter", name), map[string]any{"limit": maxLimitRows}, &queues[i])
			},
			c.countActiveRuns(map[string]any{"work_pools": map[string]any{"id": map[string]any{"any_": []string{pools[i].ID}}}}, &inUse[i]),
		)
	}
	if err := parallel(ctx, poolListConcurrency, jobs...); err != nil {
		return nil, err
	}

	rows := make([]workPoolRow, len(pools))
	for i := range pools {
		rows[i] = c.newWorkPoolRow(&pools[i], workers[i], queues[i], inUse[i])
	}
	if detail {
		if err := c.addQueueHealth(ctx, rows, queues); err != nil {
			return nil, err
		}
		for i := range pools {
			rows[i].JobTemplate = summarizeJobTemplate(pools[i].BaseJobTemplate)
		}
	}
	return struct {
		WorkPools []workPoolRow `json:"work_pools"`
		page
	}{rows, newPage(len(rows), offset, more)}, nil
}

func (c *call) newWorkPoolRow(p *prefect.WorkPoolDetail, workers []prefect.Worker, queues []prefect.WorkQueue, inUse int) workPoolRow {
	row := workPoolRow{
		Name: p.Name, Type: p.Type, Status: p.Status, Paused: p.IsPaused, Description: clip(p.Description, 200),
		ConcurrencyLimit: p.ConcurrencyLimit, RunsInUse: inUse, UIURL: c.uiURL(uiWorkPool, p.Name),
	}
	for _, w := range workers {
		if w.Status == "ONLINE" {
			row.Workers.Online++
		} else {
			row.Workers.Offline++
		}
		if hb := tsp(w.LastHeartbeatTime); hb > row.Workers.LastHeartbeat {
			row.Workers.LastHeartbeat = hb
		}
	}
	// The fake and Prefect return workers by last heartbeat, newest first;
	// sort anyway so "recent" means what it says.
	sorted := slices.Clone(workers)
	slices.SortStableFunc(sorted, func(a, b prefect.Worker) int {
		return strings.Compare(tsp(b.LastHeartbeatTime), tsp(a.LastHeartbeatTime))
	})
	for _, w := range sorted[:min(len(sorted), maxWorkersListed)] {
		row.Workers.Recent = append(row.Workers.Recent, workerRow{Name: w.Name, Status: w.Status, LastHeartbeat: tsp(w.LastHeartbeatTime)})
	}
	row.Workers.Truncated = len(workers) >= maxWorkersRead
	for _, q := range queues {
		row.Queues = append(row.Queues, queueRow{
			Name: q.Name, Priority: q.Priority, ConcurrencyLimit: q.ConcurrencyLimit, Paused: q.IsPaused,
			Status: q.Status, LastPolled: tsp(q.LastPolled),
		})
	}
	switch {
	case p.IsPaused:
		row.Notes = append(row.Notes, "pool is paused: its runs will not be submitted")
	case row.Workers.Online == 0 && len(workers) == 0 && !strings.HasSuffix(p.Type, ":push") && !strings.HasSuffix(p.Type, ":managed"):
		row.Notes = append(row.Notes, "no worker has registered: runs in this pool will not start")
	case row.Workers.Online == 0 && len(workers) > 0:
		row.Notes = append(row.Notes, "no worker is online: runs in this pool will not start")
	}
	if p.ConcurrencyLimit != nil && inUse >= *p.ConcurrencyLimit {
		row.Notes = append(row.Notes, fmt.Sprintf("at its concurrency limit (%d/%d)", inUse, *p.ConcurrencyLimit))
	}
	return row
}

// addQueueHealth reads GET /work_queues/{id}/status for up to
// maxQueueStatuses queues of each pool (at most maxDetailPools pools).
func (c *call) addQueueHealth(ctx context.Context, rows []workPoolRow, queues [][]prefect.WorkQueue) error {
	statuses := make([][]prefect.WorkQueueStatus, len(rows))
	var jobs []func(context.Context) error
	for i := range rows {
		n := min(len(queues[i]), maxQueueStatuses)
		statuses[i] = make([]prefect.WorkQueueStatus, n)
		for j := range n {
			jobs = append(jobs, func(ctx context.Context) error {
				return c.target.Client.Get(ctx, prefect.Path("/work_queues/%s/status", queues[i][j].ID), nil, &statuses[i][j])
			})
		}
		if len(queues[i]) > n {
			rows[i].Notes = append(rows[i].Notes, fmt.Sprintf("health shown for the first %d queues only", n))
		}
	}
	if err := parallel(ctx, poolListConcurrency, jobs...); err != nil {
		return err
	}
	for i := range rows {
		for j, st := range statuses[i] {
			healthy := st.Healthy
			rows[i].Queues[j].Healthy = &healthy
			rows[i].Queues[j].LateRuns = st.LateRunsCount
		}
	}
	return nil
}

var placeholder = regexp.MustCompile(`^\{\{\s*[\w.]+\s*\}\}$`)

// summarizeJobTemplate keeps the variables' names and defaults and the
// image and command when the template fixes them, within a byte budget.
func summarizeJobTemplate(t map[string]any) *jobTemplateSummary {
	if len(t) == 0 {
		return nil
	}
	s := &jobTemplateSummary{}
	vars, _ := t["variables"].(map[string]any)
	props, _ := vars["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	budget := jobTemplateBudget
	for _, name := range names {
		p, _ := props[name].(map[string]any)
		entry := name
		if def, ok := p["default"]; ok && def != nil {
			entry = name + "=" + clip(jsonText(def), 120)
		}
		budget -= len(entry)
		if budget < 0 {
			s.Variables = append(s.Variables, fmt.Sprintf("…%d more", len(names)-len(s.Variables)))
			break
		}
		s.Variables = append(s.Variables, entry)
	}
	job, _ := t["job_configuration"].(map[string]any)
	for key, into := range map[string]*string{"image": &s.Image, "command": &s.Command} {
		if v, ok := job[key].(string); ok && v != "" && !placeholder.MatchString(strings.TrimSpace(v)) {
			*into = clip(v, 200)
		} else if p, ok := props[key].(map[string]any); ok && p["default"] != nil {
			*into = clip(fmt.Sprint(p["default"]), 200)
		}
	}
	if len(s.Variables) == 0 && s.Image == "" && s.Command == "" {
		return nil
	}
	return s
}

// jsonText renders a default compactly: strings bare, others as JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// filterAnyOf returns filter.<key>.any_ as strings.
func filterAnyOf(f map[string]any, key string) []string {
	k, _ := f[key].(map[string]any)
	vals, _ := k["any_"].([]any)
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
