package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// Each failure class reproduced in the fake the way Prefect 3.8 produces it
// (messages from the Prefect sources cited in internal/diagnosis/run_rules.go)
// and diagnosed end to end through MCP.

func (w *dgWorld) log(flowRun, runName string, level int, msg string, ago time.Duration, taskRun string) {
	w.d.Add(prefecttest.Logs, map[string]any{
		"id": dgID("log", fmt.Sprintf("%s/%d/%s", runName, ago, msg[:min(len(msg), 20)])), "created": dgAt(ago), "updated": dgAt(ago),
		"name": "prefect.flow_runs", "level": level, "message": msg, "timestamp": dgAt(ago),
		"flow_run_id": flowRun, "task_run_id": dgNil(taskRun),
	})
}

// submitted is the event a worker emits when it submits a run
// (src/prefect/workers/base.py, _emit_flow_run_submitted_event).
func (w *dgWorld) submitted(flowRun, runName, worker string, ago time.Duration) {
	w.d.Add(prefecttest.Events, map[string]any{
		"occurred": dgAt(ago), "event": "prefect.worker.submitted-flow-run",
		"resource": map[string]any{"prefect.resource.id": "prefect.worker.kubernetes." + strings.ToLower(strings.ReplaceAll(worker, " ", "-")),
			"prefect.resource.name": worker, "prefect.version": "3.8.4", "prefect.worker-type": "kubernetes"},
		"related": []any{map[string]any{"prefect.resource.id": "prefect.flow-run." + flowRun, "prefect.resource.role": "flow-run", "prefect.resource.name": runName}},
		"payload": map[string]any{}, "id": dgID("event", runName+"/submitted"), "follows": nil, "received": dgAt(ago),
	})
}

// taskWith adds a task run with its state message and run count.
func (w *dgWorld) taskWith(flowRun, name, stateType, stateName, msg string, runs int) string {
	id := dgID("task_run", flowRun+"/"+name)
	state := map[string]any{"id": dgID("task_state", flowRun+"/"+name), "type": stateType, "name": stateName, "timestamp": dgAt(-time.Minute),
		"message": msg, "data": nil, "state_details": map[string]any{"flow_run_id": flowRun, "task_run_id": id, "child_flow_run_id": nil}}
	w.d.Add(prefecttest.TaskRuns, map[string]any{
		"id": id, "created": dgAt(-time.Hour), "updated": dgAt(-time.Minute), "name": name, "flow_run_id": flowRun,
		"task_key": name + "-1", "dynamic_key": "0", "cache_key": nil, "cache_expiration": nil, "task_version": nil,
		"empirical_policy": map[string]any{"max_retries": 0, "retry_delay_seconds": 0.0, "retries": runs - 1, "retry_delay": 0, "retry_jitter_factor": nil},
		"tags":             []any{}, "labels": map[string]any{}, "state_id": state["id"], "task_inputs": map[string]any{},
		"state_type": stateType, "state_name": stateName, "run_count": runs, "flow_run_run_count": 1,
		"expected_start_time": dgAt(-time.Hour), "next_scheduled_start_time": nil, "start_time": dgAt(-time.Hour), "end_time": nil,
		"total_run_time": 1.0, "estimated_run_time": 1.0, "estimated_start_time_delta": 0.0, "state": state,
	})
	return id
}

func (w *dgWorld) zombieAutomation() {
	w.d.Add(prefecttest.Automations, map[string]any{
		"id": dgID("automation", "crash-zombie-flows"), "name": "crash-zombie-flows", "description": "Crash runs whose heartbeats stopped",
		"enabled": true, "tags": []any{},
		"trigger": map[string]any{"type": "event", "id": dgID("trigger", "zombies"), "match": map[string]any{"prefect.resource.id": "prefect.flow-run.*"},
			"match_related": map[string]any{}, "after": []any{"prefect.flow-run.heartbeat"}, "expect": []any{"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed", "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"},
			"for_each": []any{"prefect.resource.id"}, "posture": "Proactive", "threshold": 1, "within": 90.0},
		"actions":            []any{map[string]any{"type": "change-flow-run-state", "state": "CRASHED", "message": "Flow run marked as crashed due to missing heartbeats.", "name": nil, "force": false}},
		"actions_on_trigger": []any{}, "actions_on_resolve": []any{},
		"created": dgAt(-480 * time.Hour), "updated": dgAt(-480 * time.Hour),
	})
}

