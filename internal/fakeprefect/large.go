package fakeprefect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scale sizes the generated part of a large workspace.
type Scale struct {
	WorkPools, QueuesPerPool, Workers int
	Flows, Deployments                int
	FlowRuns, TaskRuns, Events        int
	Automations, ConcurrencyLimits    int
	Days                              int // flow runs spread over the last Days days (and the next one)
}

// LargeScale is a busy self-hosted workspace: 60 pools of 4 queues, 80
// workers, 1,500 deployments over 400 flows, 50,000 flow runs over 30
// days, 200,000 task runs and events, 300 automations, 150 concurrency
// limits of every kind.
func LargeScale() Scale {
	return Scale{
		WorkPools: 60, QueuesPerPool: 4, Workers: 80, Flows: 400, Deployments: 1500,
		FlowRuns: 50_000, TaskRuns: 200_000, Events: 200_000, Automations: 300, ConcurrencyLimits: 150, Days: 30,
	}
}

// Large returns the demo workspace as of now plus a generated workspace of
// LargeScale around it, so every demo name still resolves.
func Large(now time.Time) *Data { return Generate(now, LargeScale()) }

// Generate returns the demo workspace as of now plus generated objects of
// the given scale. The same arguments give the same workspace. Flow runs,
// task runs and events are compact rows that build their object when read,
// which keeps a large workspace small in memory.
func Generate(now time.Time, sc Scale) *Data {
	data := Demo(now)
	g := &gen{
		ws:  &largeWS{now: data.AsOf},
		sc:  sc,
		rng: rand.New(rand.NewPCG(0x9e3779b97f4a7c15, uint64(sc.FlowRuns))),
		d:   data,
	}
	g.flows()
	g.pools()
	g.deployments()
	g.runs()
	g.events()
	g.automations()
	g.limits()
	return data
}

// largeWS holds what the compact rows share.
type largeWS struct {
	now    time.Time
	flows  []genFlow
	pools  []genPool
	queues []genQueue
	deps   []genDeployment
	runs   []*flowRunRow
}

type genFlow struct {
	id, name string
	tasks    []string
}

type genPool struct{ id, name, typ string }

type genQueue struct {
	id, name string
	pool     int
}

type genDeployment struct {
	id, name   string
	flow       int
	queue      int
	tags       []any
	runTags    []any // its runs': Prefect's scheduler adds auto-scheduled
	parameters map[string]any
}

type gen struct {
	tasks []record // the generated task runs, in their flow runs' order
	ws    *largeWS
	sc    Scale
	rng   *rand.Rand
	d     *Data
}

func (g *gen) at(offset time.Duration) string { return g.ws.now.Add(offset).UTC().Format(isoMicros) }

func genID(kind string, i int) string {
	return nameUUID("prefect-mcp-large:" + kind + ":" + strconv.Itoa(i))
}

var (
	domains = []string{"orders", "billing", "customers", "inventory", "marketing", "payments", "shipping", "search",
		"analytics", "fraud", "pricing", "catalog", "reviews", "support", "identity", "ledger", "forecast", "sensors",
		"clickstream", "email", "crm", "warehouse", "vendors", "returns", "loyalty"}
	verbs = []string{"ingest", "transform", "sync", "backfill", "score", "aggregate", "export", "validate",
		"dedupe", "snapshot", "reconcile", "train", "publish", "archive", "refresh", "enrich"}
	taskNames = []string{"extract", "validate-schema", "transform", "load", "publish-metrics", "notify", "upsert",
		"compute-features", "write-parquet", "refresh-view", "fetch-page", "checkpoint"}
	tagWords = []string{"prod", "etl", "ml", "finance", "critical", "nightly", "hourly", "team-data", "team-ml",
		"team-growth", "pii", "batch", "streaming", "sla-1h", "sla-24h", "gpu", "experimental", "legacy"}
	adjectives = []string{"amber", "brave", "calm", "daring", "eager", "fancy", "gentle", "happy", "icy", "jolly",
		"keen", "lively", "mellow", "nimble", "oaken", "proud", "quiet", "rapid", "silver", "tidy", "urban", "vivid",
		"wise", "young", "zesty", "cobalt", "dusty", "fuzzy", "golden", "hidden"}
	animals = []string{"otter", "heron", "falcon", "lynx", "badger", "walrus", "koala", "tapir", "newt", "mole",
		"gecko", "yak", "ibis", "puffin", "lemur", "crab", "owl", "bison", "marmot", "stoat", "wombat", "finch",
		"oriole", "jackal", "ferret", "mink", "quokka", "viper", "narwhal", "panda", "raven", "shrew"}
	poolTypes = []string{"kubernetes", "process", "docker", "ecs", "cloud-run"}
	failures  = []string{
		"ValueError: Row value above threshold 10: max=14 in column 'amount' of batch 2026-11-30/part-0007.parquet",
		"KeyError: 'customer_id' while mapping record 18342 of source table raw.orders_v2 (schema drift since the last deploy?)",
		"ConnectionError: HTTPSConnectionPool(host='api.partner.example.com', port=443): Max retries exceeded with url: /v3/export?page=41 (Caused by ReadTimeoutError(\"Read timed out. (read timeout=30)\"))",
		"psycopg.errors.SerializationFailure: could not serialize access due to concurrent update; while running UPDATE ledger.balances SET amount = amount + %(delta)s WHERE account_id = %(id)s",
		"botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::123456789012:assumed-role/prefect-worker/i-0abc is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::analytics-exports/daily/2026-12-05.csv",
		"TimeoutError: Task 'load' exceeded its timeout of 900 seconds while waiting for the warehouse COPY INTO analytics.events to finish",
		"MemoryError: Unable to allocate 3.81 GiB for an array with shape (511234567,) and data type float64 in compute-features",
	}
)

