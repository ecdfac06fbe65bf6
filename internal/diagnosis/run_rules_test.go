package diagnosis

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

func run(typ, name, msg string, stateAt time.Duration) prefect.FlowRun {
	return prefect.FlowRun{ID: "run-1", Name: "brave-otter", DeploymentID: "dep-1", WorkPoolName: "k8s", WorkQueueName: "default",
		StateType: typ, StateName: name, RunCount: 1, StartTime: ptr(at(-time.Hour)),
		State: &prefect.State{Type: typ, Name: name, Message: msg, Timestamp: at(stateAt)}}
}

func errLog(msg string, ago time.Duration) prefect.LogEntry {
	return prefect.LogEntry{Level: 40, Message: msg, Timestamp: at(ago), FlowRunID: "run-1"}
}

func task(id, name, typ, stateName, msg string, runs int) prefect.TaskRun {
	return prefect.TaskRun{ID: id, Name: name, StateType: typ, StateName: stateName, RunCount: runs,
		State: &prefect.State{Type: typ, Name: stateName, Message: msg}}
}

const tb = "Traceback (most recent call last):\n  File \"/opt/flows/etl.py\", line 12, in extract\n    raise ValueError(\"bad row\")\n"

func workerEvent(name string) prefect.Event {
	return prefect.Event{Event: "prefect.flow-run.Pending", Occurred: at(-time.Hour),
		Resource: map[string]string{"prefect.resource.id": "prefect.flow-run.run-1"},
		Related:  []map[string]string{{"prefect.resource.id": "prefect.worker.kubernetes." + name, "prefect.resource.name": name}}}
}

func heartbeat(ago time.Duration) prefect.Event {
	return prefect.Event{Event: HeartbeatEvent, Occurred: at(ago), Resource: map[string]string{"prefect.resource.id": "prefect.flow-run.run-1"}}
}

func onlinePool() *LiveFacts {
	return &LiveFacts{Pool: &prefect.WorkPool{Name: "k8s", Status: "READY"},
		Workers: []prefect.Worker{{Name: "w1", Status: "ONLINE", LastHeartbeatTime: ptr(at(-10 * time.Second))}}}
}

