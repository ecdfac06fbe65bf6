package fakeprefect

import (
	"fmt"
	"strings"
	"time"
)

// Names of the demo workspace that tests refer to.
const (
	DemoProcessPool     = "local-process-pool"
	DemoKubernetesPool  = "k8s-pool"
	DemoTagLimit        = "database"
	DemoFullGlobalLimit = "external-api"
	DemoCrashMessage    = "Execution was cancelled by the runtime environment."
)

// DemoID returns the deterministic id of a demo object, e.g.
// DemoID("flow_run", "crimson-falcon") or DemoID("deployment", "etl-hourly").
func DemoID(kind, name string) string { return nameUUID("prefect-mcp-demo:" + kind + ":" + name) }

// demo builds the workspace; every time is relative to now.
type demo struct {
	now  time.Time
	data *Data
	seq  int
}

func (d *demo) at(offset time.Duration) string {
	return d.now.Add(offset).UTC().Format(isoMicros)
}

// Demo returns a realistic workspace: healthy and broken pools, scheduled and
// limited deployments, and flow runs in every state a diagnosis meets, with
// their task runs, logs, events, limits, automations and artifacts.
func Demo(now time.Time) *Data {
	d := &demo{now: now.UTC().Truncate(time.Second), data: NewData()}
	d.data.AsOf = d.now
	d.flows()
	d.pools()
	d.deployments()
	d.limits()
	d.runs()
	d.automations()
	d.artifactsAndVariables()
	return d.data
}

func (d *demo) flows() {
	for i, name := range []string{"etl-pipeline", "always-fails", "report-builder", "parent-flow", "child-flow", "flaky-retry", "nightly-report", "train-model"} {
		ts := d.at(-30*24*time.Hour + time.Duration(i)*time.Minute)
		d.data.Add(Flows, map[string]any{
			"id": DemoID("flow", name), "created": ts, "updated": ts, "name": name, "tags": []any{}, "labels": map[string]any{},
		})
	}
}