func (g *gen) flows() {
	for i := range g.sc.Flows {
		name := fmt.Sprintf("%s-%s-%03d", domains[i%len(domains)], verbs[(i/len(domains))%len(verbs)], i)
		n := 3 + g.rng.IntN(3)
		tasks := make([]string, n)
		for j := range tasks {
			tasks[j] = taskNames[(i+j*5)%len(taskNames)]
		}
		f := genFlow{id: genID("flow", i), name: name, tasks: tasks}
		g.ws.flows = append(g.ws.flows, f)
		ts := g.at(-time.Duration(g.sc.Days+30)*24*time.Hour + time.Duration(i)*time.Minute)
		g.d.Add(Flows, map[string]any{"id": f.id, "created": ts, "updated": ts, "name": name,
			"tags": []any{tagWords[i%len(tagWords)]}, "labels": map[string]any{}})
	}
}

func (g *gen) pools() {
	created := g.at(-90 * 24 * time.Hour)
	workersPerPool := make([]int, g.sc.WorkPools)
	for i := range g.sc.Workers {
		// Most pools get one or two workers; every tenth pool has none (NOT_READY).
		p := i % g.sc.WorkPools
		if p%10 == 9 {
			p = (p + 1) % g.sc.WorkPools
		}
		workersPerPool[p]++
	}
	queueNames := []string{"default", "high-priority", "low-priority", "backfill", "gpu", "batch"}
	for p := range g.sc.WorkPools {
		typ := poolTypes[p%len(poolTypes)]
		pool := genPool{id: genID("work_pool", p), name: fmt.Sprintf("%s-%s-pool-%02d", domains[p%len(domains)], typ, p), typ: typ}
		g.ws.pools = append(g.ws.pools, pool)
		status := "READY"
		if workersPerPool[p] == 0 {
			status = "NOT_READY"
		}
		paused := p%29 == 28
		if paused {
			status = "PAUSED"
		}
		var limit any
		if p%4 == 0 { // a quarter of the pools, a tenth of the limits at LargeScale
			limit = 10 + p%7*5
		}
		g.d.Add(WorkPools, map[string]any{
			"id": pool.id, "created": created, "updated": g.at(-time.Duration(p) * time.Minute), "name": pool.name,
			"description": "Runs the " + domains[p%len(domains)] + " team's " + typ + " jobs",
			"type":        typ, "base_job_template": processJobTemplate(), "is_paused": paused, "concurrency_limit": limit,
			"status": status, "default_queue_id": genID("work_queue", p*g.sc.QueuesPerPool),
			"storage_configuration": map[string]any{"bundle_upload_step": nil, "bundle_execution_step": nil, "default_result_storage_block_id": nil},
			"active_slots":          0,
		})
		for q := range g.sc.QueuesPerPool {
			qi := p*g.sc.QueuesPerPool + q
			queue := genQueue{id: genID("work_queue", qi), name: queueNames[q%len(queueNames)], pool: p}
			g.ws.queues = append(g.ws.queues, queue)
			polled := any(g.at(-time.Duration(5+g.rng.IntN(40)) * time.Second))
			qstatus := "READY"
			if status != "READY" {
				polled, qstatus = g.at(-time.Duration(2+g.rng.IntN(48))*time.Hour), "NOT_READY"
			}
			var qlimit any
			if q == 1 && p%4 == 1 {
				qlimit = 2 + p%3
			}
			g.d.Add(WorkQueues, map[string]any{
				"id": queue.id, "created": created, "updated": created, "name": queue.name,
				"description": "Queue " + queue.name + " of " + pool.name, "is_paused": false, "concurrency_limit": qlimit,
				"priority": q + 1, "work_pool_id": pool.id, "filter": nil, "last_polled": polled,
				"work_pool_name": pool.name, "status": qstatus, "active_slots": 0,
			})
		}
	}
	w := 0
	for p, n := range workersPerPool {
		for range n {
			typ := g.ws.pools[p].typ
			g.d.Add(Workers, map[string]any{
				"id": genID("worker", w), "created": g.at(-48 * time.Hour), "updated": g.at(-48 * time.Hour),
				"name":         fmt.Sprintf("%sWorker %s", strings.ToUpper(typ[:1])+typ[1:], genID("worker-name", w)),
				"work_pool_id": g.ws.pools[p].id, "last_heartbeat_time": g.at(-time.Duration(3+g.rng.IntN(25)) * time.Second),
				"heartbeat_interval_seconds": 30, "status": "ONLINE",
			})
			w++
		}
	}
}