const pyTB = "Traceback (most recent call last):\n  File \"/opt/prefect/flows/etl.py\", line 14, in extract\n    rows = fetch()\n"

func TestDiagnoseFlowRunClasses(t *testing.T) {
	w := newDgWorld()
	w.flow("etl")
	w.pool("k8s", "READY", false, nil)
	w.queue("k8s", "default", false, nil, dgAt(-10*time.Second))
	w.worker("k8s", "KubernetesWorker live", -10*time.Second, "ONLINE")
	w.worker("k8s", "KubernetesWorker gone", -2*time.Hour, "OFFLINE")
	w.deployment("etl-dep", "etl", "k8s", "default", false, nil)
	w.deployment("beating-dep", "etl", "k8s", "default", false, nil)
	w.zombieAutomation()
	for i := range 3 {
		w.completed(fmt.Sprintf("usual-%d", i), "etl", "etl-dep", "k8s", "default", -time.Duration(i+1)*24*time.Hour, 300)
	}
	crashed := func(name, msg string) string {
		return w.run(dgRun{name: name, flow: "etl", deployment: "etl-dep", pool: "k8s", queue: "default", stateType: "CRASHED",
			message: msg, expected: -time.Hour, stateAt: -30 * time.Minute, start: dgDur(-time.Hour), end: dgDur(-30 * time.Minute)})
	}
	failed := func(name, stateName, msg string) string {
		return w.run(dgRun{name: name, flow: "etl", deployment: "etl-dep", pool: "k8s", queue: "default", stateType: "FAILED", stateName: stateName,
			message: msg, expected: -time.Hour, stateAt: -30 * time.Minute, start: dgDur(-time.Hour), end: dgDur(-30 * time.Minute)})
	}
	active := func(name, dep, stateType, stateName string, since time.Duration) string {
		return w.run(dgRun{name: name, flow: "etl", deployment: dep, pool: "k8s", queue: "default", stateType: stateType, stateName: stateName,
			expected: since, stateAt: since, start: dgDur(since)})
	}

	// 1 infrastructure crash: the worker's Crashed state for exit code 137.
	oom := crashed("oom", "Flow run infrastructure exited with non-zero status code 137. Process was killed, likely due to an out-of-memory (OOM) condition.")
	evicted := crashed("evicted", "Flow run infrastructure exited with non-zero status code 143. Process received SIGTERM via the container runtime. This is the containerized equivalent of exit code -15.")
	// 1 on Kubernetes: a generic crash, the pod's OOMKilled only in the
	// observer's event and log (prefect-kubernetes observer.py, diagnostics.py).
	k8sOOM := crashed("k8s-oom", "Flow run infrastructure exited with non-zero status code 1. Process exited with a general error.")
	w.d.Add(prefecttest.Events, map[string]any{
		"occurred": dgAt(-31 * time.Minute), "event": "prefect.kubernetes.pod.evicted",
		"resource": map[string]any{"prefect.resource.id": "prefect.kubernetes.pod.5d1c", "prefect.resource.name": "k8s-oom-x7k2p",
			"kubernetes.namespace": "prefect", "kubernetes.reason": "OOMKilled"},
		"related": []any{map[string]any{"prefect.resource.id": "prefect.flow-run." + k8sOOM, "prefect.resource.role": "flow-run", "prefect.resource.name": "k8s-oom"}},
		"payload": map[string]any{}, "id": dgID("event", "k8s-oom/pod"), "follows": nil, "received": dgAt(-31 * time.Minute),
	})
	w.log(k8sOOM, "k8s-oom", 40, "Container 'prefect-job' was killed due to out-of-memory (OOMKilled): The container exceeded its memory limit and was terminated by the kernel OOM killer. Resolution: Increase the container's memory limit in the job manifest, or reduce the memory footprint of the workload. Check for memory leaks if usage grows unboundedly.", -31*time.Minute, "")
	// 2 pull step: engine.py logs the load failure with the StepExecutionError.
	pull := crashed("pull-failed", "Flow run infrastructure exited with non-zero status code 1. Process exited with a general error.")
	w.log(pull, "pull-failed", 40, "Unexpected exception encountered when trying to load flow\n"+pyTB+"prefect.deployments.steps.core.StepExecutionError: Encountered error while running prefect.deployments.steps.git_clone", -31*time.Minute, "")
	// 3 flow load: import error at the entrypoint.
	load := crashed("load-failed", "Flow run infrastructure exited with non-zero status code 1. Process exited with a general error.")
	w.log(load, "load-failed", 40, "Unexpected exception encountered when trying to load flow\n"+pyTB+"ModuleNotFoundError: No module named 'pandas'", -31*time.Minute, "")
	// 4 parameters: flow_engine.py's message, state and log.
	params := failed("bad-params", "Failed", "Validation of flow parameters failed with error:")
	w.log(params, "bad-params", 40, "Validation of flow parameters failed with error: 1 validation error for etl\nrows\n  Input should be a valid integer, unable to parse string as an integer [type=int_parsing, input_value='ten', input_type=str]", -30*time.Minute, "")
	// 5 timeout.
	timeout := failed("too-slow", "TimedOut", "Flow run exceeded timeout of 600.0 second(s)")
	// 6 retries exhausted, with a different final error.
	retried := w.run(dgRun{name: "retried-out", flow: "etl", deployment: "etl-dep", pool: "k8s", queue: "default", stateType: "FAILED",
		message: "Flow run encountered an exception: KeyError: 'region'", expected: -time.Hour, stateAt: -30 * time.Minute, start: dgDur(-time.Hour),
		runCount: 3, retries: 2})
	w.d.Add(prefecttest.FlowRunStates, map[string]any{"id": dgID("state", "retried-out/1"), "type": "SCHEDULED", "name": "AwaitingRetry",
		"timestamp": dgAt(-50 * time.Minute), "message": "Retry 1/2 will start 10 second(s) from now", "data": nil, "state_details": map[string]any{"flow_run_id": retried}})
	w.d.Add(prefecttest.FlowRunStates, map[string]any{"id": dgID("state", "retried-out/2"), "type": "SCHEDULED", "name": "AwaitingRetry",
		"timestamp": dgAt(-40 * time.Minute), "message": "Retry 2/2 will start 10 second(s) from now", "data": nil, "state_details": map[string]any{"flow_run_id": retried}})
	w.log(retried, "retried-out", 40, "Encountered exception during execution:\n"+pyTB+"ConnectionError: upstream API timed out", -50*time.Minute, "")
	w.log(retried, "retried-out", 40, "Encountered exception during execution:\n"+pyTB+"ConnectionError: upstream API timed out", -40*time.Minute, "")
	w.log(retried, "retried-out", 40, "Encountered exception during execution:\n"+pyTB+"KeyError: 'region'", -30*time.Minute, "")
	// 7 stuck Cancelling: its worker went offline.
	cancelling := active("cancel-stuck", "etl-dep", "CANCELLING", "Cancelling", -20*time.Minute)
	w.submitted(cancelling, "cancel-stuck", "KubernetesWorker gone", -3*time.Hour)
	// 8 stuck Pending: the worker logged a submission failure.
	pending := active("pending-stuck", "etl-dep", "PENDING", "Pending", -25*time.Minute)
	w.submitted(pending, "pending-stuck", "KubernetesWorker live", -25*time.Minute)
	w.log(pending, "pending-stuck", 40, "Failed to submit flow run 'pending-stuck' to infrastructure.\n"+pyTB+"kubernetes.client.exceptions.ApiException: (403)\nReason: Forbidden", -25*time.Minute, "")
	// 9 zombie: heartbeats stopped; an automation will crash it.
	zombie := active("zombie-run", "beating-dep", "RUNNING", "Running", -time.Hour)
	w.submitted(zombie, "zombie-run", "KubernetesWorker live", -time.Hour)
	for i := range 3 {
		w.heartbeat(zombie, "zombie-run", -time.Hour+time.Duration(i)*30*time.Second, i)
	}
	// 9b orphaned: Running, its worker offline.
	orphan := active("orphan-run", "etl-dep", "RUNNING", "Running", -2*time.Hour)
	w.submitted(orphan, "orphan-run", "KubernetesWorker gone", -2*time.Hour)
	// 10 lease lost (runtime crash).
	lease := crashed("lease-lost", "Execution was cancelled by the runtime environment.")
	w.log(lease, "lease-lost", 40, "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation.", -30*time.Minute, "")
	// 11 upstream: NotReady points at the task that raised.
	upstream := failed("upstream", "Failed", "1/3 states failed.")
	root := w.taskWith(upstream, "extract", "FAILED", "Failed", "Task run encountered an exception ValueError: bad row 7", 1)
	w.taskWith(upstream, "transform", "PENDING", "NotReady", "Upstream task run '"+root+"' did not reach a 'COMPLETED' state.", 0)
	w.taskWith(upstream, "load", "COMPLETED", "Completed", "", 1)
	w.log(upstream, "upstream", 40, "Task run failed with exception: ValueError('bad row 7') - Retries are exhausted\n"+pyTB+"ValueError: bad row 7", -31*time.Minute, root)
	// 12 result persistence: SerializationError from result_records.py.
	persist := failed("unpicklable", "Failed", "Flow run encountered an exception: SerializationError: Failed to serialize object of type 'Connection' with serializer 'pickle'.")
	w.log(persist, "unpicklable", 40, "Encountered exception during execution:\n"+pyTB+"prefect.exceptions.SerializationError: Failed to serialize object of type 'Connection' with serializer 'pickle'. You can try the following to fix this issue:", -30*time.Minute, "")
	// 8b submission failure the worker turned into Crashed.
	submit := crashed("submit-failed", "Failed to submit flow run to infrastructure: ApiException: (403)\nReason: Forbidden")

	e := w.env(t)
	for _, tc := range []struct {
		class, id, cause, evidence string
		want                       []string
		requests                   int
	}{
		{"1 OOM", oom, "crashed_infrastructure", `"exit_code":"137"`, []string{"exit code 137", "out of memory"}, 6},
		{"1 eviction", evicted, "crashed_infrastructure", `"exit_code":"143"`, []string{"pod eviction"}, 6},
		{"1 Kubernetes OOMKilled", k8sOOM, "crashed_infrastructure", "prefect.kubernetes.pod.evicted (pod k8s-oom-x7k2p, reason OOMKilled)", []string{"OOMKilled"}, 6},
		{"2 pull step", pull, "code_fetch_failed", "StepExecutionError", []string{"git_clone"}, 6},
		{"3 flow load", load, "flow_load_failed", "Unexpected exception encountered when trying to load flow", []string{"ModuleNotFoundError: No module named 'pandas'"}, 6},
		{"4 parameters", params, "parameter_validation_failed", "Validation of flow parameters failed with error: 1 validation error", []string{"before its code ran"}, 6},
		{"5 timeout", timeout, "timed_out", "TimedOut", []string{"exceeded timeout of 600.0 second(s)"}, 6},
		{"6 retries", retried, "retries_exhausted", `"attempts"`, []string{"after 3 attempt(s)", "differs from the first (ConnectionError"}, 6},
		{"7 stuck cancelling", cancelling, "stuck_cancelling", `"worker_status":"OFFLINE`, []string{"KubernetesWorker gone", "offline"}, 12},
		{"8 stuck pending", pending, "stuck_pending", "Failed to submit flow run 'pending-stuck' to infrastructure.", []string{"Pending for 25m0s", "submission failure"}, 12},
		{"8 submission failed", submit, "infrastructure_submission_failed", "Failed to submit flow run to infrastructure", []string{"never started", "ApiException"}, 6},
		{"9 zombie", zombie, "zombie", `"zombie_automation":"crash-zombie-flows"`, []string{"no heartbeat for 59m0s", "crash-zombie-flows will mark it Crashed"}, 12},
		{"9 orphaned", orphan, "orphaned", `"worker":"KubernetesWorker gone"`, []string{"worker KubernetesWorker gone", "offline"}, 12},
		{"10 lease lost", lease, "concurrency_lease_renewal_failure", "Concurrency lease renewal failed", []string{"lease could not be renewed"}, 6},
		{"11 upstream root", upstream, "upstream_dependency_failed", `"root_task_run":{"id":"` + root, []string{`task "extract" raised ValueError: bad row 7`}, 6},
		{"12 result persistence", persist, "result_persistence_failed", "Failed to serialize object of type 'Connection'", []string{"after its code ran"}, 6},
	} {
		t.Run(tc.class, func(t *testing.T) {
			out, text, n := dgCall(t, e, "diagnose_flow_run", map[string]any{"flow_run_id": tc.id})
			if out["cause"] != tc.cause {
				t.Fatalf("cause %v, want %s\n%s", out["cause"], tc.cause, text)
			}
			dgContains(t, "summary", dgStr(out["summary"]), tc.want...)
			dgContains(t, "answer", text, tc.evidence)
			if steps := dgStrs(out["next_steps"]); len(steps) == 0 {
				t.Errorf("no next steps")
			}
			if n != tc.requests {
				t.Errorf("%d requests, want %d: %v", n, tc.requests, e.fake.Requests())
			}
			t.Logf("%s: %s | %.200s", out["cause"], out["summary"], text[strings.Index(text, `"evidence"`):])
		})
	}
}
