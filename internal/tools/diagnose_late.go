package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/diagnosis"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Bounds of the late/stuck diagnoses. Reads are a fixed set of filter
// calls plus the workers of one pool, whatever the number of pools involved.
const (
	maxDiagnosedRuns = 200
	// workerReadPools: pools whose workers are read (the first involved);
	// the others are judged by their status, which Prefect derives from
	// their workers' heartbeats (READY: a worker is online).
	workerReadPools    = 1
	maxLateGroups      = 12
	maxExamples        = 3
	defaultBeatSeconds = 30 // a worker's default heartbeat interval
	heartbeatMisses    = 3  // Prefect marks a worker offline after ~3 missed beats
)

// Causes diagnose_late_runs reports, in the order the chain is walked.
const (
	causePoolPaused       = "work_pool_paused"
	causeNoWorker         = "no_online_worker"
	causePoolLimit        = "work_pool_concurrency_limit_full"
	causeQueuePaused      = "work_queue_paused"
	causeQueueLimit       = "work_queue_concurrency_limit_full"
	causeDeploymentPaused = "deployment_paused"
	causeDeploymentLimit  = "deployment_concurrency_limit_full"
	causeGlobalLimit      = "global_concurrency_limit_full"
	causeQueueNotPolled   = "work_queue_not_polled"
	causeNoBlocker        = "no_blocker_found"
)

type diagnoseLateInput struct {
	DeploymentID string `json:"deployment_id,omitempty" jsonschema:"id or flow/deployment"`
	WorkPoolName string `json:"work_pool_name,omitempty"`
	Workspace
}

func diagnoseLateRunsTool() Definition {
	return define(Definition{
		Name: ToolDiagnoseLateRuns, Title: "Diagnose late runs", Group: GroupDiagnosis,
		Summary: "Why scheduled runs are not starting (Late / AwaitingConcurrencySlot): paused pool, no online worker, full pool/queue/deployment/global limit, paused queue or deployment; with a deployment, whether its schedule creates runs at all; tag limits holding task runs reported separately.",
	}, `Why runs are not starting: Late and AwaitingConcurrencySlot runs by deployment/pool/queue, each with its blocker (paused pool/queue/deployment, no online worker, a full pool/queue/deployment/global limit) and evidence. With deployment_id: its scheduling health. No argument: whole workspace.
Example: {"work_pool_name":"k8s-pool"}`,
		nil, diagnoseLateRuns)
}

type lateResult struct {
	Summary string `json:"summary"`
	Scope   string `json:"scope"`
	// LateRuns counts state Late only, like get_dashboard's late; runs
	// AwaitingConcurrencySlot are counted apart.
	LateRuns int `json:"late_runs"`
	Awaiting int `json:"awaiting_concurrency_slot"`
	// Scheduling answers "why are no new runs created" when a deployment
	// is in scope: nothing is Late when the scheduler creates no runs.
	Scheduling *diagnosis.Scheduling `json:"scheduling,omitempty"`
	Groups     []lateGroup           `json:"groups,omitempty"`
	TagHolds   []tagHold             `json:"tag_limits_holding_task_runs,omitempty"`
	RuledOut   []string              `json:"ruled_out,omitempty"`
	NextSteps  []string              `json:"next_steps,omitempty"`
	Truncated  bool                  `json:"truncated,omitempty"`
	Checked    *checkedTotal         `json:"checked,omitempty"`
}

type checkedTotal struct {
	ActiveRuns int `json:"active_runs_read"`
	Pools      int `json:"work_pools,omitempty"`
}

type lateGroup struct {
	Deployment   string   `json:"deployment,omitempty"`
	DeploymentID string   `json:"deployment_id,omitempty"`
	WorkPool     string   `json:"work_pool,omitempty"`
	WorkQueue    string   `json:"work_queue,omitempty"`
	Late         int      `json:"late"`
	Awaiting     int      `json:"awaiting_concurrency_slot,omitempty"`
	Oldest       string   `json:"oldest_expected_start,omitempty"`
	LateBy       string   `json:"late_by,omitempty"`
	Examples     []string `json:"runs,omitempty"`
	Cause        string   `json:"cause"`
	Explanation  string   `json:"explanation"`
	Evidence     []string `json:"evidence,omitempty"`
	AlsoBlocking []string `json:"also_blocking,omitempty"`
	NextSteps    []string `json:"next_steps,omitempty"`

	runs []prefect.FlowRun
}