func (g *gen) deployments() {
	created := g.at(-60 * 24 * time.Hour)
	for i := range g.sc.Deployments {
		flow := i % g.sc.Flows
		f := g.ws.flows[flow]
		queue := g.rng.IntN(len(g.ws.queues))
		q, pool := g.ws.queues[queue], g.ws.pools[g.ws.queues[queue].pool]
		tags := []any{tagWords[i%len(tagWords)]}
		for _, t := range []string{tagWords[(i/3+5)%len(tagWords)], "critical"} {
			if t == "critical" && i%7 != 0 || slices.Contains(tags, any(t)) {
				continue
			}
			tags = append(tags, t)
		}
		params := map[string]any{
			"source_table": "raw." + strings.SplitN(f.name, "-", 2)[0] + "_events", "batch_size": 500 + i%10*250,
			"lookback_hours": 1 + i%48, "dry_run": false, "notify": []any{"data-oncall@example.com"},
		}
		// A flow's deployments differ by their suffix (names are unique per flow).
		suffixes := []string{"hourly", "daily", "every-15m", "manual", "nightly"}
		name := f.name + "-" + suffixes[(i/g.sc.Flows)%len(suffixes)]
		if i >= g.sc.Flows*len(suffixes) {
			name += "-" + strconv.Itoa(i)
		}
		dep := genDeployment{id: genID("deployment", i), name: name, flow: flow, queue: queue, tags: tags, parameters: params,
			runTags: append([]any{"auto-scheduled"}, tags...)}
		g.ws.deps = append(g.ws.deps, dep)
		var schedules []any
		cron := []string{"0 * * * *", "30 2 * * *", "*/15 * * * *", "", "0 3 * * *"}[(i/g.sc.Flows)%len(suffixes)]
		paused := i%20 == 19
		if cron != "" {
			schedules = append(schedules, map[string]any{
				"id": genID("schedule", i), "created": created, "updated": created, "deployment_id": dep.id,
				"schedule": map[string]any{"cron": cron, "timezone": "UTC", "day_or": true}, "active": !paused,
				"max_scheduled_runs": nil, "parameters": map[string]any{}, "slug": nil,
			})
		} else {
			schedules = []any{}
		}
		status := "READY"
		if g.poolNotReady(q.pool) {
			status = "NOT_READY"
		}
		g.d.Add(Deployments, map[string]any{
			"id": dep.id, "created": created, "updated": g.at(-time.Duration(i%240) * time.Hour), "name": dep.name,
			"version": fmt.Sprintf("2.%d.%d", i%9, i%31), "description": "Runs " + f.name + " for the " + domains[flow%len(domains)] + " team; owner: team-" + domains[flow%len(domains)] + "@example.com",
			"flow_id": f.id, "paused": paused, "schedules": schedules, "concurrency_limit": nil, "global_concurrency_limit": nil,
			"concurrency_options": nil, "job_variables": map[string]any{"image": "registry.example.com/flows/" + f.name + ":2026.12.1", "env": map[string]any{"LOG_LEVEL": "INFO"}},
			"parameters": params, "tags": tags, "labels": map[string]any{"prefect.flow.id": f.id},
			"work_queue_name": q.name, "work_queue_id": q.id, "last_polled": g.at(-10 * time.Second),
			"parameter_openapi_schema": map[string]any{"title": "Parameters", "type": "object", "definitions": map[string]any{}, "properties": map[string]any{
				"source_table": map[string]any{"type": "string", "title": "source_table", "position": 0},
				"batch_size":   map[string]any{"type": "integer", "title": "batch_size", "default": 500, "position": 1},
			}},
			"path": "/opt/flows", "pull_steps": []any{}, "entrypoint": "flows/" + strings.ReplaceAll(f.name, "-", "_") + ".py:main",
			"storage_document_id": nil, "infrastructure_document_id": nil, "created_by": nil, "updated_by": nil,
			"work_pool_name": pool.name, "status": status, "enforce_parameter_schema": true,
		})
	}
}

func (g *gen) poolNotReady(p int) bool {
	pool := g.d.find(WorkPools, g.ws.pools[p].id)
	return pool != nil && str(pool, "status") != "READY"
}

// runState is one of the states a generated run ends in.
type runState struct{ typ, name string }

var genStates = []runState{
	{"COMPLETED", "Completed"}, {"FAILED", "Failed"}, {"CRASHED", "Crashed"}, {"CANCELLED", "Cancelled"},
	{"RUNNING", "Running"}, {"SCHEDULED", "Scheduled"}, {"SCHEDULED", "Late"}, {"PENDING", "Pending"},
	{"SCHEDULED", "AwaitingRetry"}, {"PAUSED", "Paused"},
}

const (
	stCompleted = iota
	stFailed
	stCrashed
	stCancelled
	stRunning
	stScheduled
	stLate
	stPending
	stAwaitingRetry
	stPaused
)

const noTime = -1 << 31

