package tools_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// dgWorld builds small dedicated workspaces for the diagnosis scenarios,
// shaped like the captured Prefect 3.8 samples; times are relative to now.
type dgWorld struct {
	d *prefecttest.Data
}

func newDgWorld() *dgWorld {
	d := prefecttest.NewData()
	d.AsOf = now
	return &dgWorld{d: d}
}

func dgID(kind, name string) string { return prefecttest.DemoID("scn-"+kind, name) }

func dgAt(off time.Duration) string { return now.Add(off).UTC().Format("2006-01-02T15:04:05.000000Z") }

func (w *dgWorld) env(t *testing.T) *env {
	t.Helper()
	return newEnv(t, prefecttest.WithData(w.d))
}

func (w *dgWorld) flow(name string) {
	w.d.Add(prefecttest.Flows, map[string]any{"id": dgID("flow", name), "created": dgAt(-720 * time.Hour), "updated": dgAt(-720 * time.Hour),
		"name": name, "tags": []any{}, "labels": map[string]any{}})
}

func (w *dgWorld) pool(name, status string, paused bool, limit any) {
	w.d.Add(prefecttest.WorkPools, map[string]any{
		"id": dgID("pool", name), "created": dgAt(-720 * time.Hour), "updated": dgAt(-time.Hour), "name": name,
		"description": name + " pool", "type": "process", "base_job_template": map[string]any{}, "is_paused": paused,
		"concurrency_limit": limit, "status": status, "default_queue_id": dgID("queue", name+"/default"),
		"storage_configuration": map[string]any{"bundle_upload_step": nil, "bundle_execution_step": nil, "default_result_storage_block_id": nil},
		"active_slots":          nil,
	})
}

func (w *dgWorld) queue(pool, name string, paused bool, limit any, polled any) {
	status := "READY"
	if paused {
		status = "PAUSED"
	} else if polled == nil {
		status = "NOT_READY"
	}
	w.d.Add(prefecttest.WorkQueues, map[string]any{
		"id": dgID("queue", pool+"/"+name), "created": dgAt(-720 * time.Hour), "updated": dgAt(-time.Hour), "name": name,
		"description": name + " queue", "is_paused": paused, "concurrency_limit": limit, "priority": 1,
		"work_pool_id": dgID("pool", pool), "filter": nil, "last_polled": polled, "work_pool_name": pool, "status": status, "active_slots": 0,
	})
}

func (w *dgWorld) worker(pool, name string, lastBeat time.Duration, status string) {
	w.d.Add(prefecttest.Workers, map[string]any{
		"id": dgID("worker", name), "created": dgAt(-24 * time.Hour), "updated": dgAt(lastBeat), "name": name,
		"work_pool_id": dgID("pool", pool), "last_heartbeat_time": dgAt(lastBeat), "heartbeat_interval_seconds": 30, "status": status,
	})
}

func (w *dgWorld) deployment(name, flow, pool, queue string, paused bool, gcl map[string]any) {
	w.scheduledDeployment(name, flow, pool, queue, paused, gcl, []any{})
}

// schedule is a deployment schedule row as Prefect 3.8 returns it.
func schedule(deployment string, i int, active bool, sched map[string]any) map[string]any {
	return map[string]any{"id": dgID("schedule", fmt.Sprintf("%s/%d", deployment, i)), "created": dgAt(-480 * time.Hour), "updated": dgAt(-24 * time.Hour),
		"deployment_id": dgID("deployment", deployment), "schedule": sched, "active": active, "max_scheduled_runs": nil,
		"parameters": map[string]any{}, "slug": nil}
}