type tagHold struct {
	Tag     string   `json:"tag"`
	Limit   string   `json:"limit"`
	FlowRun string   `json:"flow_run"`
	RunID   string   `json:"flow_run_id"`
	Pending []string `json:"pending_task_runs"`
	Note    string   `json:"note,omitempty"`
}

// poolHealth is a pool with its workers, read for the late and stuck checks.
type poolHealth struct {
	name    string
	pool    *prefect.WorkPool
	workers []prefect.Worker
	online  []prefect.Worker
	window  time.Duration
	last    *prefect.Worker // most recent heartbeat
	skipped bool            // beyond workerReadPools: status only
}

// pushPool reports pools that need no worker (push and managed pools).
func (p *poolHealth) pushPool() bool {
	return p.pool != nil && (strings.HasSuffix(p.pool.Type, ":push") || p.pool.Type == "prefect:managed")
}

// evaluate marks the online workers: a heartbeat within heartbeatMisses
// intervals, or an ONLINE status when no heartbeat time is known.
func (p *poolHealth) evaluate(now time.Time) {
	p.window = heartbeatMisses * defaultBeatSeconds * time.Second
	for i := range p.workers {
		w := &p.workers[i]
		interval := defaultBeatSeconds
		if w.HeartbeatIntervalSeconds != nil && *w.HeartbeatIntervalSeconds > 0 {
			interval = *w.HeartbeatIntervalSeconds
		}
		window := time.Duration(heartbeatMisses*interval) * time.Second
		if i == 0 || window > p.window {
			p.window = window
		}
		if w.LastHeartbeatTime != nil && (p.last == nil || w.LastHeartbeatTime.After(*p.last.LastHeartbeatTime)) {
			p.last = w
		}
		if (w.LastHeartbeatTime != nil && now.Sub(*w.LastHeartbeatTime) <= window) || (w.LastHeartbeatTime == nil && w.Status == "ONLINE") {
			p.online = append(p.online, *w)
		}
	}
}

// hasOnlineWorker is false when no worker heartbeats; with skipped worker
// reads the pool's own status decides.
func (p *poolHealth) hasOnlineWorker() bool {
	if p.skipped {
		return p.pool != nil && p.pool.Status == "READY"
	}
	return len(p.online) > 0
}

func (p *poolHealth) workerEvidence(now time.Time) string {
	status := "unknown"
	if p.pool != nil {
		status = p.pool.Status
	}
	switch {
	case p.skipped:
		return fmt.Sprintf("work pool %s status %s (from the pool; READY means a worker is online)", p.name, status)
	case len(p.workers) == 0:
		return fmt.Sprintf("work pool %s status %s; no worker has ever registered with it", p.name, status)
	case len(p.online) > 0:
		w := p.online[0]
		return fmt.Sprintf("work pool %s status %s; %d worker(s) online, e.g. %q last heartbeat %s", p.name, status, len(p.online), w.Name, tsp(w.LastHeartbeatTime))
	case p.last != nil:
		return fmt.Sprintf("work pool %s status %s; %d worker(s), none online: last heartbeat from %q at %s (%s ago; heartbeat window %s)",
			p.name, status, len(p.workers), p.last.Name, tsp(p.last.LastHeartbeatTime), dur(now.Sub(*p.last.LastHeartbeatTime).Seconds()), p.window)
	}
	return fmt.Sprintf("work pool %s status %s; %d worker(s), none online", p.name, status, len(p.workers))
}

// poolJobs reads the named pools (one request) and their workers (one
// request for the first pool only).
func (c *call) poolJobs(names []string, into map[string]*poolHealth) []func(context.Context) error {
	if len(names) == 0 {
		return nil
	}
	var pools []prefect.WorkPool
	for i, n := range names {
		into[n] = &poolHealth{name: n, skipped: i >= workerReadPools}
	}
	jobs := []func(context.Context) error{func(ctx context.Context) error {
		if err := c.target.Client.Post(ctx, "/work_pools/filter", map[string]any{
			"work_pools": map[string]any{"name": map[string]any{"any_": names}}, "limit": len(names),
		}, &pools); err != nil {
			return err
		}
		for i := range pools {
			if h := into[pools[i].Name]; h != nil {
				h.pool = &pools[i]
			}
		}
		return nil
	}}
	for i, n := range names {
		if i >= workerReadPools {
			break
		}
		h := into[n]
		jobs = append(jobs, func(ctx context.Context) error {
			err := c.target.Client.Post(ctx, prefect.Path("/work_pools/%s/workers/filter", n), map[string]any{"limit": 200}, &h.workers)
			if prefect.IsNotFound(err) {
				return nil
			}
			return err
		})
	}
	return jobs
}