func (g *gen) runs() {
	span := g.sc.Days * 24 * 3600
	started := 0
	for i := range g.sc.FlowRuns {
		r := &flowRunRow{ws: g.ws, i: int32(i), id: genID("flow_run", i), dep: -1, start: noTime, end: noTime}
		if i%20 != 0 {
			r.dep = int32(g.rng.IntN(len(g.ws.deps)))
			r.flow = int32(g.ws.deps[r.dep].flow)
		} else {
			r.flow = int32(g.rng.IntN(len(g.ws.flows)))
		}
		// Runs spread over the last Days days, the last 2% in the coming day.
		off := -g.rng.IntN(span)
		if i%50 == 0 {
			off = g.rng.IntN(24 * 3600)
		}
		r.expected = int32(off)
		roll := g.rng.IntN(1000)
		dur := int32(20 + g.rng.IntN(1800))
		switch {
		case off > 0:
			r.state = stScheduled
		case off > -900 && roll < 300:
			r.state = stLate
		case off > -3600 && roll < 700:
			r.state, r.start = stRunning, r.expected+int32(g.rng.IntN(30))
		case off > -600:
			r.state = stPending
		default:
			r.start = r.expected + int32(g.rng.IntN(60))
			r.end = r.start + dur
			switch {
			case roll < 860:
				r.state = stCompleted
			case roll < 930:
				r.state = stFailed
			case roll < 950:
				r.state = stCrashed
			case roll < 975:
				r.state = stCancelled
			case roll < 985:
				r.state, r.end = stAwaitingRetry, noTime
			case roll < 990:
				r.state, r.end = stPaused, noTime
			default:
				r.state = stCompleted
			}
		}
		r.msg = uint8(g.rng.IntN(len(failures)))
		if r.start != noTime {
			started++
		}
		g.ws.runs = append(g.ws.runs, r)
	}
	// Task runs: an even share for every started run, the rest one more each.
	per, extra := 0, 0
	if started > 0 {
		per, extra = g.sc.TaskRuns/started, g.sc.TaskRuns%started
	}
	recs := make([]record, 0, g.sc.FlowRuns)
	tasks := make([]record, 0, g.sc.TaskRuns)
	for _, r := range g.ws.runs {
		recs = append(recs, r)
		if r.start == noTime {
			continue
		}
		n := per
		if extra > 0 {
			n, extra = n+1, extra-1
		}
		r.firstTask = int32(len(tasks))
		r.tasks = uint8(n)
		for j := range n {
			tasks = append(tasks, &taskRunRow{run: r, j: uint8(j), id: genID("task_run", len(tasks))})
		}
	}
	g.d.add(FlowRuns, recs...)
	g.d.add(TaskRuns, tasks...)
	g.tasks = tasks
}

func (g *gen) events() {
	// What a real Prefect 3.8 records (samples/events_filter.json): the
	// task runs' state changes (sent by the client, three per task run)
	// and the heartbeats of running flow runs, then the flow runs' state
	// changes. Prefect keeps events for days, not forever: the last day's
	// task-run events and heartbeats come first, then the state changes of
	// every run until the total, the rest dropped.
	var evs []record
	add := func(e *eventRow) bool {
		if len(evs) == g.sc.Events {
			return false
		}
		e.id = genID("event", len(evs))
		evs = append(evs, e)
		return true
	}
	const day = 24 * 3600
	for _, r := range g.ws.runs {
		if r.start == noTime || r.start < -day {
			continue
		}
		for j := range int32(r.tasks) {
			t := g.tasks[r.firstTask+j].(*taskRunRow)
			for k := range t.history() {
				add(&eventRow{kind: evTask, run: r, task: t, step: uint8(k)})
			}
		}
		if r.end == noTime && genStates[r.state].typ == "RUNNING" {
			for at := r.start + 30; at <= 0; at += 30 {
				add(&eventRow{kind: evBeat, run: r, at: at})
			}
		}
	}
	for _, r := range g.ws.runs {
		for k := range r.history() {
			add(&eventRow{kind: evState, run: r, step: uint8(k)})
		}
	}
	g.d.add(Events, evs...)
}

func (g *gen) automations() {
	created := g.at(-45 * 24 * time.Hour)
	for i := range g.sc.Automations {
		dep := g.ws.deps[(i*7)%len(g.ws.deps)]
		var trigger map[string]any
		var actions []any
		switch i % 4 {
		case 0:
			trigger = map[string]any{"expect": []any{"prefect.flow-run.Failed"}, "posture": "Reactive", "threshold": 3, "within": 600.0,
				"match_related": map[string]any{"prefect.resource.id": "prefect.deployment." + dep.id}}
			actions = []any{map[string]any{"type": "pause-deployment", "source": "selected", "deployment_id": dep.id}}
		case 1:
			trigger = map[string]any{"expect": []any{"prefect.flow-run.Completed"}, "posture": "Proactive", "within": 93600.0, "threshold": 1,
				"match_related": map[string]any{"prefect.resource.id": "prefect.deployment." + dep.id}}
			actions = []any{map[string]any{"type": "send-notification", "block_document_id": genID("block", i%5),
				"subject": "{{ deployment.name }} has not completed in 26 hours", "body": "Check the work pool and the last runs."}}
		case 2:
			trigger = map[string]any{"expect": []any{"prefect.flow-run.Crashed"}, "posture": "Reactive", "threshold": 1, "within": 0.0}
			actions = []any{map[string]any{"type": "run-deployment", "source": "selected", "deployment_id": dep.id,
				"parameters": map[string]any{"dry_run": true}, "job_variables": nil}}
		default:
			trigger = map[string]any{"expect": []any{"prefect.flow-run.Completed", "prefect.flow-run.Failed"}, "after": []any{"prefect.flow-run.Running"},
				"posture": "Proactive", "within": 7200.0, "threshold": 1, "for_each": []any{"prefect.resource.id"}}
			actions = []any{map[string]any{"type": "cancel-flow-run"}}
		}
		trigger["id"], trigger["type"] = genID("trigger", i), "event"
		for k, v := range map[string]any{"match": map[string]any{"prefect.resource.id": "prefect.flow-run.*"}, "match_related": map[string]any{},
			"after": []any{}, "for_each": []any{}} {
			if _, ok := trigger[k]; !ok {
				trigger[k] = v
			}
		}
		g.d.Add(Automations, map[string]any{
			"name":        fmt.Sprintf("%s-%s-%03d", []string{"pause-after-failures", "missing-run-alert", "rerun-on-crash", "cancel-long-runs"}[i%4], dep.name, i),
			"description": "Generated automation " + strconv.Itoa(i) + " for " + dep.name, "enabled": i%11 != 10, "tags": []any{},
			"trigger": trigger, "actions": actions, "actions_on_trigger": []any{}, "actions_on_resolve": []any{},
			"id": genID("automation", i), "created": created, "updated": created,
		})
	}
}