// TestRunRules: each failure class from facts alone, with the exact text
// Prefect 3.8 emits (sources cited at the constants in run_rules.go).
func TestRunRules(t *testing.T) {
	retried := run("FAILED", "Failed", "Flow run encountered an exception: ValueError: bad row 3", 0)
	retried.RunCount, retried.EmpiricalPolicy.Retries = 3, ptr(2)
	cancelling := run("CANCELLING", "Cancelling", "", -20*time.Minute)
	offlineWorker := onlinePool()
	offlineWorker.Workers[0].Status = "OFFLINE"
	cases := []struct {
		name     string
		f        RunFacts
		cause    string
		want     []string // in the summary
		evidence string   // in the encoded evidence
	}{
		{name: "1 OOM-killed", cause: CauseCrashedInfra, want: []string{"exit code 137", "out of memory"}, evidence: `"exit_code":"137"`,
			f: RunFacts{Run: run("CRASHED", "Crashed", "Flow run infrastructure exited with non-zero status code 137. Process was killed, likely due to an out-of-memory (OOM) condition.", 0)}},
		{name: "1 Kubernetes OOMKilled behind a generic crash", cause: CauseCrashedInfra, want: []string{"OOMKilled"}, evidence: `"infrastructure_event":"2026-03-02T11:59:50Z prefect.kubernetes.pod.evicted (pod etl-abc, reason OOMKilled)"`,
			f: RunFacts{Run: run("CRASHED", "Crashed", "Flow run infrastructure exited with non-zero status code 1. Process exited with a general error.", 0),
				Events: []prefect.Event{{Event: "prefect.kubernetes.pod.evicted", Occurred: at(-10 * time.Second),
					Resource: map[string]string{"prefect.resource.id": "prefect.kubernetes.pod.u1", "prefect.resource.name": "etl-abc", "kubernetes.reason": "OOMKilled"}}},
				ErrorLogs: []prefect.LogEntry{errLog("Container 'prefect-job' was killed due to out-of-memory (OOMKilled): The container exceeded its memory limit and was terminated by the kernel OOM killer. Resolution: Increase the container's memory limit in the job manifest, or reduce the memory footprint of the workload. Check for memory leaks if usage grows unboundedly.", -5*time.Second)}}},
		{name: "1 Kubernetes eviction from the log", cause: CauseCrashedInfra, want: []string{"evicted its pod"}, evidence: "was evicted",
			f: RunFacts{Run: run("CRASHED", "Crashed", "Flow run infrastructure exited with non-zero status code 1. Process exited with a general error.", 0),
				ErrorLogs: []prefect.LogEntry{errLog("Container 'prefect-job' was evicted: The pod was evicted, likely due to node resource pressure (disk, memory, or PID exhaustion). Resolution: Check node conditions for resource pressure.", -5*time.Second)}}},
		{name: "1 SIGTERM eviction", cause: CauseCrashedInfra, want: []string{"exit code 143", "eviction"}, evidence: `"exit_code":"143"`,
			f: RunFacts{Run: run("CRASHED", "Crashed", "Flow run infrastructure exited with non-zero status code 143. Process received SIGTERM via the container runtime. This is the containerized equivalent of exit code -15.", 0)}},
		{name: "1 image cannot run", cause: CauseCrashedInfra, want: []string{"exit code 125"}, evidence: "image",
			f: RunFacts{Run: run("CRASHED", "Crashed", "Flow run infrastructure exited with non-zero status code 125. Container failed to run (Docker/OCI exit code 125).", 0)}},
		{name: "2 pull step failed", cause: CauseCodeFetchFailed, want: []string{"pull step (prefect.deployments.steps.git_clone)", "could not be fetched"}, evidence: "Encountered error while running",
			f: RunFacts{Run: run("CRASHED", "Crashed", "Flow run infrastructure exited with non-zero status code 1. Process exited with a general error.", 0),
				ErrorLogs: []prefect.LogEntry{
					errLog("Unexpected exception encountered when trying to load flow\nTraceback (most recent call last):\nprefect.deployments.steps.core.StepExecutionError: Encountered error while running prefect.deployments.steps.git_clone", -time.Second),
					errLog("Failed to clone repository 'https://github.com/acme/flows.git' with exit code 128.", -2*time.Second)}}},
		{name: "3 import error", cause: CauseFlowLoadFailed, want: []string{"ModuleNotFoundError: No module named 'pandas'"}, evidence: loadFailureLog,
			f: RunFacts{Run: run("CRASHED", "Crashed", "Flow run infrastructure exited with non-zero status code 1. Process exited with a general error.", 0),
				ErrorLogs: []prefect.LogEntry{errLog("Unexpected exception encountered when trying to load flow\nTraceback (most recent call last):\n  File \"flows/etl.py\", line 1, in <module>\n    import pandas\nModuleNotFoundError: No module named 'pandas'", -time.Second)}}},
		{name: "4 parameters", cause: CauseParameterInvalid, want: []string{"before its code ran", "1 validation error"}, evidence: parameterMessage,
			f: RunFacts{Run: run("FAILED", "Failed", "Validation of flow parameters failed with error:", 0),
				ErrorLogs: []prefect.LogEntry{errLog("Validation of flow parameters failed with error: 1 validation error for etl\nrows\n  Input should be a valid integer", -time.Second)}}},
		{name: "5 flow timeout", cause: CauseTimedOut, want: []string{"exceeded timeout of 60.0 second(s)"},
			f: RunFacts{Run: run("FAILED", "TimedOut", "Flow run exceeded timeout of 60.0 second(s)", 0)}},
		{name: "5 task timeout", cause: CauseTimedOut, want: []string{"task load: Task run exceeded timeout of 30.0 second(s)"},
			f: RunFacts{Run: run("FAILED", "Failed", "1/2 states failed.", 0),
				Tasks: []prefect.TaskRun{task("t1", "load", "FAILED", "TimedOut", "Task run exceeded timeout of 30.0 second(s)", 1)}}},
		{name: "6 flow retries exhausted", cause: CauseRetriesExhausted, want: []string{"after 3 attempt(s)", "differs from the first"}, evidence: `"attempts"`,
			f: RunFacts{Run: retried,
				States: []prefect.State{
					{Type: "SCHEDULED", Name: "AwaitingRetry", Message: "Retry 1/2 will start 5 second(s) from now", Timestamp: at(-20 * time.Minute)},
					{Type: "SCHEDULED", Name: "AwaitingRetry", Message: "Retry 2/2 will start 5 second(s) from now", Timestamp: at(-10 * time.Minute)},
					{Type: "FAILED", Name: "Failed", Timestamp: at(0)}},
				ErrorLogs: []prefect.LogEntry{errLog(tb+"ValueError: bad row 3", 0), errLog(tb+"ConnectionError: reset", -10*time.Minute), errLog(tb+"ConnectionError: reset", -20*time.Minute)}}},
		{name: "7 stuck cancelling", cause: CauseStuckCancelling, want: []string{"Cancelling for 20m0s", "worker w1", "offline"},
			f: RunFacts{Run: cancelling, Events: []prefect.Event{workerEvent("w1")}, Live: offlineWorker}},
		{name: "8 stuck pending after a submission failure", cause: CauseStuckPending, want: []string{"Pending for 15m0s", "submission failure"}, evidence: "Failed to submit flow run 'brave-otter' to infrastructure.",
			f: RunFacts{Run: run("PENDING", "Pending", "", -15*time.Minute), Live: onlinePool(),
				ErrorLogs: []prefect.LogEntry{errLog("Failed to submit flow run 'brave-otter' to infrastructure.\nTraceback (most recent call last):\nkubernetes.client.exceptions.ApiException: (403)", -14*time.Minute)}}},
		{name: "8 submission failed", cause: CauseSubmissionFailed, want: []string{"never started", "ApiException"},
			f: RunFacts{Run: run("CRASHED", "Crashed", "Failed to submit flow run to infrastructure: ApiException: (403) Reason: Forbidden", 0)}},
		{name: "9 zombie", cause: CauseZombie, want: []string{"zombie", "no heartbeat for 10m0s", "Automation crash-zombies will mark it Crashed"},
			f: RunFacts{Run: run("RUNNING", "Running", "", -time.Hour), Events: []prefect.Event{heartbeat(-10 * time.Minute), workerEvent("w1")},
				Live: func() *LiveFacts {
					l := onlinePool()
					l.DeploymentBeats = at(-10 * time.Minute)
					l.ZombieAutomation = "crash-zombies"
					return l
				}()}},
		{name: "9 orphaned: worker gone from the pool", cause: CauseOrphaned, want: []string{"worker w2", "no longer registered in work pool k8s"},
			f: RunFacts{Run: run("RUNNING", "Running", "", -time.Hour), Events: []prefect.Event{workerEvent("w2")}, Live: onlinePool()}},
		{name: "9 orphaned", cause: CauseOrphaned, want: []string{"worker w1", "offline"},
			f: RunFacts{Run: run("RUNNING", "Running", "", -time.Hour), Events: []prefect.Event{workerEvent("w1")}, Live: offlineWorker}},
		{name: "silent", cause: CauseSilent, want: []string{"logged nothing for 50m0s"},
			f: RunFacts{Run: run("RUNNING", "Running", "", -time.Hour), Events: []prefect.Event{workerEvent("w1")},
				Live: func() *LiveFacts { l := onlinePool(); l.LastLog = at(-50 * time.Minute); l.LastLogLine = "x"; return l }()}},
		{name: "alive and slow", cause: CauseAliveSlow, want: []string{"alive but slow", "usual 5m0s"},
			f: RunFacts{Run: run("RUNNING", "Running", "", -20*time.Minute), Events: []prefect.Event{workerEvent("w1")},
				Live: func() *LiveFacts {
					l := onlinePool()
					l.LastLog, l.UsualSeconds, l.UsualSample = at(-time.Minute), 300, 5
					return l
				}()}},
		{name: "10 lease lost", cause: CauseLeaseRenewal, want: []string{"lease could not be renewed"},
			f: RunFacts{Run: run("CRASHED", "Crashed", "Execution was cancelled by the runtime environment.", 0),
				ErrorLogs: []prefect.LogEntry{errLog("Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation.", -time.Second)}}},
		{name: "11 upstream: the root task", cause: CauseUpstreamFailed, want: []string{`task "extract" failed`, "1 task run(s) downstream"}, evidence: `"root_task_run":{"id":"t1"`,
			f: RunFacts{Run: run("FAILED", "Failed", "1/3 states failed.", 0), Tasks: []prefect.TaskRun{
				task("t1", "extract", "FAILED", "Failed", "Task run encountered an exception ValueError: bad row", 1),
				task("t2", "transform", "PENDING", "NotReady", "Upstream task run '00000000-0000-4000-8000-000000000001' did not reach a 'COMPLETED' state.", 0),
			}}},
		{name: "12 result persistence", cause: CauseResultPersistence, want: []string{"after its code ran", "SerializationError"}, evidence: "Failed to serialize object of type 'Connection'",
			f: RunFacts{Run: run("FAILED", "Failed", "Flow run encountered an exception: SerializationError: Failed to serialize object of type 'Connection' with serializer 'pickle'.", 0),
				ErrorLogs: []prefect.LogEntry{errLog(tb+"prefect.exceptions.SerializationError: Failed to serialize object of type 'Connection' with serializer 'pickle'. ", 0)}}},
		{name: "code error", cause: CauseCodeError, want: []string{"the flow raised ValueError: bad row"},
			f: RunFacts{Run: run("FAILED", "Failed", "", 0), ErrorLogs: []prefect.LogEntry{errLog(tb+"ValueError: bad row", 0)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Now = t0
			d := DiagnoseRun(tc.f)
			FitRun(&d)
			b, _ := json.Marshal(d)
			if d.Cause != tc.cause {
				t.Fatalf("cause %s, want %s\n%s", d.Cause, tc.cause, b)
			}
			for _, w := range tc.want {
				if !strings.Contains(d.Summary, w) {
					t.Errorf("summary %q lacks %q", d.Summary, w)
				}
			}
			if !strings.Contains(string(b), tc.evidence) {
				t.Errorf("answer lacks %q:\n%s", tc.evidence, b)
			}
			if len(d.NextSteps) == 0 || len(b) > Budget {
				t.Errorf("%d next steps, %d bytes (budget %d)", len(d.NextSteps), len(b), Budget)
			}
			t.Logf("%s: %s", d.Cause, d.Summary)
		})
	}
}