// activeRun reports a run that holds a slot: Pending, Running or Cancelling.
func activeRun(r prefect.FlowRun) bool {
	return r.StateType == "RUNNING" || r.StateType == "PENDING" || r.StateType == "CANCELLING"
}

func runNamesOf(runs []prefect.FlowRun, n int) string {
	var names []string
	for i, r := range runs {
		if i == n {
			names = append(names, fmt.Sprintf("+%d more", len(runs)-n))
			break
		}
		names = append(names, fmt.Sprintf("%s (%s, %s)", r.Name, r.ID, stateLabel(r.StateType, r.StateName)))
	}
	return strings.Join(names, ", ")
}

func diagnoseLateRuns(ctx context.Context, c *call, in diagnoseLateInput) (any, error) {
	scope := "the whole workspace"
	lateFilter := map[string]any{"state": map[string]any{
		"type": map[string]any{"any_": []string{"SCHEDULED"}},
		"name": map[string]any{"any_": []string{"Late", "AwaitingConcurrencySlot"}},
	}}
	activeBody := map[string]any{
		"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"RUNNING", "PENDING", "CANCELLING"}}}},
		"sort":      "START_TIME_ASC", "limit": maxDiagnosedRuns,
	}
	lateBody := map[string]any{"flow_runs": lateFilter, "sort": "EXPECTED_START_TIME_ASC", "limit": maxDiagnosedRuns}
	if in.DeploymentID != "" {
		id, err := c.resolveDeployment(ctx, "deployment_id", in.DeploymentID)
		if err != nil {
			return nil, err
		}
		in.DeploymentID = id
		lateFilter["deployment_id"] = map[string]any{"any_": []string{id}}
		scope = "deployment " + id
	}
	if pool := strings.TrimSpace(in.WorkPoolName); pool != "" {
		in.WorkPoolName = pool
		poolFilter := map[string]any{"name": map[string]any{"any_": []string{pool}}}
		lateBody["work_pools"], activeBody["work_pools"] = poolFilter, poolFilter
		if in.DeploymentID != "" {
			scope += " in work pool " + pool
		} else {
			scope = "work pool " + pool
		}
	}
	now := c.deps.now()
	var late, active []prefect.FlowRun
	var limits []prefect.GlobalConcurrencyLimit
	var pending []prefect.TaskRun
	var sched *diagnosis.SchedulingFacts
	jobs := []func(context.Context) error{
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/flow_runs/filter", lateBody, &late)
		},
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/flow_runs/filter", activeBody, &active)
		},
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/v2/concurrency_limits/filter", map[string]any{"limit": 200}, &limits)
		},
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/task_runs/filter", map[string]any{
				"task_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"PENDING"}}}, "tags": map[string]any{"is_null_": false}},
				"flow_runs": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"RUNNING"}}}},
				"sort":      "EXPECTED_START_TIME_ASC", "limit": maxDiagnosedRuns,
			}, &pending)
		}}
	if in.DeploymentID != "" {
		sched = &diagnosis.SchedulingFacts{Now: now}
		jobs = append(jobs, diagnosis.SchedulingJobs(c.target.Client, in.DeploymentID, sched)...)
	}
	err := parallel(ctx, diagnosisParallel, jobs...)
	if prefect.IsNotFound(err) && sched != nil {
		return nil, &notFound{msg: "deployment " + in.DeploymentID + " was not found; list deployments with " + ToolGetDeployments}
	}
	if err != nil {
		return nil, err
	}
	res := lateResult{Scope: scope}
	if sched != nil {
		s := diagnosis.DiagnoseScheduling(*sched)
		res.Scheduling = &s
	}
	// Prefect serves at most 200 rows: a full page means there may be more.
	res.Truncated = len(late) == maxDiagnosedRuns
	for _, r := range late {
		if r.StateName == "AwaitingConcurrencySlot" {
			res.Awaiting++
		} else {
			res.LateRuns++
		}
	}
	limitByName := map[string]prefect.GlobalConcurrencyLimit{}
	for _, l := range limits {
		limitByName[l.Name] = l
	}
	res.TagHolds = tagHolds(pending, active, limitByName, in.DeploymentID)

	if len(late) == 0 {
		// The deployment's existence was read with its scheduling.
		if err := c.checkScopeExists(ctx, diagnoseLateInput{WorkPoolName: in.WorkPoolName}); err != nil {
			return nil, err
		}
		res.Summary = "No flow runs are Late or AwaitingConcurrencySlot in " + scope + "; nothing is waiting to start."
		if s := res.Scheduling; s != nil {
			res.Summary += " Scheduling of deployment " + s.Deployment + ": " + s.Conclusion + "."
			res.NextSteps = diagnosis.SchedulingSteps(*s)
		}
		if len(res.TagHolds) > 0 {
			res.Summary += fmt.Sprintf(" Separately, task runs inside running flows wait on %d full tag concurrency limit(s) (see tag_limits_holding_task_runs).", len(res.TagHolds))
			res.NextSteps = []string{"Tag limits only hold task runs: wait for the slot holders or raise the limit (prefect concurrency-limit create <tag> <n>)."}
		}
		return res, nil
	}

	// Phase 2: the deployments, pools, queues and workers the late runs need.
	var depIDs, queueIDs, poolNames []string
	for _, r := range late {
		addUnique(&depIDs, r.DeploymentID)
		addUnique(&queueIDs, r.WorkQueueID)
		addUnique(&poolNames, r.WorkPoolName)
	}
	var deps []prefect.Deployment
	var queues []prefect.WorkQueue
	pools := map[string]*poolHealth{}
	jobs = c.poolJobs(poolNames, pools)
	if len(depIDs) > 0 {
		jobs = append(jobs, func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/deployments/filter", map[string]any{
				"deployments": map[string]any{"id": map[string]any{"any_": depIDs}}, "limit": len(depIDs),
			}, &deps)
		})
	}
	if len(queueIDs) > 0 {
		jobs = append(jobs, func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/work_queues/filter", map[string]any{
				"work_queues": map[string]any{"id": map[string]any{"any_": queueIDs}}, "limit": len(queueIDs),
			}, &queues)
		})
	}
	if err := parallel(ctx, diagnosisParallel, jobs...); err != nil {
		return nil, err
	}
	for _, p := range pools {
		p.evaluate(now)
	}
	lc := lateContext{now: now, active: active, limits: limitByName, pools: pools,
		deployments: map[string]prefect.Deployment{}, queues: map[string]prefect.WorkQueue{}}
	for _, d := range deps {
		lc.deployments[d.ID] = d
	}
	for _, q := range queues {
		lc.queues[q.ID] = q
	}
	res.Groups = groupLateRuns(late)
	if len(res.Groups) > maxLateGroups {
		res.Groups, res.Truncated = res.Groups[:maxLateGroups], true
	}
	for i := range res.Groups {
		lc.diagnose(&res.Groups[i])
	}
	res.RuledOut = lc.ruledOut(res.Groups)
	res.Summary = lateSummary(res.Groups, res.LateRuns, res.Awaiting)
	res.Checked = &checkedTotal{ActiveRuns: len(active), Pools: len(pools)}
	return fitLate(res), nil
}

