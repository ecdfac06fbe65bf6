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

// Bounds of get_work_pools: detail mode (the filter names at most
// maxDetailPools pools) reads each named pool's workers and queues and one
// queue status per queue.
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
		Summary: "Work pools with status, concurrency limit and runs in use, and queues; workers with last heartbeat, job template and queue health when the filter selects names.",
	}, `Work pools, filtered by a Prefect WorkPoolFilter: type, status (NOT_READY = no worker online: runs go Late), paused, limit, runs in use, queues. Selecting names (≤5) adds workers with heartbeats, job template, queue health.
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
	Name             string `json:"name"`
	Type             string `json:"type,omitempty"`
	Status           string `json:"status,omitempty"`
	Paused           bool   `json:"paused,omitempty"`
	Description      string `json:"description,omitempty"`
	ConcurrencyLimit *int   `json:"concurrency_limit,omitempty"`
	// RunsInUse is Prefect's count of Pending and Running runs, given for
	// pools with a concurrency limit.
	RunsInUse *int            `json:"runs_in_use,omitempty"`
	Workers   *workersSummary `json:"workers,omitempty"`
	Queues    []queueRow      `json:"queues,omitempty"` // detail mode
	// QueueNames is the list mode's compact view: "name", with what
	// deserves attention in brackets.
	QueueNames  []string            `json:"queue_names,omitempty"`
	JobTemplate *jobTemplateSummary `json:"job_template,omitempty"`
	Notes       []string            `json:"notes,omitempty"`
	UIURL       string              `json:"ui_url,omitempty"`
}

// workPoolsResult is one page of work pools, in detail when selected by name.
type workPoolsResult struct {
	WorkPools []workPoolRow `json:"work_pools"`
	Notes     []string      `json:"notes,omitempty"`
	Page
}

// getWorkPools costs a constant number of requests whatever the number of
// pools: the page of pools and every queue in one round (status and runs in
// use come with the pool objects); when the filter names pools (at most
// maxDetailPools), their workers and queues by name in that same round and
// their queues' health in a second one.
func getWorkPools(ctx context.Context, c *call, in workPoolsInput) (*workPoolsResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	// Check the filter before any request goes out.
	if err := c.checkFilter("WorkPoolFilter", in.Filter); err != nil {
		return nil, err
	}
	names := prefect.Selected(in.Filter, "name")
	detail := len(names) > 0 && len(names) <= maxDetailPools

	var (
		pools      []prefect.WorkPoolDetail
		more       bool
		allQueues  []prefect.WorkQueue
		workersOf  = make([][]prefect.Worker, len(names))
		queuesOf   = make([][]prefect.WorkQueue, len(names))
		jobs       []func(context.Context) error
		byPoolName = func(name string, path string, body prefect.Body, into any) func(context.Context) error {
			return func(ctx context.Context) error {
				err := c.target.Client.Post(ctx, prefect.Path(path, name), body, into)
				if prefect.IsNotFound(err) {
					return nil // no such pool: it is not in the page either
				}
				return err
			}
		}
	)
	jobs = append(jobs, func(ctx context.Context) error {
		var err error
		pools, more, err = fetchPage[prefect.WorkPoolDetail](ctx, c, listQuery{
			path: "/work_pools/filter", key: "work_pools", component: "WorkPoolFilter",
			filter: in.Filter, limit: limit, offset: offset,
		})
		return err
	})
	if detail {
		for i, name := range names {
			jobs = append(jobs,
				byPoolName(name, "/work_pools/%s/workers/filter", prefect.Body{"limit": maxWorkersRead}, &workersOf[i]),
				byPoolName(name, "/work_pools/%s/queues/filter", prefect.Body{"limit": maxLimitRows}, &queuesOf[i]))
		}
	} else {
		// Every pool's queues in one request (each names its pool).
		jobs = append(jobs, func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/work_queues/filter", prefect.Body{"limit": maxLimitRows}, &allQueues)
		})
	}
	if err := parallel(ctx, poolListConcurrency, jobs...); err != nil {
		return nil, err
	}

	var notes []string
	queues := make([][]prefect.WorkQueue, len(pools))
	rows := make([]workPoolRow, len(pools))
	for i := range pools {
		p := &pools[i]
		var workers []prefect.Worker
		if j := slices.Index(names, p.Name); detail && j >= 0 {
			queues[i], workers = queuesOf[j], workersOf[j]
		} else {
			for _, q := range allQueues {
				if q.WorkPoolName == p.Name || (q.WorkPoolName == "" && q.WorkPoolID == p.ID) {
					queues[i] = append(queues[i], q)
				}
			}
			// As a pool's own queue list: by priority.
			slices.SortStableFunc(queues[i], func(a, b prefect.WorkQueue) int { return a.Priority - b.Priority })
		}
		rows[i] = c.newWorkPoolRow(p, queues[i], workers, detail)
	}
	if len(allQueues) >= maxLimitRows {
		notes = append(notes, fmt.Sprintf("more than %d queues exist: queues are shown for the first %d by name only; select pools by name to see all of theirs", maxLimitRows, maxLimitRows))
	}
	if !detail {
		notes = append(notes, "workers are not listed here; select pools by name (filter name any_, up to 5) for their workers and queue health")
	}
	if detail {
		if err := c.addQueueHealth(ctx, rows, queues); err != nil {
			return nil, err
		}
		for i := range pools {
			rows[i].JobTemplate = summarizeJobTemplate(pools[i].BaseJobTemplate)
		}
	}
	return &workPoolsResult{rows, notes, newPage(len(rows), offset, more)}, nil
}

// newWorkPoolRow summarizes a pool; workers are given in detail mode only.
func (c *call) newWorkPoolRow(p *prefect.WorkPoolDetail, queues []prefect.WorkQueue, workers []prefect.Worker, detail bool) workPoolRow {
	// The list stays compact (50 pools within 12 KB); detail says more.
	row := workPoolRow{
		Name: p.Name, Type: p.Type, Status: p.Status, Paused: p.IsPaused, Description: clip(p.Description, 80),
		ConcurrencyLimit: p.ConcurrencyLimit,
	}
	if detail {
		row.Description, row.UIURL = clip(p.Description, 200), c.uiURL(uiWorkPool, p.Name)
	}
	if p.ConcurrencyLimit != nil {
		row.RunsInUse = p.ActiveSlots
		if row.RunsInUse == nil {
			zero := 0
			row.RunsInUse = &zero
		}
	}
	for _, q := range queues {
		if !detail {
			row.QueueNames = append(row.QueueNames, queueBrief(q))
			continue
		}
		row.Queues = append(row.Queues, queueRow{
			Name: q.Name, Priority: q.Priority, ConcurrencyLimit: q.ConcurrencyLimit, Paused: q.IsPaused,
			Status: q.Status, LastPolled: tsp(q.LastPolled),
		})
	}
	push := p.NeedsNoWorker()
	if detail {
		row.Workers = summarizeWorkers(workers)
	}
	switch {
	case p.IsPaused:
		row.Notes = append(row.Notes, "pool is paused: its runs will not be submitted")
	case detail && len(workers) == 0 && !push:
		row.Notes = append(row.Notes, "no worker has registered: runs in this pool will not start")
	case detail && row.Workers.Online == 0 && !push:
		row.Notes = append(row.Notes, "no worker is online: runs in this pool will not start")
	case !detail && p.Status == "NOT_READY" && !push:
		// Prefect sets NOT_READY when no worker of the pool is online.
		row.Notes = append(row.Notes, "no worker is online (NOT_READY): runs in this pool will not start")
	}
	if p.ConcurrencyLimit != nil && *row.RunsInUse >= *p.ConcurrencyLimit {
		row.Notes = append(row.Notes, fmt.Sprintf("at its concurrency limit (%d/%d)", *row.RunsInUse, *p.ConcurrencyLimit))
	}
	return row
}

// queueBrief is a queue's name with its limit, and its status when not
// READY (PAUSED, or NOT_READY: not polled lately).
func queueBrief(q prefect.WorkQueue) string {
	var notes []string
	if q.Status != "" && q.Status != "READY" {
		notes = append(notes, q.Status)
	}
	if q.ConcurrencyLimit != nil {
		notes = append(notes, fmt.Sprintf("limit %d", *q.ConcurrencyLimit))
	}
	if len(notes) == 0 {
		return q.Name
	}
	return q.Name + " (" + strings.Join(notes, ", ") + ")"
}

// summarizeWorkers counts workers by status and lists the most recent.
func summarizeWorkers(workers []prefect.Worker) *workersSummary {
	s := &workersSummary{Truncated: len(workers) >= maxWorkersRead}
	for _, w := range workers {
		if w.Status == "ONLINE" {
			s.Online++
		} else {
			s.Offline++
		}
		if hb := tsp(w.LastHeartbeatTime); hb > s.LastHeartbeat {
			s.LastHeartbeat = hb
		}
	}
	// Prefect returns workers by last heartbeat, newest first; sort anyway
	// so "recent" means what it says.
	sorted := slices.Clone(workers)
	slices.SortStableFunc(sorted, func(a, b prefect.Worker) int {
		return strings.Compare(tsp(b.LastHeartbeatTime), tsp(a.LastHeartbeatTime))
	})
	for _, w := range sorted[:min(len(sorted), maxWorkersListed)] {
		s.Recent = append(s.Recent, workerRow{Name: w.Name, Status: w.Status, LastHeartbeat: tsp(w.LastHeartbeatTime)})
	}
	return s
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