func (w *dgWorld) scheduledDeployment(name, flow, pool, queue string, paused bool, gcl map[string]any, schedules []any) {
	id := dgID("deployment", name)
	var g any
	if gcl != nil {
		g = gcl
	}
	w.d.Add(prefecttest.Deployments, map[string]any{
		"id": id, "created": dgAt(-480 * time.Hour), "updated": dgAt(-24 * time.Hour), "name": name, "version": "1",
		"description": nil, "flow_id": dgID("flow", flow), "paused": paused, "schedules": schedules, "concurrency_limit": nil,
		"global_concurrency_limit": g, "concurrency_options": nil, "job_variables": map[string]any{}, "parameters": map[string]any{},
		"tags": []any{}, "labels": map[string]any{}, "work_queue_name": queue, "work_queue_id": dgID("queue", pool+"/"+queue),
		"last_polled": nil, "parameter_openapi_schema": map[string]any{"type": "object", "properties": map[string]any{}},
		"path": ".", "pull_steps": []any{}, "entrypoint": "flows.py:" + flow, "storage_document_id": nil,
		"infrastructure_document_id": nil, "created_by": nil, "updated_by": nil, "work_pool_name": pool,
		"status": "READY", "enforce_parameter_schema": true,
	})
}

// v2limit returns a v2 concurrency limit and stores it.
func (w *dgWorld) v2limit(name string, limit, active int) map[string]any {
	l := map[string]any{"id": dgID("limit", name), "created": dgAt(-480 * time.Hour), "updated": dgAt(-time.Minute), "active": true,
		"name": name, "limit": limit, "active_slots": active, "slot_decay_per_second": 0.0}
	w.d.Add(prefecttest.V2ConcurrencyLimits, l)
	return l
}

// dgRun describes a flow run of a scenario.
type dgRun struct {
	name, flow, deployment, pool, queue string
	stateType, stateName, message       string
	stateAt                             time.Duration // when the current state began
	start, end                          *time.Duration
	expected                            time.Duration
	runTime                             float64
	tags                                []any
	runCount, retries                   int // 1 and none when zero
}

func dgDur(d time.Duration) *time.Duration { return &d }

func (w *dgWorld) run(o dgRun) string {
	id := dgID("flow_run", o.name)
	if o.stateName == "" {
		o.stateName = map[string]string{"SCHEDULED": "Scheduled", "PENDING": "Pending", "RUNNING": "Running", "COMPLETED": "Completed", "FAILED": "Failed", "CRASHED": "Crashed"}[o.stateType]
	}
	var msg, start, end any
	if o.message != "" {
		msg = o.message
	}
	if o.start != nil {
		start = dgAt(*o.start)
	}
	if o.end != nil {
		end = dgAt(*o.end)
	}
	var depID, queueID, poolID any
	if o.deployment != "" {
		depID, queueID, poolID = dgID("deployment", o.deployment), dgID("queue", o.pool+"/"+o.queue), dgID("pool", o.pool)
	}
	tags := o.tags
	if tags == nil {
		tags = []any{}
	}
	var retries any
	if o.retries > 0 {
		retries = o.retries
	}
	details := map[string]any{"flow_run_id": id, "task_run_id": nil, "child_flow_run_id": nil, "scheduled_time": nil,
		"cache_key": nil, "cache_expiration": nil, "deferred": false, "untrackable_result": false, "pause_timeout": nil,
		"pause_reschedule": false, "pause_key": nil, "run_input_keyset": nil, "refresh_cache": nil, "retriable": nil,
		"transition_id": nil, "task_parameters_id": nil, "traceparent": nil, "deployment_concurrency_lease_id": nil}
	if o.stateType == "SCHEDULED" {
		details["scheduled_time"] = dgAt(o.expected)
	}
	state := map[string]any{"id": dgID("state", o.name), "type": o.stateType, "name": o.stateName, "timestamp": dgAt(o.stateAt),
		"message": msg, "data": nil, "state_details": details}
	w.d.Add(prefecttest.FlowRunStates, state)
	w.d.Add(prefecttest.FlowRuns, map[string]any{
		"id": id, "created": dgAt(o.expected - time.Hour), "updated": dgAt(o.stateAt), "name": o.name, "flow_id": dgID("flow", o.flow),
		"state_id": state["id"], "deployment_id": depID, "deployment_version": nil, "work_queue_id": queueID, "work_queue_name": dgNil(o.queue),
		"flow_version": nil, "parameters": map[string]any{}, "idempotency_key": nil, "context": map[string]any{},
		"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": retries, "retry_delay": nil,
			"pause_keys": []any{}, "resuming": false, "retry_type": nil},
		"tags": tags, "labels": map[string]any{}, "parent_task_run_id": nil, "state_type": o.stateType, "state_name": o.stateName,
		"run_count": max(o.runCount, 1), "expected_start_time": dgAt(o.expected), "next_scheduled_start_time": nil, "start_time": start, "end_time": end,
		"total_run_time": o.runTime, "estimated_run_time": o.runTime, "estimated_start_time_delta": 0.0, "auto_scheduled": true,
		"infrastructure_document_id": nil, "infrastructure_pid": nil, "created_by": nil, "work_pool_id": poolID,
		"work_pool_name": dgNil(o.pool), "state": state, "job_variables": map[string]any{},
	})
	return id
}

func dgNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (w *dgWorld) late(name, flow, dep, pool, queue string, expected time.Duration) string {
	return w.run(dgRun{name: name, flow: flow, deployment: dep, pool: pool, queue: queue, stateType: "SCHEDULED", stateName: "Late",
		expected: expected, stateAt: expected + 15*time.Second})
}

func (w *dgWorld) running(name, flow, dep, pool, queue string, since time.Duration) string {
	return w.run(dgRun{name: name, flow: flow, deployment: dep, pool: pool, queue: queue, stateType: "RUNNING",
		expected: since, stateAt: since, start: dgDur(since), runTime: -since.Seconds()})
}

func (w *dgWorld) completed(name, flow, dep, pool, queue string, end time.Duration, seconds float64) string {
	startAt := end - time.Duration(seconds*float64(time.Second))
	return w.run(dgRun{name: name, flow: flow, deployment: dep, pool: pool, queue: queue, stateType: "COMPLETED",
		expected: startAt, stateAt: end, start: dgDur(startAt), end: dgDur(end), runTime: seconds})
}

func (w *dgWorld) task(flowRun, name, stateType, stateName string, tags []any) {
	id := dgID("task_run", flowRun+"/"+name)
	state := map[string]any{"id": dgID("task_state", flowRun+"/"+name), "type": stateType, "name": stateName, "timestamp": dgAt(-time.Minute),
		"message": "", "data": nil, "state_details": map[string]any{"flow_run_id": flowRun, "task_run_id": id, "child_flow_run_id": nil}}
	w.d.Add(prefecttest.TaskRuns, map[string]any{
		"id": id, "created": dgAt(-time.Minute), "updated": dgAt(-time.Minute), "name": name, "flow_run_id": flowRun,
		"task_key": name + "-1", "dynamic_key": "0", "cache_key": nil, "cache_expiration": nil, "task_version": nil,
		"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0, "retry_delay": 0, "retry_jitter_factor": nil},
		"tags":             tags, "labels": map[string]any{}, "state_id": state["id"], "task_inputs": map[string]any{},
		"state_type": stateType, "state_name": stateName, "run_count": 0, "flow_run_run_count": 0,
		"expected_start_time": dgAt(-time.Minute), "next_scheduled_start_time": nil, "start_time": nil, "end_time": nil,
		"total_run_time": 0.0, "estimated_run_time": 0.0, "estimated_start_time_delta": 0.0, "state": state,
	})
}

func (w *dgWorld) heartbeat(flowRunID, runName string, ago time.Duration, i int) {
	w.d.Add(prefecttest.Events, map[string]any{
		"occurred": dgAt(ago), "event": "prefect.flow-run.heartbeat",
		"resource": map[string]any{"prefect.resource.id": "prefect.flow-run." + flowRunID, "prefect.resource.name": runName, "prefect.version": "3.8.4"},
		"related":  []any{}, "payload": map[string]any{}, "id": dgID("event", fmt.Sprintf("%s/beat/%d", runName, i)), "follows": nil, "received": dgAt(ago),
	})
}