// fitLate keeps a result under diagnosisBudget: fewer examples and
// secondary blockers first, then the smallest groups.
func fitLate(res lateResult) lateResult {
	size := func() int { b, _ := json.Marshal(res); return len(b) }
	for i := range res.Groups {
		if size() <= diagnosisBudget {
			return res
		}
		g := &res.Groups[i]
		if len(g.Examples) > 1 {
			g.Examples = g.Examples[:1]
		}
		g.AlsoBlocking = nil
	}
	for size() > diagnosisBudget && len(res.Groups) > 1 {
		res.Groups, res.Truncated = res.Groups[:len(res.Groups)-1], true
	}
	return res
}

func addUnique(list *[]string, v string) {
	if v != "" && !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

// checkScopeExists turns an empty answer for an unknown deployment or pool
// into not-found instead of a misleading "nothing is late".
func (c *call) checkScopeExists(ctx context.Context, in diagnoseLateInput) error {
	if in.DeploymentID != "" {
		err := c.target.Client.Get(ctx, prefect.Path("/deployments/%s", in.DeploymentID), nil, nil)
		if prefect.IsNotFound(err) {
			return &notFound{msg: "deployment " + in.DeploymentID + " was not found; list deployments with " + ToolGetDeployments}
		}
		if err != nil {
			return err
		}
	}
	if in.WorkPoolName != "" {
		if err := pathName("work pool", in.WorkPoolName, poolNameBanned, ToolGetWorkPools); err != nil {
			return err
		}
		err := c.target.Client.Get(ctx, prefect.Path("/work_pools/%s", in.WorkPoolName), nil, nil)
		if prefect.IsNotFound(err) {
			return &notFound{msg: "work pool " + strconv.Quote(clip(in.WorkPoolName, 80)) + " was not found; list pools with " + ToolGetWorkPools}
		}
		return err
	}
	return nil
}

func groupLateRuns(late []prefect.FlowRun) []lateGroup {
	var groups []lateGroup
	index := map[string]int{}
	for _, r := range late {
		key := r.DeploymentID + "|" + r.WorkPoolName + "|" + r.WorkQueueID
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, lateGroup{DeploymentID: r.DeploymentID, WorkPool: r.WorkPoolName, WorkQueue: r.WorkQueueName})
		}
		g := &groups[i]
		g.runs = append(g.runs, r)
		if r.StateName == "AwaitingConcurrencySlot" {
			g.Awaiting++
		} else {
			g.Late++
		}
	}
	sort.SliceStable(groups, func(i, j int) bool { return len(groups[i].runs) > len(groups[j].runs) })
	return groups
}

