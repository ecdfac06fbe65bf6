package diagnosis

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/shape"
	tn "github.com/prefect-mcp/prefect-mcp/internal/toolname"
)

// Causes diagnose_late_runs gives a group of waiting runs, one per blocker
// of the chain from pool to global limit.
const (
	CausePoolPaused       = "work_pool_paused"
	CauseNoWorker         = "no_online_worker"
	CausePoolLimit        = "work_pool_concurrency_limit_full"
	CauseQueuePaused      = "work_queue_paused"
	CauseQueueLimit       = "work_queue_concurrency_limit_full"
	CauseDeploymentPaused = "deployment_paused"
	CauseDeploymentLimit  = "deployment_concurrency_limit_full"
	CauseGlobalLimit      = "global_concurrency_limit_full"
	CauseQueueNotPolled   = "work_queue_not_polled"
	CauseNoBlocker        = "no_blocker_found"
	maxLateGroups         = 12
	maxExamples           = 3
)

// LateDiagnosis is diagnose_late_runs' answer.
type LateDiagnosis struct {
	Summary string `json:"summary"`
	Scope   string `json:"scope"`
	// LateRuns counts state Late only, like get_dashboard's late; runs
	// AwaitingConcurrencySlot are counted apart.
	LateRuns int `json:"late_runs"`
	Awaiting int `json:"awaiting_concurrency_slot"`
	// Scheduling answers "why are no new runs created" when a deployment
	// is in scope: nothing is Late when the scheduler creates no runs.
	Scheduling *Scheduling  `json:"scheduling,omitempty"`
	Groups     []LateGroup  `json:"groups,omitempty"`
	TagHolds   []TagHold    `json:"tag_limits_holding_task_runs,omitempty"`
	RuledOut   []string     `json:"ruled_out,omitempty"`
	NextSteps  []string     `json:"next_steps,omitempty"`
	Truncated  bool         `json:"truncated,omitempty"`
	Checked    *LateChecked `json:"checked,omitempty"`
}

// LateChecked says how much was read.
type LateChecked struct {
	ActiveRuns int `json:"active_runs_read"`
	Pools      int `json:"work_pools,omitempty"`
}