func processJobTemplate() map[string]any {
	return map[string]any{
		"job_configuration": map[string]any{
			"command": "{{ command }}", "env": "{{ env }}", "labels": "{{ labels }}", "name": "{{ name }}",
			"stream_output": "{{ stream_output }}", "working_dir": "{{ working_dir }}",
		},
		"variables": map[string]any{"type": "object", "properties": map[string]any{
			"command":       map[string]any{"anyOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "null"}}, "default": nil, "title": "Command"},
			"stream_output": map[string]any{"default": true, "title": "Stream Output", "type": "boolean"},
		}},
	}
}

func (d *demo) pools() {
	created := d.at(-30 * 24 * time.Hour)
	pool := func(name, typ, status, desc string, limit any, active int) {
		d.data.Add(WorkPools, map[string]any{
			"id": DemoID("work_pool", name), "created": created, "updated": d.at(-time.Hour),
			"name": name, "description": desc, "type": typ, "base_job_template": processJobTemplate(),
			"is_paused": false, "concurrency_limit": limit, "status": status,
			"default_queue_id": DemoID("work_queue", name+"/default"),
			"storage_configuration": map[string]any{
				"bundle_upload_step": nil, "bundle_execution_step": nil, "default_result_storage_block_id": nil,
			},
			"active_slots": active,
		})
	}
	pool(DemoProcessPool, "process", "READY", "Process pool served by one local worker", 5, 1)
	pool(DemoKubernetesPool, "kubernetes", "NOT_READY", "Kubernetes pool; its worker has been gone since yesterday", nil, 0)
	queue := func(poolName, name string, priority int, limit any, polled any, status string) {
		d.data.Add(WorkQueues, map[string]any{
			"id": DemoID("work_queue", poolName+"/"+name), "created": created, "updated": created,
			"name": name, "description": name + " queue", "is_paused": false, "concurrency_limit": limit,
			"priority": priority, "work_pool_id": DemoID("work_pool", poolName), "filter": nil,
			"last_polled": polled, "work_pool_name": poolName, "status": status, "active_slots": 0,
		})
	}
	polled := d.at(-10 * time.Second)
	queue(DemoProcessPool, "high-priority", 1, 2, polled, "READY")
	queue(DemoProcessPool, "default", 2, nil, polled, "READY")
	queue(DemoProcessPool, "low-priority", 10, nil, polled, "READY")
	queue(DemoKubernetesPool, "default", 1, nil, d.at(-26*time.Hour), "NOT_READY")
	d.data.Add(Workers, map[string]any{
		"id": DemoID("worker", "process-1"), "created": d.at(-6 * time.Hour), "updated": d.at(-6 * time.Hour),
		"name": "ProcessWorker 3f1d2c4e-8a7b-4c1d-9e2f-5a6b7c8d9e0f", "work_pool_id": DemoID("work_pool", DemoProcessPool),
		"last_heartbeat_time": d.at(-12 * time.Second), "heartbeat_interval_seconds": 30, "status": "ONLINE",
	})
}

func (d *demo) deployment(name, flow, pool, queue string, schedule map[string]any, paused bool, tags []any, gcl map[string]any) {
	id := DemoID("deployment", name)
	created := d.at(-20 * 24 * time.Hour)
	schedules := []any{}
	if schedule != nil {
		schedules = append(schedules, map[string]any{
			"id": DemoID("schedule", name), "created": created, "updated": created, "deployment_id": id,
			"schedule": schedule, "active": !paused, "max_scheduled_runs": nil, "parameters": map[string]any{}, "slug": nil,
		})
	}
	status := "READY"
	if pool == DemoKubernetesPool {
		status = "NOT_READY"
	}
	var gclValue any
	if gcl != nil {
		gclValue = gcl
	}
	d.data.Add(Deployments, map[string]any{
		"id": id, "created": created, "updated": d.at(-24 * time.Hour), "name": name, "version": "1.4.2",
		"description": "Demo deployment " + name, "flow_id": DemoID("flow", flow), "paused": paused,
		"schedules": schedules, "concurrency_limit": nil, "global_concurrency_limit": gclValue,
		"concurrency_options": nil, "job_variables": map[string]any{}, "parameters": map[string]any{},
		"tags": tags, "labels": map[string]any{"prefect.flow.id": DemoID("flow", flow)},
		"work_queue_name": queue, "work_queue_id": DemoID("work_queue", pool+"/"+queue),
		"last_polled":              d.at(-10 * time.Second),
		"parameter_openapi_schema": map[string]any{"title": "Parameters", "type": "object", "properties": map[string]any{}, "definitions": map[string]any{}},
		"path":                     "/opt/app/flows", "pull_steps": []any{}, "entrypoint": "flows.py:" + strings.ReplaceAll(flow, "-", "_"),
		"storage_document_id": nil, "infrastructure_document_id": nil, "created_by": nil, "updated_by": nil,
		"work_pool_name": pool, "status": status, "enforce_parameter_schema": true,
	})
}

func (d *demo) deploymentLimit() map[string]any {
	id := DemoID("deployment", "etl-hourly")
	return map[string]any{
		"id": DemoID("v2_limit", "deployment:"+id), "created": d.at(-20 * 24 * time.Hour), "updated": d.at(-5 * time.Minute),
		"active": true, "name": "deployment:" + id, "limit": 1, "active_slots": 1, "slot_decay_per_second": 0.0,
	}
}

func (d *demo) deployments() {
	d.deployment("etl-hourly", "etl-pipeline", DemoProcessPool, "default",
		map[string]any{"interval": 3600.0, "anchor_date": d.at(-20 * 24 * time.Hour), "timezone": "UTC"},
		false, []any{"etl"}, d.deploymentLimit())
	d.deployment("nightly", "nightly-report", DemoProcessPool, "high-priority",
		map[string]any{"cron": "0 2 * * *", "timezone": "UTC", "day_or": true}, false, []any{"reporting"}, nil)
	d.deployment("weekly-report", "report-builder", DemoProcessPool, "low-priority",
		map[string]any{"rrule": "DTSTART:20260105T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9", "timezone": "UTC"},
		true, []any{"reporting"}, nil)
	d.deployment("train-every-15m", "train-model", DemoKubernetesPool, "default",
		map[string]any{"cron": "*/15 * * * *", "timezone": "UTC", "day_or": true}, false, []any{"ml"}, nil)
	d.deployment("backfill", "etl-pipeline", DemoProcessPool, "low-priority", nil, false, []any{"etl", "backfill"}, nil)
}

func (d *demo) limits() {
	created := d.at(-20 * 24 * time.Hour)
	tagID := DemoID("v2_limit", "tag:"+DemoTagLimit)
	d.data.Add(ConcurrencyLimits, map[string]any{
		"id": tagID, "created": created, "updated": d.at(-2 * time.Minute), "tag": DemoTagLimit,
		"concurrency_limit": 1, "active_slots": []any{DemoID("task_run", "swift-ibis/load")},
	})
	d.data.Add(V2ConcurrencyLimits, d.deploymentLimit())
	for _, l := range []struct {
		name          string
		limit, active int
		decay         float64
	}{{DemoFullGlobalLimit, 5, 5, 0.5}, {"tag:" + DemoTagLimit, 1, 1, 0}, {"warehouse-writes", 2, 0, 0}} {
		d.data.Add(V2ConcurrencyLimits, map[string]any{
			"id": DemoID("v2_limit", l.name), "created": created, "updated": d.at(-2 * time.Minute),
			"active": true, "name": l.name, "limit": l.limit, "active_slots": l.active, "slot_decay_per_second": l.decay,
		})
	}
}

// stateDetails is the full StateDetails shape Prefect 3.8 returns.
func stateDetails(flowRunID, taskRunID string, extra map[string]any) map[string]any {
	sd := map[string]any{
		"flow_run_id": flowRunID, "task_run_id": nilIfEmpty(taskRunID), "child_flow_run_id": nil,
		"scheduled_time": nil, "cache_key": nil, "cache_expiration": nil, "deferred": false,
		"untrackable_result": false, "pause_timeout": nil, "pause_reschedule": false, "pause_key": nil,
		"run_input_keyset": nil, "refresh_cache": nil, "retriable": nil, "transition_id": nil,
		"task_parameters_id": nil, "traceparent": nil, "deployment_concurrency_lease_id": nil,
	}
	for k, v := range extra {
		sd[k] = v
	}
	return sd
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// step is one state in a run's history.
type step struct {
	typ, name, msg string
	at             time.Duration
	details        map[string]any
}

// runSpec describes a demo flow run.
type runSpec struct {
	name, flow, deployment, pool, queue string
	expected                            time.Duration
	steps                               []step
	tags                                []any
	runCount, retries                   int
	parentTask                          string
	createdBy                           map[string]any
	tasks                               []taskSpec
	logs                                []logSpec
}

type taskSpec struct {
	name     string
	steps    []step
	tags     []any
	runCount int
	child    string // name of the subflow run this task tracks
}

type logSpec struct {
	level int
	msg   string
	at    time.Duration
	task  string
}

const pythonTraceback = "" +
	"Encountered exception during execution:" + "\n" +
	"Traceback (most recent call last):" + "\n" +
	`  File "/opt/prefect/flow_engine.py", line 1372, in run_context` + "\n" +
	"    yield self" + "\n" +
	`  File "/opt/prefect/flow_engine.py", line 1445, in run_flow_sync` + "\n" +
	"    engine.call_flow_fn()" + "\n" +
	`  File "/opt/app/flows/flows.py", line 42, in always_fails` + "\n" +
	"    validate(rows)" + "\n" +
	`  File "/opt/app/flows/flows.py", line 18, in validate` + "\n" +
	`    raise ValueError(f"Row value above threshold 10: max={max(rows)}")` + "\n" +
	"ValueError: Row value above threshold 10: max=14"

func (d *demo) state(runID, taskID string, s step) map[string]any {
	var msg any
	if s.msg != "" {
		msg = s.msg
	}
	id := DemoID("state", fmt.Sprintf("%s/%s/%s/%d", runID, taskID, s.name, s.at))
	return map[string]any{
		"id": id, "type": s.typ, "name": s.name, "timestamp": d.at(s.at), "message": msg, "data": nil,
		"state_details": stateDetails(runID, taskID, s.details),
	}
}

func (d *demo) addRun(r runSpec) {
	id := DemoID("flow_run", r.name)
	var states []map[string]any
	var start, end any
	for _, s := range r.steps {
		st := d.state(id, "", s)
		states = append(states, st)
		if s.typ == "RUNNING" && start == nil {
			start = st["timestamp"]
		}
		if isTerminal(s.typ) {
			end = st["timestamp"]
		}
	}
	d.data.Add(FlowRunStates, states...)
	final := states[len(states)-1]
	var runTime float64
	if s, ok := parseTime(start); ok {
		e, ok := parseTime(end)
		if !ok {
			e = d.now
		}
		runTime = e.Sub(s).Seconds()
	}
	var depID, queueID, queueName, poolID, poolName any
	labels := map[string]any{"prefect.flow.id": DemoID("flow", r.flow)}
	if r.deployment != "" {
		depID = DemoID("deployment", r.deployment)
		queueID, queueName = DemoID("work_queue", r.pool+"/"+r.queue), r.queue
		poolID, poolName = DemoID("work_pool", r.pool), r.pool
		labels["prefect.deployment.id"] = depID
	}
	var next any
	if final["type"] == "SCHEDULED" {
		next = d.at(r.expected)
		if t, ok := lookup(final, "state_details", "scheduled_time").(string); ok {
			next = t
		}
	}
	tags := r.tags
	if tags == nil {
		tags = []any{}
	}
	d.data.Add(FlowRuns, map[string]any{
		"id": id, "created": d.at(r.expected - time.Minute), "updated": final["timestamp"], "name": r.name,
		"flow_id": DemoID("flow", r.flow), "deployment_id": depID, "deployment_version": nil,
		"work_queue_id": queueID, "work_queue_name": queueName, "flow_version": "3beb3867189798a411efa3f5670d279a",
		"parameters": map[string]any{}, "idempotency_key": nil, "context": map[string]any{},
		"empirical_policy": map[string]any{
			"max_retries": 0, "retry_delay_seconds": 0.0, "retries": r.retries, "retry_delay": 5,
			"pause_keys": []any{}, "resuming": false, "retry_type": nil,
		},
		"tags": tags, "labels": labels, "parent_task_run_id": nilIfEmpty(r.parentTask),
		"state": final, "run_count": r.runCount, "expected_start_time": d.at(r.expected),
		"next_scheduled_start_time": next, "start_time": start, "end_time": end,
		"total_run_time": runTime, "estimated_run_time": runTime, "estimated_start_time_delta": 0.0,
		"auto_scheduled": r.deployment != "" && r.createdBy == nil, "infrastructure_document_id": nil,
		"infrastructure_pid": nil, "created_by": r.createdBy, "work_pool_id": poolID, "work_pool_name": poolName,
		"job_variables": map[string]any{},
	})
	for _, t := range r.tasks {
		d.addTask(id, r, t)
	}
	for _, l := range r.logs {
		taskID := ""
		name := "prefect.flow_runs"
		if l.task != "" {
			taskID, name = DemoID("task_run", r.name+"/"+l.task), "prefect.task_runs"
		}
		d.seq++
		d.data.Add(Logs, map[string]any{
			"id": DemoID("log", fmt.Sprintf("%s/%d", r.name, d.seq)), "created": d.at(l.at), "updated": d.at(l.at),
			"name": name, "level": l.level, "message": l.msg, "timestamp": d.at(l.at),
			"flow_run_id": id, "task_run_id": nilIfEmpty(taskID),
		})
	}
	d.runEvents(r, id, states)
}

func isTerminal(typ string) bool {
	switch typ {
	case "COMPLETED", "FAILED", "CANCELLED", "CRASHED":
		return true
	}
	return false
}

func (d *demo) addTask(flowRunID string, r runSpec, t taskSpec) {
	id := DemoID("task_run", r.name+"/"+t.name)
	var states []map[string]any
	var start, end any
	for _, s := range t.steps {
		if t.child != "" {
			s.details = map[string]any{"child_flow_run_id": DemoID("flow_run", t.child), "untrackable_result": true}
		}
		st := d.state(flowRunID, id, s)
		states = append(states, st)
		if s.typ == "RUNNING" && start == nil {
			start = st["timestamp"]
		}
		if isTerminal(s.typ) {
			end = st["timestamp"]
		}
	}
	d.data.Add(TaskRunStates, states...)
	final := states[len(states)-1]
	var runTime float64
	if s, ok := parseTime(start); ok {
		if e, ok := parseTime(end); ok {
			runTime = e.Sub(s).Seconds()
		}
	}
	tags := t.tags
	if tags == nil {
		tags = []any{}
	}
	runCount := t.runCount
	if runCount == 0 && start != nil {
		runCount = 1
	}
	d.data.Add(TaskRuns, map[string]any{
		"id": id, "created": states[0]["timestamp"], "updated": final["timestamp"], "name": t.name + "-0",
		"flow_run_id": flowRunID, "task_key": t.name + "-5f1c2a9b", "dynamic_key": "0", "cache_key": nil,
		"cache_expiration": nil, "task_version": nil,
		"empirical_policy": map[string]any{
			"max_retries": 0, "retry_delay_seconds": 0.0, "retries": max(runCount-1, 0), "retry_delay": 0, "retry_jitter_factor": nil,
		},
		"tags": tags, "labels": map[string]any{"prefect.flow.id": DemoID("flow", r.flow), "prefect.flow-run.id": flowRunID},
		"state_id": final["id"], "task_inputs": map[string]any{}, "state": final, "run_count": runCount,
		"flow_run_run_count": 1, "expected_start_time": states[0]["timestamp"], "next_scheduled_start_time": nil,
		"start_time": start, "end_time": end, "total_run_time": runTime, "estimated_run_time": runTime,
		"estimated_start_time_delta": 0.0,
	})
}

// resourceRef is a related resource of an event.
func resourceRef(kind, id, name, role string) map[string]any {
	return map[string]any{
		"prefect.resource.id": "prefect." + kind + "." + id, "prefect.resource.role": role, "prefect.resource.name": name,
	}
}

// tagRef is a related tag: Prefect gives it no name.
func tagRef(tag any) map[string]any {
	return map[string]any{"prefect.resource.id": "prefect.tag." + tag.(string), "prefect.resource.role": "tag"}
}

func (d *demo) runEvents(r runSpec, id string, states []map[string]any) {
	related := []any{resourceRef("flow", DemoID("flow", r.flow), r.flow, "flow")}
	if r.deployment != "" {
		related = append(related,
			resourceRef("deployment", DemoID("deployment", r.deployment), r.deployment, "deployment"),
			resourceRef("work-queue", DemoID("work_queue", r.pool+"/"+r.queue), r.queue, "work-queue"),
			resourceRef("work-pool", DemoID("work_pool", r.pool), r.pool, "work-pool"))
	}
	for _, tag := range r.tags {
		related = append(related, tagRef(tag))
	}
	var prev any
	for i, st := range states {
		msg, _ := st["message"].(string)
		eventID := DemoID("event", fmt.Sprintf("%s/%d/%s", r.name, i, st["name"]))
		payload := map[string]any{"validated_state": map[string]any{"type": st["type"], "name": st["name"]}}
		if i > 0 {
			payload["initial_state"] = map[string]any{"type": states[i-1]["type"], "name": states[i-1]["name"]}
			payload["intended"] = map[string]any{"from": states[i-1]["type"], "to": st["type"]}
		}
		d.data.Add(Events, map[string]any{
			"occurred": st["timestamp"], "event": "prefect.flow-run." + str(st, "name"),
			"resource": map[string]any{
				"prefect.resource.id": "prefect.flow-run." + id, "prefect.resource.name": r.name,
				"prefect.run-count": fmt.Sprint(r.runCount), "prefect.state-message": msg,
				"prefect.state-name": st["name"], "prefect.state-timestamp": st["timestamp"], "prefect.state-type": st["type"],
			},
			"related": related, "payload": payload, "id": eventID, "follows": prev, "received": st["timestamp"],
		})
		prev = eventID
	}
}

func (d *demo) runs() {
	m, h := time.Minute, time.Hour
	completed := func(at time.Duration) []step {
		return []step{{typ: "SCHEDULED", name: "Scheduled", at: at - 2*m}, {typ: "PENDING", name: "Pending", at: at - m},
			{typ: "RUNNING", name: "Running", at: at - 50*time.Second}, {typ: "COMPLETED", name: "Completed", at: at}}
	}
	taskDone := func(at time.Duration) []step {
		return []step{{typ: "PENDING", name: "Pending", at: at - 10*time.Second}, {typ: "RUNNING", name: "Running", at: at - 8*time.Second},
			{typ: "COMPLETED", name: "Completed", at: at}}
	}
	taskFailed := func(at time.Duration, msg string) []step {
		return []step{{typ: "PENDING", name: "Pending", at: at - 10*time.Second}, {typ: "RUNNING", name: "Running", at: at - 8*time.Second},
			{typ: "FAILED", name: "Failed", msg: msg, at: at}}
	}
	etl := func(name string, at time.Duration, s []step, tasks []taskSpec, logs []logSpec) runSpec {
		return runSpec{name: name, flow: "etl-pipeline", deployment: "etl-hourly", pool: DemoProcessPool, queue: "default",
			expected: at - 2*m, steps: s, tags: []any{"etl"}, runCount: 1, tasks: tasks, logs: logs}
	}
	failMsg := "Flow run encountered an exception: ValueError: Row value above threshold 10: max=14"

	d.addRun(etl("amber-otter", -2*h, completed(-2*h), []taskSpec{
		{name: "extract", steps: taskDone(-2*h - 40*time.Second)}, {name: "transform", steps: taskDone(-2*h - 20*time.Second)},
		{name: "load", steps: taskDone(-2 * h), tags: []any{DemoTagLimit}},
	}, []logSpec{
		{10, "Resolved 3 tasks for etl-pipeline", -2*h - 50*time.Second, ""},
		{20, "Beginning flow run 'amber-otter' for flow 'etl-pipeline'", -2*h - 50*time.Second, ""},
		{20, "Loaded 500 rows into analytics.events", -2 * h, "load"},
		{20, "Finished in state Completed()", -2 * h, ""},
	}))
	d.addRun(etl("brisk-heron", -h, completed(-h), nil, []logSpec{
		{30, "Source table analytics.raw_events is 45 minutes stale", -h - 30*time.Second, ""},
		{20, "Finished in state Completed()", -h, ""},
	}))
	d.addRun(runSpec{name: "crimson-falcon", flow: "always-fails", expected: -90 * m, runCount: 1,
		steps: []step{{typ: "PENDING", name: "Pending", at: -90 * m}, {typ: "RUNNING", name: "Running", at: -90*m + 2*time.Second},
			{typ: "FAILED", name: "Failed", msg: failMsg, at: -90*m + 5*time.Second, details: map[string]any{"retriable": false}}},
		tasks: []taskSpec{{name: "validate", steps: taskFailed(-90*m+4*time.Second, "Task run encountered an exception ValueError: Row value above threshold 10: max=14")}},
		logs: []logSpec{
			{20, "Beginning flow run 'crimson-falcon' for flow 'always-fails'", -90*m + 2*time.Second, ""},
			{40, "Task run failed with exception: ValueError('Row value above threshold 10: max=14') - Retries are exhausted\n" + pythonTraceback, -90*m + 4*time.Second, "validate"},
			{40, pythonTraceback, -90*m + 5*time.Second, ""},
			{40, "Finished in state Failed('" + failMsg + "')", -90*m + 5*time.Second, ""},
		}})
	d.addRun(runSpec{name: "gentle-lynx", flow: "report-builder", deployment: "weekly-report", pool: DemoProcessPool, queue: "low-priority",
		expected: -80 * m, runCount: 1, tags: []any{"reporting"},
		steps: []step{{typ: "PENDING", name: "Pending", at: -80 * m}, {typ: "RUNNING", name: "Running", at: -80*m + time.Second},
			{typ: "FAILED", name: "Failed", msg: "1/4 states failed.", at: -80*m + 30*time.Second}},
		tasks: []taskSpec{
			{name: "fetch-sales", steps: taskDone(-80*m + 10*time.Second)}, {name: "fetch-costs", steps: taskDone(-80*m + 12*time.Second)},
			{name: "render-chart", steps: taskFailed(-80*m+20*time.Second, "Task run encountered an exception KeyError: 'region'")},
			{name: "publish", steps: taskDone(-80*m + 29*time.Second)},
		},
		logs: []logSpec{{40, "Task run failed with exception: KeyError('region') - Retries are exhausted\nTraceback (most recent call last):\n  File \"/opt/app/flows/report.py\", line 31, in render_chart\n    by_region = totals[\"region\"]\nKeyError: 'region'", -80*m + 20*time.Second, "render-chart"}}})
	d.addRun(runSpec{name: "patient-badger", flow: "flaky-retry", expected: -70 * m, runCount: 3, retries: 2,
		steps: []step{{typ: "PENDING", name: "Pending", at: -70 * m}, {typ: "RUNNING", name: "Running", at: -70*m + time.Second},
			{typ: "SCHEDULED", name: "AwaitingRetry", msg: "Retry 1/2 will start 5 second(s) from now", at: -70*m + 3*time.Second},
			{typ: "RUNNING", name: "Retrying", at: -70*m + 8*time.Second},
			{typ: "SCHEDULED", name: "AwaitingRetry", msg: "Retry 2/2 will start 5 second(s) from now", at: -70*m + 10*time.Second},
			{typ: "RUNNING", name: "Retrying", at: -70*m + 15*time.Second},
			{typ: "COMPLETED", name: "Completed", at: -70*m + 17*time.Second}},
		logs: []logSpec{
			{30, "Encountered exception during execution: ConnectionError('upstream API timed out')\nRetry 1/2 will start 5 second(s) from now", -70*m + 3*time.Second, ""},
			{30, "Encountered exception during execution: ConnectionError('upstream API timed out')\nRetry 2/2 will start 5 second(s) from now", -70*m + 10*time.Second, ""},
			{20, "Finished in state Completed()", -70*m + 17*time.Second, ""},
		}})
	for i, name := range []string{"sleepy-walrus", "drowsy-koala", "idle-tapir"} {
		at := -time.Duration(40-15*i) * m
		d.addRun(runSpec{name: name, flow: "train-model", deployment: "train-every-15m", pool: DemoKubernetesPool, queue: "default",
			expected: at, tags: []any{"ml", "auto-scheduled"},
			steps: []step{{typ: "SCHEDULED", name: "Scheduled", msg: "Flow run scheduled", at: at - h, details: map[string]any{"scheduled_time": d.at(at)}},
				{typ: "SCHEDULED", name: "Late", at: at + 15*time.Second, details: map[string]any{"scheduled_time": d.at(at)}}}})
	}
	d.addRun(runSpec{name: "waiting-newt", flow: "etl-pipeline", deployment: "etl-hourly", pool: DemoProcessPool, queue: "default",
		expected: -5 * m, tags: []any{"etl"},
		steps: []step{{typ: "SCHEDULED", name: "Scheduled", at: -h, details: map[string]any{"scheduled_time": d.at(-5 * m)}},
			{typ: "SCHEDULED", name: "AwaitingConcurrencySlot", at: -30 * time.Second, details: map[string]any{"scheduled_time": d.at(30 * time.Second)}}}})
	d.addRun(runSpec{name: "quiet-mole", flow: "nightly-report", deployment: "nightly", pool: DemoProcessPool, queue: "high-priority",
		expected: -10 * h, runCount: 1, tags: []any{"reporting"},
		steps: []step{{typ: "RUNNING", name: "Running", at: -10 * h}, {typ: "CANCELLING", name: "Cancelling", at: -10*h + 20*m},
			{typ: "CANCELLED", name: "Cancelled", msg: "Flow run was cancelled by demo.user@example.com from the UI.", at: -10*h + 21*m}}})
	d.addRun(runSpec{name: "stuck-gecko", flow: "etl-pipeline", deployment: "backfill", pool: DemoProcessPool, queue: "low-priority",
		expected: -4 * h, runCount: 1, tags: []any{"etl", "backfill"},
		createdBy: map[string]any{"id": DemoID("automation", "backfill-on-sync-failure"), "type": "AUTOMATION", "display_value": "backfill-on-sync-failure"},
		steps: []step{{typ: "RUNNING", name: "Running", at: -4 * h}, {typ: "CANCELLING", name: "Cancelling", at: -2 * h},
			{typ: "CANCELLED", name: "Cancelled", msg: "Cancelled by automation 'cancel-long-runs': run exceeded 2h", at: -2*h + 5*time.Second}}})
	d.addRun(etl("frozen-yak", -30*m, []step{{typ: "PENDING", name: "Pending", at: -40 * m}, {typ: "RUNNING", name: "Running", at: -39 * m},
		{typ: "CRASHED", name: "Crashed", msg: DemoCrashMessage, at: -30 * m}},
		[]taskSpec{{name: "extract", steps: taskDone(-35 * m)}},
		[]logSpec{
			{20, "Beginning flow run 'frozen-yak' for flow 'etl-pipeline'", -39 * m, ""},
			{40, "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation.\nprefect.exceptions.ObjectNotFound: 410 Gone: lease 6c1f2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f not found", -30*m - 2*time.Second, ""},
			{50, "Crash detected! " + DemoCrashMessage, -30 * m, ""},
		}))
	d.addRun(etl("swift-ibis", -3*m, []step{{typ: "PENDING", name: "Pending", at: -4 * m}, {typ: "RUNNING", name: "Running", at: -3 * m}},
		[]taskSpec{
			{name: "extract", steps: taskDone(-2 * m)},
			{name: "load", steps: []step{{typ: "RUNNING", name: "Running", at: -90 * time.Second}}, tags: []any{DemoTagLimit}},
			{name: "load-archive", steps: []step{{typ: "PENDING", name: "Pending", at: -80 * time.Second}}, tags: []any{DemoTagLimit}},
		},
		[]logSpec{{10, "Acquired slot on concurrency limit tag:database", -90 * time.Second, "load"},
			{20, "Waiting for a slot on tag concurrency limit 'database' (1/1 in use)", -80 * time.Second, "load-archive"}}))
	d.addRun(runSpec{name: "eager-puffin", flow: "nightly-report", deployment: "nightly", pool: DemoProcessPool, queue: "high-priority",
		expected: -time.Minute, tags: []any{"reporting"},
		steps: []step{{typ: "SCHEDULED", name: "Scheduled", at: -h}, {typ: "PENDING", name: "Pending", at: -20 * time.Second}}})
	d.addRun(runSpec{name: "still-heron", flow: "report-builder", expected: -25 * m, runCount: 1,
		steps: []step{{typ: "RUNNING", name: "Running", at: -25 * m},
			{typ: "PAUSED", name: "Paused", at: -24 * m, details: map[string]any{"pause_timeout": d.at(36 * m), "pause_key": "approve-publish", "pause_reschedule": false}}},
		logs: []logSpec{{20, "Pausing flow, execution will continue when this flow run is resumed.", -24 * m, ""}}})
	d.addRun(runSpec{name: "proud-walrus", flow: "parent-flow", expected: -50 * m, runCount: 1,
		steps: []step{{typ: "PENDING", name: "Pending", at: -50 * m}, {typ: "RUNNING", name: "Running", at: -50*m + time.Second},
			{typ: "FAILED", name: "Failed", msg: "Flow run encountered an exception: RuntimeError: child-flow failed: upstream file missing", at: -50*m + 20*time.Second}},
		tasks: []taskSpec{{name: "child-flow", child: "tiny-crab", steps: taskFailed(-50*m+19*time.Second, "Flow run encountered an exception: RuntimeError: upstream file missing")}},
		logs:  []logSpec{{40, "Encountered exception during execution:\nTraceback (most recent call last):\n  File \"/opt/app/flows/parent.py\", line 12, in parent_flow\n    child_flow()\nRuntimeError: child-flow failed: upstream file missing", -50*m + 20*time.Second, ""}}})
	d.addRun(runSpec{name: "tiny-crab", flow: "child-flow", expected: -50*m + 2*time.Second, runCount: 1,
		parentTask: DemoID("task_run", "proud-walrus/child-flow"),
		steps: []step{{typ: "PENDING", name: "Pending", at: -50*m + 2*time.Second}, {typ: "RUNNING", name: "Running", at: -50*m + 3*time.Second},
			{typ: "FAILED", name: "Failed", msg: "Flow run encountered an exception: RuntimeError: upstream file missing", at: -50*m + 18*time.Second}},
		logs: []logSpec{{40, "Encountered exception during execution:\nTraceback (most recent call last):\n  File \"/opt/app/flows/child.py\", line 8, in child_flow\n    raise RuntimeError(\"upstream file missing\")\nRuntimeError: upstream file missing", -50*m + 18*time.Second, ""}}})
	d.addRun(runSpec{name: "future-lemur", flow: "etl-pipeline", deployment: "etl-hourly", pool: DemoProcessPool, queue: "default",
		expected: 55 * m, tags: []any{"etl", "auto-scheduled"},
		steps: []step{{typ: "SCHEDULED", name: "Scheduled", msg: "Flow run scheduled", at: -5 * m, details: map[string]any{"scheduled_time": d.at(55 * m)}}}})
	d.otherEvents()
}

func (d *demo) otherEvents() {
	poolID := DemoID("work_pool", DemoProcessPool)
	for i := range 3 {
		at := -time.Duration(12+30*i) * time.Second
		d.data.Add(Events, map[string]any{
			"occurred": d.at(at), "event": "prefect.worker.heartbeat",
			"resource": map[string]any{
				"prefect.resource.id":   "prefect.worker.process.3f1d2c4e-8a7b-4c1d-9e2f-5a6b7c8d9e0f",
				"prefect.resource.name": "ProcessWorker 3f1d2c4e-8a7b-4c1d-9e2f-5a6b7c8d9e0f", "prefect.version": "3.8.4", "prefect.worker-type": "process",
			},
			"related": []any{resourceRef("work-pool", poolID, DemoProcessPool, "work-pool")},
			"payload": map[string]any{}, "id": DemoID("event", fmt.Sprintf("heartbeat/%d", i)), "follows": nil, "received": d.at(at),
		})
	}
	d.data.Add(Events, map[string]any{
		"occurred": d.at(-26 * time.Hour), "event": "prefect.work-pool.not-ready",
		"resource": map[string]any{
			"prefect.resource.id": "prefect.work-pool." + DemoID("work_pool", DemoKubernetesPool), "prefect.resource.name": DemoKubernetesPool,
			"prefect.work-pool.type": "kubernetes",
		},
		"related": []any{}, "payload": map[string]any{}, "id": DemoID("event", "k8s-not-ready"), "follows": nil, "received": d.at(-26 * time.Hour),
	})
}

func (d *demo) automation(name, desc string, trigger map[string]any, actions []any) {
	id := DemoID("automation", name)
	trigger["id"] = DemoID("trigger", name)
	trigger["type"] = "event"
	for k, v := range map[string]any{"match": map[string]any{"prefect.resource.id": "prefect.flow-run.*"}, "match_related": map[string]any{},
		"after": []any{}, "for_each": []any{}, "threshold": 1, "within": 0.0} {
		if _, ok := trigger[k]; !ok {
			trigger[k] = v
		}
	}
	d.data.Add(Automations, map[string]any{
		"name": name, "description": desc, "enabled": true, "tags": []any{}, "trigger": trigger, "actions": actions,
		"actions_on_trigger": []any{}, "actions_on_resolve": []any{}, "id": id,
		"created": d.at(-15 * 24 * time.Hour), "updated": d.at(-15 * 24 * time.Hour),
	})
}

func (d *demo) automations() {
	etl := DemoID("deployment", "etl-hourly")
	d.automation("pause-etl-after-3-failures", "Pause etl-hourly when 3 of its runs fail within 10 minutes",
		map[string]any{"expect": []any{"prefect.flow-run.Failed"}, "posture": "Reactive", "threshold": 3, "within": 600.0,
			"match_related": map[string]any{"prefect.resource.id": "prefect.deployment." + etl}},
		[]any{map[string]any{"type": "pause-deployment", "source": "selected", "deployment_id": etl}})
	d.automation("nightly-report-missing", "Alert when the nightly report has not completed within 26 hours",
		map[string]any{"expect": []any{"prefect.flow-run.Completed"}, "posture": "Proactive", "within": 93600.0,
			"match_related": map[string]any{"prefect.resource.id": "prefect.deployment." + DemoID("deployment", "nightly")}},
		[]any{map[string]any{"type": "do-nothing"}})
	d.automation("backfill-on-sync-failure", "Run the backfill deployment when an ETL run crashes",
		map[string]any{"expect": []any{"prefect.flow-run.Crashed"}, "posture": "Reactive"},
		[]any{map[string]any{"type": "run-deployment", "source": "selected", "deployment_id": DemoID("deployment", "backfill"),
			"parameters": map[string]any{"batch_size": "500"}, "job_variables": nil}})
	d.automation("cancel-long-runs", "Cancel runs that stay Running for more than 2 hours",
		map[string]any{"expect": []any{"prefect.flow-run.Completed", "prefect.flow-run.Failed"}, "after": []any{"prefect.flow-run.Running"},
			"posture": "Proactive", "within": 7200.0, "for_each": []any{"prefect.resource.id"}},
		[]any{map[string]any{"type": "cancel-flow-run"}})

	crash := DemoID("event", "frozen-yak/2/Crashed")
	auto := func(name, event string, at time.Duration, payload map[string]any, related []any) {
		id := DemoID("automation", name)
		d.data.Add(Events, map[string]any{
			"occurred": d.at(at), "event": event,
			"resource": map[string]any{"prefect.resource.id": "prefect.automation." + id, "prefect.resource.name": name,
				"prefect.trigger-type": "event", "prefect.posture": "Reactive"},
			"related": related, "payload": payload, "id": DemoID("event", name+"/"+event), "follows": nil, "received": d.at(at),
		})
	}
	triggered := []any{map[string]any{"prefect.resource.id": "prefect.event." + crash, "prefect.resource.role": "triggering-event"}}
	auto("backfill-on-sync-failure", "prefect.automation.triggered", -30*time.Minute+time.Second,
		map[string]any{"triggering_labels": map[string]any{}, "triggering_event": map[string]any{"event": "prefect.flow-run.Crashed", "id": crash}}, triggered)
	auto("backfill-on-sync-failure", "prefect.automation.action.triggered", -30*time.Minute+2*time.Second,
		map[string]any{"action_index": 0, "action_type": "run-deployment", "invocation": DemoID("invocation", "backfill")}, triggered)
	reason := "Error creating flow run: Validation failed for field 'batch_size'. Failure reason: '500' is not of type 'integer'"
	auto("backfill-on-sync-failure", "prefect.automation.action.failed", -30*time.Minute+3*time.Second,
		map[string]any{"action_index": 0, "action_type": "run-deployment", "invocation": DemoID("invocation", "backfill"),
			"reason": "Validation error occurred for 'run-deployment' - " + reason, "validation_error": reason, "status_code": 409},
		append([]any{map[string]any{"prefect.resource.id": "prefect.deployment." + DemoID("deployment", "backfill"), "prefect.resource.role": "target"}}, triggered...))
}

func (d *demo) artifactsAndVariables() {
	run := DemoID("flow_run", "amber-otter")
	art := func(key, typ, desc string, data any, at time.Duration, flowRun string) {
		d.data.Add(Artifacts, map[string]any{
			"id": DemoID("artifact", key+"/"+typ), "created": d.at(at), "updated": d.at(at), "key": nilIfEmpty(key),
			"type": typ, "description": desc, "data": data, "metadata_": nil, "flow_run_id": flowRun, "task_run_id": nil,
		})
	}
	art("etl-report", "markdown", "Summary of the last ETL run", "# ETL report\n\nLoaded **500** rows into `analytics.events`.", -2*time.Hour, run)
	art("row-counts", "table", "Rows per table", `[{"table": "events", "rows": 500}, {"table": "users", "rows": 42}]`, -2*time.Hour, run)
	art("dashboard", "link", "Live dashboard", "https://dashboards.example.com/etl", -2*time.Hour, run)
	art("", "progress", "Training progress", 62.5, -3*time.Minute, DemoID("flow_run", "swift-ibis"))
	for i, v := range []struct {
		name  string
		value any
	}{{"environment", "production"}, {"etl_config", map[string]any{"batch_size": 500, "retries": 3}}} {
		at := d.at(-10*24*time.Hour + time.Duration(i)*time.Minute)
		d.data.Add(Variables, map[string]any{
			"id": DemoID("variable", v.name), "created": at, "updated": at, "name": v.name, "value": v.value, "tags": []any{},
		})
	}
}