// lateContext holds what the chain walk looks at.
type lateContext struct {
	now         time.Time
	active      []prefect.FlowRun
	limits      map[string]prefect.GlobalConcurrencyLimit
	pools       map[string]*poolHealth
	deployments map[string]prefect.Deployment
	queues      map[string]prefect.WorkQueue
}

// blocker is one link of the chain that stops a group's runs.
type blocker struct {
	cause, explanation string
	evidence           []string
	next               []string
}

func (lc *lateContext) diagnose(g *lateGroup) {
	oldest := g.runs[0]
	for _, r := range g.runs {
		if r.ExpectedStartTime != nil && (oldest.ExpectedStartTime == nil || r.ExpectedStartTime.Before(*oldest.ExpectedStartTime)) {
			oldest = r
		}
	}
	if oldest.ExpectedStartTime != nil {
		g.Oldest = ts(*oldest.ExpectedStartTime)
		g.LateBy = dur(lc.now.Sub(*oldest.ExpectedStartTime).Seconds())
	}
	for i, r := range g.runs {
		if i == maxExamples {
			g.Examples = append(g.Examples, fmt.Sprintf("+%d more", len(g.runs)-maxExamples))
			break
		}
		g.Examples = append(g.Examples, fmt.Sprintf("%s (%s, %s)", r.Name, r.ID, stateLabel(r.StateType, r.StateName)))
	}
	dep, hasDep := lc.deployments[g.DeploymentID]
	if hasDep {
		g.Deployment = dep.Name
	}
	blockers := lc.chain(g, dep, hasDep)
	if len(blockers) == 0 {
		g.Cause = causeNoBlocker
		g.Explanation = "Nothing in the chain blocks these runs: the pool has an online worker, nothing is paused and no limit is full. They should start at the worker's next poll."
		g.NextSteps = []string{"If they stay Late, read the worker's own logs: it may be failing to submit them (bad image, missing credentials)."}
		return
	}
	first := blockers[0]
	g.Cause, g.Explanation, g.Evidence, g.NextSteps = first.cause, first.explanation, first.evidence, first.next
	for _, b := range blockers[1:] {
		g.AlsoBlocking = append(g.AlsoBlocking, b.cause+": "+b.explanation)
	}
}