// limits adds the v1 tag and v2 global, tag and deployment limits: eight
// tenths of ConcurrencyLimits (the pool and queue limits, set in pools,
// are the rest).
func (g *gen) limits() {
	n := g.sc.ConcurrencyLimits
	created := g.at(-30 * 24 * time.Hour)
	for i := range n * 2 / 10 {
		tag := fmt.Sprintf("%s-db-%02d", domains[i%len(domains)], i)
		g.d.Add(ConcurrencyLimits, map[string]any{
			"id": genID("tag_limit", i), "created": created, "updated": g.at(-time.Minute), "tag": tag,
			"concurrency_limit": 1 + i%5, "active_slots": []any{},
		})
	}
	for i := range n * 6 / 10 {
		var name string
		switch i % 3 {
		case 0:
			name = fmt.Sprintf("%s-api-%02d", domains[i%len(domains)], i)
		case 1:
			name = fmt.Sprintf("tag:%s-%02d", tagWords[i%len(tagWords)], i)
		default:
			name = "deployment:" + g.ws.deps[(i*13)%len(g.ws.deps)].id
		}
		limit := 1 + i%20
		g.d.Add(V2ConcurrencyLimits, map[string]any{
			"id": genID("v2_limit", i), "created": created, "updated": g.at(-time.Minute), "active": i%17 != 16,
			"name": name, "limit": limit, "active_slots": g.rng.IntN(limit + 1), "slot_decay_per_second": 0.0,
		})
	}
}

// flowRunRow is a generated flow run kept compact; its object is built
// when read.
type flowRunRow struct {
	ws                   *largeWS
	id                   string
	i, flow, dep         int32
	expected, start, end int32 // seconds from ws.now; noTime when null
	firstTask            int32
	tasks                uint8
	state                uint8
	msg                  uint8
}

func (r *flowRunRow) name() string {
	i := int(r.i)
	return adjectives[i%len(adjectives)] + "-" + animals[(i/len(adjectives))%len(animals)] + "-" + strconv.Itoa(i)
}

func (r *flowRunRow) time(sec int32) any {
	if sec == noTime {
		return nil
	}
	return r.ws.now.Add(time.Duration(sec) * time.Second).UTC().Format(isoMicros)
}

func (r *flowRunRow) timeField(key string) (time.Time, bool, bool) {
	var sec int32
	switch key {
	case "expected_start_time":
		sec = r.expected
	case "start_time":
		sec = r.start
	case "end_time":
		sec = r.end
	default:
		return time.Time{}, false, false
	}
	if sec == noTime {
		return time.Time{}, false, true
	}
	return r.ws.now.Add(time.Duration(sec) * time.Second), true, true
}

func (e *eventRow) timeField(key string) (time.Time, bool, bool) {
	if key != "occurred" && key != "received" {
		return time.Time{}, false, false
	}
	return e.run.ws.now.Add(time.Duration(e.sec()) * time.Second), true, true
}

func (r *flowRunRow) deployment() *genDeployment {
	if r.dep < 0 {
		return nil
	}
	return &r.ws.deps[r.dep]
}

// step is one state of a generated run's history, seconds from now.
type genStep struct {
	state int
	at    int32
}

// history lists the states the run went through, the current one last.
func (r *flowRunRow) history() []genStep {
	sched := r.expected - 3600
	steps := []genStep{{stScheduled, sched}}
	switch int(r.state) {
	case stScheduled:
		return steps
	case stLate:
		return append(steps, genStep{stLate, r.expected + 15})
	case stPending:
		return append(steps, genStep{stPending, r.expected + 5})
	}
	steps = append(steps, genStep{stPending, r.start - 2}, genStep{stRunning, r.start})
	switch int(r.state) {
	case stRunning:
		return steps
	case stAwaitingRetry, stPaused:
		return append(steps, genStep{int(r.state), r.start + 30})
	}
	return append(steps, genStep{int(r.state), r.end})
}

func (r *flowRunRow) message() any {
	switch int(r.state) {
	case stFailed:
		return "Flow run encountered an exception: " + failures[r.msg]
	case stCrashed:
		return "Execution was cancelled by the runtime environment. The process exited with code -9 (SIGKILL); the pod was OOMKilled after exceeding its memory limit of 2Gi."
	case stCancelled:
		return "Cancelled by automation 'cancel-long-runs': the run exceeded 2h in Running"
	case stAwaitingRetry:
		return "Retry 1/3 will start 30 second(s) from now. Previous attempt failed: " + failures[r.msg]
	case stScheduled, stLate:
		return "Flow run scheduled"
	case stCompleted:
		return "All states completed."
	}
	return nil
}