// LateGroup is the waiting runs of one deployment, pool and queue, with
// the first blocker found and the others.
type LateGroup struct {
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

// TagHold is a Running flow run whose Pending task runs wait on a full tag
// limit: reported apart, since it does not stop flow runs from starting.
type TagHold struct {
	Tag     string   `json:"tag"`
	Limit   string   `json:"limit"`
	FlowRun string   `json:"flow_run"`
	RunID   string   `json:"flow_run_id"`
	Pending []string `json:"pending_task_runs"`
	Note    string   `json:"note,omitempty"`
}

// blocker is one link of the chain that stops a group's runs.
type blocker struct {
	cause, explanation string
	evidence           []string
	next               []string
}

// lateView is the late facts judged at their time.
type lateView struct {
	f      *LateFacts
	pools  map[string]*poolHealth
	limits map[string]prefect.GlobalConcurrencyLimit
}

// lateRule finds one blocker of a group, or none. The rules are tried in
// chain order (pool, worker, pool limit, queue, queue limit, queue poll,
// deployment, deployment or global limit); every blocker found is reported,
// the first as the cause.
type lateRule func(v *lateView, g *LateGroup, dep *prefect.Deployment) (blocker, bool)

var lateRules = []lateRule{
	rulePoolPaused, ruleNoWorker, rulePoolLimit,
	ruleQueuePaused, ruleQueueLimit, ruleQueueNotPolled,
	ruleDeploymentPaused, ruleDeploymentLimit,
}

// DiagnoseLate groups the waiting runs by deployment, pool and queue and
// walks each group's chain; tag limits holding task runs are reported
// apart, and full limits that block nothing are ruled out.
func DiagnoseLate(f LateFacts) LateDiagnosis {
	v := &lateView{f: &f, pools: map[string]*poolHealth{}, limits: map[string]prefect.GlobalConcurrencyLimit{}}
	for n, p := range f.Pools {
		v.pools[n] = judgePool(p, f.Now)
	}
	for _, l := range f.Limits {
		v.limits[l.Name] = l
	}
	d := LateDiagnosis{Scope: f.Scope.String(), Truncated: len(f.Late) == MaxScanned} // a full page: there may be more
	if f.Scheduling != nil {
		s := DiagnoseScheduling(*f.Scheduling)
		d.Scheduling = &s
	}
	for _, r := range f.Late {
		if r.StateName == "AwaitingConcurrencySlot" {
			d.Awaiting++
		} else {
			d.LateRuns++
		}
	}
	d.TagHolds = tagHolds(f.PendingTasks, f.Active, v.limits, f.Scope.DeploymentID)
	if len(f.Late) == 0 {
		d.Summary = "No flow runs are Late or AwaitingConcurrencySlot in " + d.Scope + "; nothing is waiting to start."
		if s := d.Scheduling; s != nil {
			d.Summary += " Scheduling of deployment " + s.Deployment + ": " + s.Conclusion + "."
			d.NextSteps = SchedulingSteps(*s)
		}
		if len(d.TagHolds) > 0 {
			d.Summary += fmt.Sprintf(" Separately, task runs inside running flows wait on %d full tag concurrency limit(s) (see tag_limits_holding_task_runs).", len(d.TagHolds))
			d.NextSteps = append(d.NextSteps, "Tag limits only hold task runs: wait for the slot holders or raise the limit (prefect concurrency-limit create <tag> <n>).")
		}
		return d
	}
	d.Groups = groupLateRuns(f.Late)
	if len(d.Groups) > maxLateGroups {
		d.Groups, d.Truncated = d.Groups[:maxLateGroups], true
	}
	for i := range d.Groups {
		v.diagnose(&d.Groups[i])
	}
	d.RuledOut = v.ruledOut()
	d.Summary = lateSummary(d.Groups, d.LateRuns, d.Awaiting)
	d.Checked = &LateChecked{ActiveRuns: len(f.Active), Pools: len(f.Pools)}
	return d
}

func groupLateRuns(late []prefect.FlowRun) []LateGroup {
	var groups []LateGroup
	index := map[string]int{}
	for _, r := range late {
		key := r.DeploymentID + "|" + r.WorkPoolName + "|" + r.WorkQueueID
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, LateGroup{DeploymentID: r.DeploymentID, WorkPool: r.WorkPoolName, WorkQueue: r.WorkQueueName})
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

func (v *lateView) diagnose(g *LateGroup) {
	oldest := g.runs[0]
	for _, r := range g.runs {
		if r.ExpectedStartTime != nil && (oldest.ExpectedStartTime == nil || r.ExpectedStartTime.Before(*oldest.ExpectedStartTime)) {
			oldest = r
		}
	}
	if oldest.ExpectedStartTime != nil {
		g.Oldest = shape.TS(*oldest.ExpectedStartTime)
		g.LateBy = shape.Dur(v.f.Now.Sub(*oldest.ExpectedStartTime).Seconds())
	}
	g.Examples = runLabels(g.runs, maxExamples)
	var dep *prefect.Deployment
	if d, ok := v.f.Deployments[g.DeploymentID]; ok {
		dep, g.Deployment = &d, d.Name
	}
	var blockers []blocker
	for _, rule := range lateRules {
		if b, ok := rule(v, g, dep); ok {
			blockers = append(blockers, b)
		}
	}
	// A queue no worker polls only matters when nothing else blocks.
	if real := slices.DeleteFunc(slices.Clone(blockers), func(b blocker) bool { return b.cause == CauseQueueNotPolled }); len(real) > 0 {
		blockers = real
	}
	if len(blockers) == 0 {
		g.Cause = CauseNoBlocker
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

func (v *lateView) pool(g *LateGroup) (*poolHealth, *prefect.WorkPool) {
	if h := v.pools[g.WorkPool]; h != nil && h.Pool != nil {
		return h, h.Pool
	}
	return nil, nil
}

func (v *lateView) queue(g *LateGroup) (prefect.WorkQueue, bool) {
	q, ok := v.f.Queues[g.runs[0].WorkQueueID]
	return q, ok
}

func (v *lateView) activeWhere(pred func(prefect.FlowRun) bool) []prefect.FlowRun {
	var out []prefect.FlowRun
	for _, r := range v.f.Active {
		if Active(r.StateType) && pred(r) {
			out = append(out, r)
		}
	}
	return out
}

func rulePoolPaused(v *lateView, g *LateGroup, _ *prefect.Deployment) (blocker, bool) {
	_, p := v.pool(g)
	if p == nil || !p.IsPaused && p.Status != "PAUSED" {
		return blocker{}, false
	}
	return blocker{CausePoolPaused, fmt.Sprintf("Work pool %s is paused, so no worker is handed its runs.", p.Name),
		[]string{fmt.Sprintf("work pool %s (%s) is_paused=true, status %s", p.Name, p.ID, p.Status)},
		[]string{"Resume the pool: prefect work-pool resume " + p.Name}}, true
}

func ruleNoWorker(v *lateView, g *LateGroup, _ *prefect.Deployment) (blocker, bool) {
	h, p := v.pool(g)
	if p == nil || h.pushPool() || h.hasOnlineWorker() {
		return blocker{}, false
	}
	return blocker{CauseNoWorker, fmt.Sprintf("No worker is polling work pool %s (status %s), so nothing picks up its runs.", p.Name, p.Status),
		[]string{h.evidence(v.f.Now)},
		[]string{"Start a worker: prefect worker start --pool " + p.Name, "If a worker should be running, check its host or pod and why it stopped heartbeating."}}, true
}

func rulePoolLimit(v *lateView, g *LateGroup, _ *prefect.Deployment) (blocker, bool) {
	h, p := v.pool(g)
	if p == nil || p.ConcurrencyLimit == nil {
		return blocker{}, false
	}
	holders := v.activeWhere(func(r prefect.FlowRun) bool { return r.WorkPoolName == p.Name })
	used := len(holders)
	if p.ActiveSlots != nil && *p.ActiveSlots > used {
		used = *p.ActiveSlots
	}
	if used < *p.ConcurrencyLimit {
		return blocker{}, false
	}
	return blocker{CausePoolLimit, fmt.Sprintf("Work pool %s is at its concurrency limit (%d/%d runs Pending or Running).", p.Name, used, *p.ConcurrencyLimit),
		[]string{fmt.Sprintf("work pool %s concurrency_limit %d, %d run(s) in it: %s", p.Name, *p.ConcurrencyLimit, len(holders), runNames(holders, maxExamples)),
			h.evidence(v.f.Now)},
		[]string{"Wait for the running runs, check they are not stuck (" + tn.DiagnoseStuckRuns + "), or raise the limit: prefect work-pool set-concurrency-limit " + p.Name + " <n>"}}, true
}

func ruleQueuePaused(v *lateView, g *LateGroup, _ *prefect.Deployment) (blocker, bool) {
	q, ok := v.queue(g)
	if !ok || !q.IsPaused && q.Status != "PAUSED" {
		return blocker{}, false
	}
	return blocker{CauseQueuePaused, fmt.Sprintf("Work queue %s of pool %s is paused.", q.Name, q.WorkPoolName),
		[]string{fmt.Sprintf("work queue %s (%s) is_paused=true, status %s", q.Name, q.ID, q.Status)},
		[]string{"Resume the queue: prefect work-queue resume " + q.Name + " --pool " + q.WorkPoolName}}, true
}

func ruleQueueLimit(v *lateView, g *LateGroup, _ *prefect.Deployment) (blocker, bool) {
	q, ok := v.queue(g)
	if !ok || q.ConcurrencyLimit == nil {
		return blocker{}, false
	}
	holders := v.activeWhere(func(r prefect.FlowRun) bool { return r.WorkQueueID == q.ID })
	if len(holders) < *q.ConcurrencyLimit {
		return blocker{}, false
	}
	return blocker{CauseQueueLimit, fmt.Sprintf("Work queue %s is at its concurrency limit (%d/%d runs Pending or Running).", q.Name, len(holders), *q.ConcurrencyLimit),
		[]string{fmt.Sprintf("work queue %s (%s) concurrency_limit %d, in it: %s", q.Name, q.ID, *q.ConcurrencyLimit, runNames(holders, maxExamples))},
		[]string{"Wait for the running runs, check they are not stuck (" + tn.DiagnoseStuckRuns + "), or raise the limit: prefect work-queue set-concurrency-limit " + q.Name + " <n> --pool " + q.WorkPoolName}}, true
}

// ruleQueueNotPolled: workers are online in the pool but none polls this
// queue (a worker started with --work-queue for another).
func ruleQueueNotPolled(v *lateView, g *LateGroup, _ *prefect.Deployment) (blocker, bool) {
	q, ok := v.queue(g)
	h := v.pools[g.WorkPool]
	if !ok || h == nil || !h.hasOnlineWorker() || q.IsPaused || q.LastPolled != nil && v.f.Now.Sub(*q.LastPolled) <= h.window {
		return blocker{}, false
	}
	polled := "never"
	if q.LastPolled != nil {
		polled = shape.TS(*q.LastPolled)
	}
	return blocker{CauseQueueNotPolled, fmt.Sprintf("Workers are online in pool %s but none polls queue %s.", q.WorkPoolName, q.Name),
		[]string{fmt.Sprintf("work queue %s last polled %s, status %s", q.Name, polled, q.Status)},
		[]string{"Start a worker for this queue: prefect worker start --pool " + q.WorkPoolName + " --work-queue " + q.Name + " (or drop --work-queue from the running worker)."}}, true
}

func ruleDeploymentPaused(_ *lateView, _ *LateGroup, dep *prefect.Deployment) (blocker, bool) {
	if dep == nil || !dep.Paused {
		return blocker{}, false
	}
	return blocker{CauseDeploymentPaused, fmt.Sprintf("Deployment %s is paused.", dep.Name),
		[]string{fmt.Sprintf("deployment %s (%s) paused=true", dep.Name, dep.ID)},
		[]string{"Resume the deployment in the UI or with prefect deployment resume <flow-name>/" + dep.Name}}, true
}

// ruleDeploymentLimit checks the deployment's own limit (a v2 limit named
// deployment:<id>) and a shared global limit the deployment is bound to.
func ruleDeploymentLimit(v *lateView, g *LateGroup, dep *prefect.Deployment) (blocker, bool) {
	if dep == nil {
		return blocker{}, false
	}
	holders := v.activeWhere(func(r prefect.FlowRun) bool { return r.DeploymentID == dep.ID })
	strategy := "ENQUEUE"
	if dep.ConcurrencyOptions != nil && dep.ConcurrencyOptions.CollisionStrategy != "" {
		strategy = dep.ConcurrencyOptions.CollisionStrategy
	}
	gcl := dep.GlobalConcurrencyLimit
	if gcl != nil {
		if fresh, ok := v.limits[gcl.Name]; ok {
			gcl = &fresh
		}
	}
	own := gcl != nil && gcl.Name == "deployment:"+dep.ID
	switch {
	case gcl != nil && gcl.Active && gcl.ActiveSlots >= gcl.Limit:
		ev := []string{
			fmt.Sprintf("v2 limit %s (%s): %d/%d slots in use", gcl.Name, gcl.ID, gcl.ActiveSlots, gcl.Limit),
			fmt.Sprintf("runs of deployment %s holding a slot: %s", dep.Name, shape.FirstNonEmpty(runNames(holders, maxExamples), "none Pending/Running (slots may be held by crashed runs until their lease expires)")),
			"collision strategy " + strategy,
		}
		if g.Awaiting > 0 {
			ev = append(ev, fmt.Sprintf("%d run(s) in AwaitingConcurrencySlot: the limit refused them", g.Awaiting))
		}
		if own {
			return blocker{CauseDeploymentLimit, fmt.Sprintf("Deployment %s is at its concurrency limit (%d/%d).", dep.Name, gcl.ActiveSlots, gcl.Limit), ev,
				[]string{"Wait for the running run(s) to finish and check they are not stuck (" + tn.DiagnoseStuckRuns + "), or raise the deployment's concurrency_limit."}}, true
		}
		return blocker{CauseGlobalLimit, fmt.Sprintf("Deployment %s is bound to global concurrency limit %s, which is at capacity (%d/%d).", dep.Name, gcl.Name, gcl.ActiveSlots, gcl.Limit), ev,
			[]string{"Find what holds the slots of " + gcl.Name + " (" + tn.GetConcurrencyLimits + ") or raise it: prefect gcl update " + gcl.Name + " --limit <n>"}}, true
	case gcl == nil && dep.ConcurrencyLimit != nil && len(holders) >= *dep.ConcurrencyLimit:
		return blocker{CauseDeploymentLimit, fmt.Sprintf("Deployment %s is at its concurrency limit (%d/%d).", dep.Name, len(holders), *dep.ConcurrencyLimit),
			[]string{fmt.Sprintf("deployment concurrency_limit %d; runs holding it: %s", *dep.ConcurrencyLimit, runNames(holders, maxExamples)), "collision strategy " + strategy},
			[]string{"Wait for the running run(s) to finish and check they are not stuck (" + tn.DiagnoseStuckRuns + "), or raise the deployment's concurrency_limit."}}, true
	case g.Awaiting > 0:
		limit := "its limit"
		if gcl != nil {
			limit = fmt.Sprintf("%s (now %d/%d)", gcl.Name, gcl.ActiveSlots, gcl.Limit)
		}
		return blocker{CauseDeploymentLimit, fmt.Sprintf("Deployment %s's concurrency limit refused %d run(s) (AwaitingConcurrencySlot); a slot is free again, so they start on their next retry.", dep.Name, g.Awaiting),
			[]string{"limit " + limit, "collision strategy " + strategy},
			[]string{"Wait for the next scheduling attempt; if runs keep waiting, look for runs holding the deployment's slots."}}, true
	}
	return blocker{}, false
}

// ruledOut names full limits that are not why runs are late, so nobody
// blames them: tag limits (they hold task runs) and global limits no late
// deployment is bound to.
func (v *lateView) ruledOut() []string {
	bound := map[string]bool{}
	for _, d := range v.f.Deployments {
		if d.GlobalConcurrencyLimit != nil {
			bound[d.GlobalConcurrencyLimit.Name] = true
		}
	}
	var names []string
	for n := range v.limits {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		l := v.limits[n]
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

func lateSummary(groups []LateGroup, late, awaiting int) string {
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
		where := shape.FirstNonEmpty(g.Deployment, g.DeploymentID, "no deployment")
		parts = append(parts, fmt.Sprintf("%s in %s: %s", strings.Join(what, " and "), where, strings.TrimSuffix(lowerFirst(g.Explanation), ".")))
	}
	return fmt.Sprintf("%d run(s) are not starting (%d Late, %d AwaitingConcurrencySlot) — %s.", late+awaiting, late, awaiting, strings.Join(parts, "; "))
}

// tagHolds lists Running flow runs whose Pending task runs carry a tag whose
// limit (v2 "tag:<tag>") is full.
func tagHolds(pending []prefect.TaskRun, active []prefect.FlowRun, limits map[string]prefect.GlobalConcurrencyLimit, deploymentID string) []TagHold {
	runs := map[string]prefect.FlowRun{}
	for _, r := range active {
		if r.StateType == "RUNNING" && (deploymentID == "" || r.DeploymentID == deploymentID) {
			runs[r.ID] = r
		}
	}
	var out []TagHold
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
				out = append(out, TagHold{Tag: tag, Limit: fmt.Sprintf("%d/%d slots in use", l.ActiveSlots, l.Limit), FlowRun: fr.Name, RunID: fr.ID,
					Note: "the flow run is Running; only these task runs wait, flow-run starts are not affected"})
			}
			if len(out[i].Pending) < maxExamples {
				out[i].Pending = append(out[i].Pending, t.Name+" ("+t.ID+")")
			}
		}
	}
	return out
}