// chain walks pool, worker, pool limit, queue, queue limit, deployment,
// deployment limit and bound global limit, and returns every blocker found,
// first one first.
func (lc *lateContext) chain(g *lateGroup, dep prefect.Deployment, hasDep bool) []blocker {
	var out []blocker
	pool := lc.pools[g.WorkPool]
	if pool != nil && pool.pool != nil {
		p := pool.pool
		if p.IsPaused || p.Status == "PAUSED" {
			out = append(out, blocker{causePoolPaused, fmt.Sprintf("Work pool %s is paused, so no worker is handed its runs.", p.Name),
				[]string{fmt.Sprintf("work pool %s (%s) is_paused=true, status %s", p.Name, p.ID, p.Status)},
				[]string{"Resume the pool: prefect work-pool resume " + p.Name}})
		}
		if !pool.pushPool() && !pool.hasOnlineWorker() {
			out = append(out, blocker{causeNoWorker, fmt.Sprintf("No worker is polling work pool %s (status %s), so nothing picks up its runs.", p.Name, p.Status),
				[]string{pool.workerEvidence(lc.now)},
				[]string{"Start a worker: prefect worker start --pool " + p.Name, "If a worker should be running, check its host or pod and why it stopped heartbeating."}})
		}
		if p.ConcurrencyLimit != nil {
			holders := lc.activeWhere(func(r prefect.FlowRun) bool { return r.WorkPoolName == p.Name })
			used := len(holders)
			if p.ActiveSlots != nil && *p.ActiveSlots > used {
				used = *p.ActiveSlots
			}
			if used >= *p.ConcurrencyLimit {
				out = append(out, blocker{causePoolLimit, fmt.Sprintf("Work pool %s is at its concurrency limit (%d/%d runs Pending or Running).", p.Name, used, *p.ConcurrencyLimit),
					[]string{fmt.Sprintf("work pool %s concurrency_limit %d, %d run(s) in it: %s", p.Name, *p.ConcurrencyLimit, len(holders), runNamesOf(holders, maxExamples)),
						pool.workerEvidence(lc.now)},
					[]string{"Wait for the running runs, check they are not stuck (" + ToolDiagnoseStuckRuns + "), or raise the limit: prefect work-pool set-concurrency-limit " + p.Name + " <n>"}})
			}
		}
	}
	if q, ok := lc.queues[g.runs[0].WorkQueueID]; ok {
		if q.IsPaused || q.Status == "PAUSED" {
			out = append(out, blocker{causeQueuePaused, fmt.Sprintf("Work queue %s of pool %s is paused.", q.Name, q.WorkPoolName),
				[]string{fmt.Sprintf("work queue %s (%s) is_paused=true, status %s", q.Name, q.ID, q.Status)},
				[]string{"Resume the queue: prefect work-queue resume " + q.Name + " --pool " + q.WorkPoolName}})
		}
		if q.ConcurrencyLimit != nil {
			holders := lc.activeWhere(func(r prefect.FlowRun) bool { return r.WorkQueueID == q.ID })
			if len(holders) >= *q.ConcurrencyLimit {
				out = append(out, blocker{causeQueueLimit, fmt.Sprintf("Work queue %s is at its concurrency limit (%d/%d runs Pending or Running).", q.Name, len(holders), *q.ConcurrencyLimit),
					[]string{fmt.Sprintf("work queue %s (%s) concurrency_limit %d, in it: %s", q.Name, q.ID, *q.ConcurrencyLimit, runNamesOf(holders, maxExamples))},
					[]string{"Wait for the running runs, check they are not stuck (" + ToolDiagnoseStuckRuns + "), or raise the limit: prefect work-queue set-concurrency-limit " + q.Name + " <n> --pool " + q.WorkPoolName}})
			}
		}
		if pool != nil && pool.hasOnlineWorker() && !q.IsPaused && (q.LastPolled == nil || lc.now.Sub(*q.LastPolled) > pool.window) {
			polled := "never"
			if q.LastPolled != nil {
				polled = ts(*q.LastPolled)
			}
			out = append(out, blocker{causeQueueNotPolled, fmt.Sprintf("Workers are online in pool %s but none polls queue %s.", q.WorkPoolName, q.Name),
				[]string{fmt.Sprintf("work queue %s last polled %s, status %s", q.Name, polled, q.Status)},
				[]string{"Start a worker for this queue: prefect worker start --pool " + q.WorkPoolName + " --work-queue " + q.Name + " (or drop --work-queue from the running worker)."}})
		}
	}
	if hasDep {
		if dep.Paused {
			out = append(out, blocker{causeDeploymentPaused, fmt.Sprintf("Deployment %s is paused.", dep.Name),
				[]string{fmt.Sprintf("deployment %s (%s) paused=true", dep.Name, dep.ID)},
				[]string{"Resume the deployment in the UI or with prefect deployment resume <flow-name>/" + dep.Name}})
		}
		if b, ok := lc.deploymentLimit(g, dep); ok {
			out = append(out, b)
		}
	}
	// A queue no worker polls only matters when nothing else blocks.
	real := slices.DeleteFunc(slices.Clone(out), func(b blocker) bool { return b.cause == causeQueueNotPolled })
	if len(real) > 0 {
		return real
	}
	return out
}