func (r *flowRunRow) stateID() string { return genID("state", int(r.i)) }

func (r *flowRunRow) get(key string) any {
	st := genStates[r.state]
	switch key {
	case "id":
		return r.id
	case "name":
		return r.name()
	case "flow_id":
		return r.ws.flows[r.flow].id
	case "deployment_id":
		if d := r.deployment(); d != nil {
			return d.id
		}
		return nil
	case "work_queue_id":
		if d := r.deployment(); d != nil {
			return r.ws.queues[d.queue].id
		}
		return nil
	case "work_queue_name":
		if d := r.deployment(); d != nil {
			return r.ws.queues[d.queue].name
		}
		return nil
	case "state_type":
		return st.typ
	case "state_name":
		return st.name
	case "state_id":
		return r.stateID()
	case "expected_start_time":
		return r.time(r.expected)
	case "start_time":
		return r.time(r.start)
	case "end_time":
		return r.time(r.end)
	case "next_scheduled_start_time":
		if st.typ == "SCHEDULED" {
			return r.time(r.expected)
		}
		return nil
	case "tags":
		if d := r.deployment(); d != nil {
			return d.runTags
		}
		return []any{}
	case "parent_task_run_id", "created_by", "idempotency_key":
		return nil
	}
	return r.whole()[key]
}

func (r *flowRunRow) whole() map[string]any {
	st := genStates[r.state]
	hist := r.history()
	last := hist[len(hist)-1]
	stateAt := r.time(last.at)
	details := stateDetails(r.id, "", nil)
	if st.typ == "SCHEDULED" {
		details["scheduled_time"] = r.time(r.expected)
	}
	state := map[string]any{
		"id": r.stateID(), "type": st.typ, "name": st.name, "timestamp": stateAt, "message": r.message(), "data": nil,
		"state_details": details,
	}
	var runTime float64
	if r.start != noTime {
		end := r.end
		if end == noTime {
			end = 0
		}
		runTime = float64(end - r.start)
	}
	runCount := 0
	if r.start != noTime {
		runCount = 1
	}
	var poolID, poolName any
	params := map[string]any{}
	labels := map[string]any{"prefect.flow.id": r.ws.flows[r.flow].id}
	if d := r.deployment(); d != nil {
		pool := r.ws.pools[r.ws.queues[d.queue].pool]
		poolID, poolName = pool.id, pool.name
		params = d.parameters
		labels["prefect.deployment.id"] = d.id
	}
	return map[string]any{
		"id": r.id, "created": r.time(r.expected - 3600), "updated": stateAt, "name": r.name(),
		"flow_id": r.get("flow_id"), "deployment_id": r.get("deployment_id"), "deployment_version": nil,
		"work_queue_id": r.get("work_queue_id"), "work_queue_name": r.get("work_queue_name"),
		"flow_version": "3beb3867189798a411efa3f5670d279a", "parameters": params, "idempotency_key": nil, "context": map[string]any{},
		"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 3, "retry_delay": 30,
			"pause_keys": []any{}, "resuming": false, "retry_type": nil},
		"tags": r.get("tags"), "labels": labels, "parent_task_run_id": nil,
		"state": state, "state_type": st.typ, "state_name": st.name, "state_id": r.stateID(),
		"run_count": runCount, "expected_start_time": r.time(r.expected),
		"next_scheduled_start_time": r.get("next_scheduled_start_time"), "start_time": r.time(r.start), "end_time": r.time(r.end),
		"total_run_time": runTime, "estimated_run_time": runTime, "estimated_start_time_delta": float64(max(r.start-r.expected, 0)),
		"auto_scheduled": r.dep >= 0, "infrastructure_document_id": nil, "infrastructure_pid": nil, "created_by": nil,
		"work_pool_id": poolID, "work_pool_name": poolName, "job_variables": map[string]any{},
	}
}

// taskRunRow is task j of a generated flow run.
type taskRunRow struct {
	run *flowRunRow
	id  string
	j   uint8
}

// span is when the task ran (seconds from now) and its state.
func (t *taskRunRow) span() (start, end int32, state int) {
	r := t.run
	n := int32(r.tasks)
	runEnd := r.end
	if runEnd == noTime {
		runEnd = max(r.start+int32(n)*40, r.start+1)
		if runEnd > 0 {
			runEnd = 0
		}
	}
	slot := max((runEnd-r.start)/n, 1)
	start = r.start + slot*int32(t.j)
	end = start + slot - 1
	last := int32(t.j) == n-1
	switch int(r.state) {
	case stCompleted:
		return start, end, stCompleted
	case stFailed, stAwaitingRetry:
		if last {
			return start, end, stFailed
		}
		return start, end, stCompleted
	case stCrashed:
		if last {
			return start, noTime, stRunning
		}
		return start, end, stCompleted
	case stCancelled:
		if last {
			return start, end, stCancelled
		}
		return start, end, stCompleted
	}
	// Running or paused: the last task still runs.
	if last {
		return start, noTime, stRunning
	}
	return start, end, stCompleted
}

// name is Prefect's: the task's name and three hex digits of the task
// run's id ("extract-90a").
func (t *taskRunRow) name() string { return t.task() + "-" + t.id[:3] }