func (lc *lateContext) activeWhere(pred func(prefect.FlowRun) bool) []prefect.FlowRun {
	var out []prefect.FlowRun
	for _, r := range lc.active {
		if activeRun(r) && pred(r) {
			out = append(out, r)
		}
	}
	return out
}

// deploymentLimit checks the deployment's own limit (a v2 limit named
// deployment:<id>) and a shared global limit the deployment is bound to.
func (lc *lateContext) deploymentLimit(g *lateGroup, dep prefect.Deployment) (blocker, bool) {
	holders := lc.activeWhere(func(r prefect.FlowRun) bool { return r.DeploymentID == dep.ID })
	strategy := "ENQUEUE"
	if dep.ConcurrencyOptions != nil && dep.ConcurrencyOptions.CollisionStrategy != "" {
		strategy = dep.ConcurrencyOptions.CollisionStrategy
	}
	gcl := dep.GlobalConcurrencyLimit
	if gcl != nil {
		if fresh, ok := lc.limits[gcl.Name]; ok {
			gcl = &fresh
		}
	}
	own := gcl != nil && gcl.Name == "deployment:"+dep.ID
	switch {
	case gcl != nil && gcl.Active && gcl.ActiveSlots >= gcl.Limit:
		ev := []string{
			fmt.Sprintf("v2 limit %s (%s): %d/%d slots in use", gcl.Name, gcl.ID, gcl.ActiveSlots, gcl.Limit),
			fmt.Sprintf("runs of deployment %s holding a slot: %s", dep.Name, firstNonEmpty(runNamesOf(holders, maxExamples), "none Pending/Running (slots may be held by crashed runs until their lease expires)")),
			"collision strategy " + strategy,
		}
		if g.Awaiting > 0 {
			ev = append(ev, fmt.Sprintf("%d run(s) in AwaitingConcurrencySlot: the limit refused them", g.Awaiting))
		}
		if own {
			return blocker{causeDeploymentLimit, fmt.Sprintf("Deployment %s is at its concurrency limit (%d/%d).", dep.Name, gcl.ActiveSlots, gcl.Limit), ev,
				[]string{"Wait for the running run(s) to finish and check they are not stuck (" + ToolDiagnoseStuckRuns + "), or raise the deployment's concurrency_limit."}}, true
		}
		return blocker{causeGlobalLimit, fmt.Sprintf("Deployment %s is bound to global concurrency limit %s, which is at capacity (%d/%d).", dep.Name, gcl.Name, gcl.ActiveSlots, gcl.Limit), ev,
			[]string{"Find what holds the slots of " + gcl.Name + " (" + ToolGetConcurrencyLimits + ") or raise it: prefect gcl update " + gcl.Name + " --limit <n>"}}, true
	case gcl == nil && dep.ConcurrencyLimit != nil && len(holders) >= *dep.ConcurrencyLimit:
		return blocker{causeDeploymentLimit, fmt.Sprintf("Deployment %s is at its concurrency limit (%d/%d).", dep.Name, len(holders), *dep.ConcurrencyLimit),
			[]string{fmt.Sprintf("deployment concurrency_limit %d; runs holding it: %s", *dep.ConcurrencyLimit, runNamesOf(holders, maxExamples)), "collision strategy " + strategy},
			[]string{"Wait for the running run(s) to finish and check they are not stuck (" + ToolDiagnoseStuckRuns + "), or raise the deployment's concurrency_limit."}}, true
	case g.Awaiting > 0:
		limit := "its limit"
		if gcl != nil {
			limit = fmt.Sprintf("%s (now %d/%d)", gcl.Name, gcl.ActiveSlots, gcl.Limit)
		}
		return blocker{causeDeploymentLimit, fmt.Sprintf("Deployment %s's concurrency limit refused %d run(s) (AwaitingConcurrencySlot); a slot is free again, so they start on their next retry.", dep.Name, g.Awaiting),
			[]string{"limit " + limit, "collision strategy " + strategy},
			[]string{"Wait for the next scheduling attempt; if runs keep waiting, look for runs holding the deployment's slots."}}, true
	}
	return blocker{}, false
}

// ruledOut names full limits that are not why runs are late, so nobody
// blames them: tag limits (they hold task runs) and global limits no late
// deployment is bound to.
func (lc *lateContext) ruledOut(groups []lateGroup) []string {
	bound := map[string]bool{}
	for _, d := range lc.deployments {
		if d.GlobalConcurrencyLimit != nil {
			bound[d.GlobalConcurrencyLimit.Name] = true
		}
	}
	var names []string
	for n := range lc.limits {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		l := lc.limits[n]
		if !l.Active || l.ActiveSlots < l.Limit || bound[n] || strings.HasPrefix(n, "deployment:") {
			continue
		}
		if strings.HasPrefix(n, "tag:") {
			out = append(out, fmt.Sprintf("tag limit %s is full (%d/%d) but tag limits hold task runs inside running flows, not flow-run starts", strings.TrimPrefix(n, "tag:"), l.ActiveSlots, l.Limit))
			continue
		}
		out = append(out, fmt.Sprintf("global limit %s is full (%d/%d) but no late run's deployment is bound to it", n, l.ActiveSlots, l.Limit))
	}
	return out
}

func lateSummary(groups []lateGroup, late, awaiting int) string {
	var parts []string
	for i, g := range groups {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("%d more group(s)", len(groups)-4))
			break
		}
		var what []string
		if g.Late > 0 {
			what = append(what, fmt.Sprintf("%d Late", g.Late))
		}
		if g.Awaiting > 0 {
			what = append(what, fmt.Sprintf("%d AwaitingConcurrencySlot", g.Awaiting))
		}
		where := firstNonEmpty(g.Deployment, g.DeploymentID, "no deployment")
		parts = append(parts, fmt.Sprintf("%s in %s: %s", strings.Join(what, " and "), where, strings.TrimSuffix(lowerFirst(g.Explanation), ".")))
	}
	return fmt.Sprintf("%d run(s) are not starting (%d Late, %d AwaitingConcurrencySlot) — %s.", late+awaiting, late, awaiting, strings.Join(parts, "; "))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// tagHolds lists Running flow runs whose Pending task runs carry a tag whose
// limit (v2 "tag:<tag>") is full.
func tagHolds(pending []prefect.TaskRun, active []prefect.FlowRun, limits map[string]prefect.GlobalConcurrencyLimit, deploymentID string) []tagHold {
	runs := map[string]prefect.FlowRun{}
	for _, r := range active {
		if r.StateType == "RUNNING" && (deploymentID == "" || r.DeploymentID == deploymentID) {
			runs[r.ID] = r
		}
	}
	var out []tagHold
	index := map[string]int{}
	for _, t := range pending {
		fr, ok := runs[t.FlowRunID]
		if !ok {
			continue
		}
		for _, tag := range t.Tags {
			l, ok := limits["tag:"+tag]
			if !ok || !l.Active || l.ActiveSlots < l.Limit {
				continue
			}
			key := tag + "|" + fr.ID
			i, seen := index[key]
			if !seen {
				if len(out) == maxLateGroups {
					continue
				}
				i = len(out)
				index[key] = i
				out = append(out, tagHold{Tag: tag, Limit: fmt.Sprintf("%d/%d slots in use", l.ActiveSlots, l.Limit), FlowRun: fr.Name, RunID: fr.ID,
					Note: "the flow run is Running; only these task runs wait, flow-run starts are not affected"})
			}
			if len(out[i].Pending) < maxExamples {
				out[i].Pending = append(out[i].Pending, t.Name+" ("+t.ID+")")
			}
		}
	}
	return out
}