// task is the name of the flow's task this run is of.
func (t *taskRunRow) task() string {
	f := t.run.ws.flows[t.run.flow]
	return f.tasks[int(t.j)%len(f.tasks)]
}

// key is Prefect's task key: the task's name and a hash of its code,
// the same for every run of the task.
func (t *taskRunRow) key() string {
	task := t.task()
	return task + "-" + nameUUID(t.run.ws.flows[t.run.flow].id + "/" + task)[:8]
}

// tags are the task's own (real tasks that touch a database carry one)
// and, in every other flow, the flow's tags context ("nightly", "etl").
func (t *taskRunRow) tags() []any {
	var tags []any
	if task := t.task(); task == "extract" || task == "load" || task == "upsert" {
		tags = append(tags, "database")
	}
	if t.run.flow%2 == 0 {
		tags = append(tags, "nightly", "etl")
	}
	if tags == nil {
		return []any{}
	}
	return tags
}

func (t *taskRunRow) get(key string) any {
	start, end, state := t.span()
	st := genStates[state]
	switch key {
	case "id":
		return t.id
	case "name":
		return t.name()
	case "flow_run_id":
		return t.run.id
	case "state_type":
		return st.typ
	case "state_name":
		return st.name
	case "start_time", "expected_start_time":
		return t.run.time(start)
	case "end_time":
		return t.run.time(end)
	case "tags":
		return t.tags()
	}
	return t.whole()[key]
}

func (t *taskRunRow) whole() map[string]any {
	start, end, state := t.span()
	st := genStates[state]
	at := start
	if end != noTime {
		at = end
	}
	var msg any
	switch state {
	case stFailed:
		msg = "Task run encountered an exception " + failures[t.run.msg]
	case stCompleted:
		msg = "" // what Prefect 3.8 stores (samples/task_runs_filter.json)
	}
	stateID := nameUUID("large-task-state:" + t.id)
	var runTime float64
	if end != noTime {
		runTime = float64(end - start)
	}
	name := t.name()
	return map[string]any{
		"id": t.id, "created": t.run.time(start - 1), "updated": t.run.time(at), "name": name,
		"flow_run_id": t.run.id, "task_key": t.key(), "dynamic_key": strconv.Itoa(int(t.j)),
		"cache_key": nil, "cache_expiration": nil, "task_version": nil,
		"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0, "retry_delay": 0, "retry_jitter_factor": nil},
		"tags":             t.tags(), "labels": map[string]any{"prefect.flow.id": t.run.ws.flows[t.run.flow].id, "prefect.flow-run.id": t.run.id},
		"state_id": stateID, "task_inputs": map[string]any{},
		"state": map[string]any{"id": stateID, "type": st.typ, "name": st.name, "timestamp": t.run.time(at), "message": msg, "data": nil,
			"state_details": stateDetails(t.run.id, t.id, nil)},
		"state_type": st.typ, "state_name": st.name, "run_count": 1, "flow_run_run_count": 1,
		"expected_start_time": t.run.time(start), "next_scheduled_start_time": nil, "start_time": t.run.time(start),
		"end_time": t.run.time(end), "total_run_time": runTime, "estimated_run_time": runTime, "estimated_start_time_delta": 0.0,
	}
}

// eventKind is what a generated event records.
type eventKind uint8

const (
	evState eventKind = iota // a flow run's state change: run, step
	evTask                   // a task run's state change: task, step
	evBeat                   // a running flow run's heartbeat: run, at
)

// eventRow is a generated event kept compact; its object is built when
// read.
type eventRow struct {
	run  *flowRunRow
	task *taskRunRow
	kind eventKind
	step uint8
	at   int32 // evBeat: seconds from now
	id   string
}

// history lists the states a task run went through, the current one last.
func (t *taskRunRow) history() []genStep {
	start, end, state := t.span()
	steps := []genStep{{stPending, start - 1}, {stRunning, start}}
	if state != stRunning && end != noTime {
		steps = append(steps, genStep{state, end})
	}
	return steps
}

// sec is when the event occurred, seconds from now.
func (e *eventRow) sec() int32 {
	switch e.kind {
	case evTask:
		return e.task.history()[e.step].at
	case evBeat:
		return e.at
	}
	return e.run.history()[e.step].at
}

func (e *eventRow) occurred() string { return e.run.time(e.sec()).(string) }

func (e *eventRow) name() string {
	switch e.kind {
	case evTask:
		return "prefect.task-run." + genStates[e.task.history()[e.step].state].name
	case evBeat:
		return "prefect.flow-run.heartbeat"
	}
	return "prefect.flow-run." + genStates[e.run.history()[e.step].state].name
}

func (e *eventRow) get(key string) any {
	switch key {
	case "id":
		return e.id
	case "occurred", "received":
		return e.occurred()
	case "event":
		return e.name()
	}
	return e.whole()[key]
}

// resourceIDs names the resource and the related resources of whole().
func (e *eventRow) resourceIDs() (string, []string) {
	r := e.run
	if e.kind == evTask {
		related := []string{"prefect.flow-run." + r.id, "prefect.flow." + r.ws.flows[r.flow].id}
		for _, tag := range e.task.tags() {
			related = append(related, "prefect.tag."+tag.(string))
		}
		return "prefect.task-run." + e.task.id, related
	}
	related := []string{"prefect.flow." + r.ws.flows[r.flow].id}
	if d := r.deployment(); d != nil {
		q := r.ws.queues[d.queue]
		related = append(related, "prefect.deployment."+d.id, "prefect.work-queue."+q.id, "prefect.work-pool."+r.ws.pools[q.pool].id)
		for _, tag := range d.runTags {
			related = append(related, "prefect.tag."+tag.(string))
		}
	}
	return "prefect.flow-run." + r.id, related
}

// runRelated is what a flow run's events relate to: its flow, deployment,
// queue, pool and tags.
func (r *flowRunRow) runRelated() []any {
	f := r.ws.flows[r.flow]
	related := []any{resourceRef("flow", f.id, f.name, "flow")}
	if d := r.deployment(); d != nil {
		q := r.ws.queues[d.queue]
		p := r.ws.pools[q.pool]
		related = append(related, resourceRef("deployment", d.id, d.name, "deployment"),
			resourceRef("work-queue", q.id, q.name, "work-queue"), resourceRef("work-pool", p.id, p.name, "work-pool"))
		for _, tag := range d.runTags {
			related = append(related, tagRef(tag))
		}
	}
	return related
}

func (e *eventRow) whole() map[string]any {
	at := e.occurred()
	r := e.run
	switch e.kind {
	case evBeat:
		return map[string]any{
			"occurred": at, "event": "prefect.flow-run.heartbeat",
			"resource": map[string]any{"prefect.resource.id": "prefect.flow-run." + r.id, "prefect.resource.name": r.name(), "prefect.version": "3.8.4"},
			"related":  r.runRelated(), "payload": map[string]any{}, "id": e.id, "follows": nil, "received": at,
		}
	case evTask:
		return e.taskWhole(at)
	}
	hist := r.history()
	st := genStates[hist[e.step].state]
	payload := map[string]any{"validated_state": map[string]any{"type": st.typ, "name": st.name}}
	if e.step > 0 {
		prev := genStates[hist[e.step-1].state]
		payload["initial_state"] = map[string]any{"type": prev.typ, "name": prev.name}
		payload["intended"] = map[string]any{"from": prev.typ, "to": st.typ}
	}
	msg := ""
	if int(e.step) == len(hist)-1 {
		msg, _ = r.message().(string)
	}
	return map[string]any{
		"occurred": at, "event": "prefect.flow-run." + st.name,
		"resource": map[string]any{
			"prefect.resource.id": "prefect.flow-run." + r.id, "prefect.resource.name": r.name(),
			"prefect.run-count": "1", "prefect.state-message": msg, "prefect.state-name": st.name,
			"prefect.state-timestamp": at, "prefect.state-type": st.typ,
		},
		"related": r.runRelated(), "payload": payload, "id": e.id, "follows": nil, "received": at,
	}
}

// taskWhole is a task run's state-change event as the Prefect client sends
// it: the state, and the task run itself in the payload.
func (e *eventRow) taskWhole(at string) map[string]any {
	t, r := e.task, e.run
	hist := t.history()
	st := genStates[hist[e.step].state]
	obj := t.whole()
	msg := ""
	if int(e.step) == len(hist)-1 {
		msg, _ = obj["state"].(map[string]any)["message"].(string)
	}
	var initial, from any
	if e.step > 0 {
		prev := genStates[hist[e.step-1].state]
		initial = map[string]any{"type": prev.typ, "name": prev.name, "message": "", "state_details": map[string]any{}}
		from = prev.typ
	}
	taskRun := map[string]any{"name": obj["name"], "task_key": obj["task_key"], "dynamic_key": obj["dynamic_key"],
		"empirical_policy": obj["empirical_policy"], "tags": obj["tags"], "labels": map[string]any{}, "task_inputs": map[string]any{},
		"run_count": min(int(e.step), 1), "flow_run_run_count": 1, "expected_start_time": obj["expected_start_time"],
		"total_run_time": 0.0}
	if e.step > 0 {
		taskRun["start_time"] = obj["start_time"]
	}
	if e.step == 2 {
		taskRun["end_time"], taskRun["total_run_time"] = obj["end_time"], obj["total_run_time"]
	}
	f := r.ws.flows[r.flow]
	related := []any{resourceRef("flow-run", r.id, r.name(), "flow-run"), resourceRef("flow", f.id, f.name, "flow")}
	for _, tag := range t.tags() {
		related = append(related, tagRef(tag))
	}
	return map[string]any{
		"occurred": at, "event": "prefect.task-run." + st.name,
		"resource": map[string]any{
			"prefect.resource.id": "prefect.task-run." + t.id, "prefect.resource.name": obj["name"],
			"prefect.run-count": strconv.Itoa(min(int(e.step), 1)), "prefect.state-message": msg, "prefect.state-name": st.name,
			"prefect.state-timestamp": at, "prefect.state-type": st.typ, "prefect.orchestration": "client",
		},
		"related": related,
		"payload": map[string]any{
			"intended":        map[string]any{"from": from, "to": st.typ},
			"initial_state":   initial,
			"validated_state": map[string]any{"type": st.typ, "name": st.name, "message": msg, "state_details": map[string]any{}, "data": nil},
			"task_run":        taskRun,
		},
		"id": e.id, "follows": nil, "received": at,
	}
}
