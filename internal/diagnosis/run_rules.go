package diagnosis

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/shape"
	tn "github.com/prefect-mcp/prefect-mcp/internal/toolname"
)

// Causes diagnose_flow_run reports, one per failure class.
const (
	CauseCodeError         = "code_error"
	CauseCrashedInfra      = "crashed_infrastructure"
	CauseSubmissionFailed  = "infrastructure_submission_failed"
	CauseCodeFetchFailed   = "code_fetch_failed"
	CauseFlowLoadFailed    = "flow_load_failed"
	CauseParameterInvalid  = "parameter_validation_failed"
	CauseTimedOut          = "timed_out"
	CauseRetriesExhausted  = "retries_exhausted"
	CauseLeaseRenewal      = "concurrency_lease_renewal_failure"
	CauseCrashedByRuntime  = "crashed_by_runtime"
	CauseUpstreamFailed    = "upstream_dependency_failed"
	CauseSubflowFailed     = "subflow_failed"
	CauseResultPersistence = "result_persistence_failed"
	CauseCancelled         = "cancelled"
	CauseStuckCancelling   = "stuck_cancelling"
	CauseStuckPending      = "stuck_pending"
	CauseZombie            = "zombie"
	CauseOrphaned          = "orphaned"
	CauseSilent            = "silent"
	CauseAliveSlow         = "alive_slow"
	CauseAlive             = "alive"
	CauseNotFailed         = "not_failed"
	CauseUnknownFailure    = "unknown_failure"
	diagnosisMsgBudget     = 600
	tracebackBudget        = 3 << 10
	maxListedTasks         = 8
	maxListedStates        = 12
	maxListedAttempts      = 6
	stuckPendingAfter      = 10 * time.Minute
	heartbeatStaleAfter    = 90 * time.Second
	silentAfter            = 30 * time.Minute
)

// Prefect 3.8's own messages the rules recognise.
const (
	// src/prefect/states.py, src/prefect/_internal/states.py: the state of a
	// run stopped by the runtime (concurrency lease lost, signal).
	runtimeCrashMessage = "Execution was cancelled by the runtime environment."
	// src/prefect/workers/base.py: the Crashed state a worker proposes when
	// the infrastructure exits non-zero, and when it cannot be submitted.
	infraExitMessage   = "Flow run infrastructure exited with non-zero status code"
	submissionMessage  = "Failed to submit flow run to infrastructure:"
	submissionLogStart = "Failed to submit flow run '"
	// src/prefect/runner/runner.py: the same for a process started by a
	// runner (prefect serve, process work pools).
	processExitMessage = "Flow run process exited with non-zero status code"
	// src/prefect/engine.py: the flow run's ERROR log when the flow cannot
	// be loaded (pull steps, import, entrypoint); the process then exits 1.
	loadFailureLog = "Unexpected exception encountered when trying to load flow"
	// src/prefect/deployments/steps/core.py: a failing pull step.
	stepFailure = "Encountered error while running prefect.deployments.steps."
	// src/prefect/flow_engine.py: parameters that do not validate.
	parameterMessage = "Validation of flow parameters failed with error:"
	// src/prefect/_internal/result_records.py: a result that cannot be
	// serialized for persistence (exceptions.SerializationError).
	serializationMessage = "Failed to serialize object of type"
	// src/prefect/task_engine.py: a task run whose retries are used up.
	retriesExhaustedLog = "Retries are exhausted"
	// src/prefect/server/services/cancellation_cleanup.py
	cancellationTimedOut = "Flow run cancellation timed out"
)

// exitMeanings are Prefect's explanations of infrastructure exit codes
// (src/prefect/_internal/infrastructure_exit_codes.py).
var exitMeanings = map[string]string{
	"-9":  "SIGKILL: usually the operating system killing the process for exceeding its memory limit, or a manual cancellation",
	"137": "killed, likely out of memory (OOM)",
	"247": "terminated for high memory usage",
	"-15": "SIGTERM: graceful shutdown or cancellation",
	"143": "SIGTERM from the container runtime: a cancellation, scaling event, pod eviction or ECS task stop",
	"1":   "a general error: an unhandled exception",
	"125": "the container failed to run: image missing or unpullable, bad entrypoint, or runtime unhealthy",
	"126": "the command was found but is not executable",
	"127": "the command was not found in the image or environment",
}

var (
	excLine      = regexp.MustCompile(`^((?:[A-Za-z_]\w*\.)*[A-Z]\w*):(?:\s(.*))?$`)
	stateExc     = regexp.MustCompile(`(?s)encountered an exception:?\s+([A-Za-z_][\w.]*):\s?(.*)$`)
	exitCodeExpr = regexp.MustCompile(`(?i)(?:exit|status) code:?\s*(-?\d+)`)
	byAutomation = regexp.MustCompile(`(?i)automation\s+'([^']+)'|automation\s+"([^"]+)"`)
	cancelledByX = regexp.MustCompile(`(?i)cancel(?:l)?ed by\s+(.+?)(?:\s+from the (?:UI|API|CLI))?\s*\.?$`)
	upstreamID   = regexp.MustCompile(`Upstream task run '([0-9a-fA-F-]{36})' did not reach a`)
)

// runView is the derived data the rules share.
type runView struct {
	f        *RunFacts
	d        *RunDiagnosis
	name     string
	msg      string
	failed   []TaskBrief
	notReady []TaskBrief
	exc      *Exception
	allowed  int
}

// A rule returns true when it decided the verdict.
type rule func(v *runView) bool

// Rules by the run's state type, tried in order.
var (
	cancelRules  = []rule{ruleStuckCancelling, ruleCancelled}
	crashedRules = []rule{ruleLeaseRenewal, ruleSubmissionFailed, ruleCodeFetch, ruleFlowLoad, ruleInfraCrash}
	failedRules  = []rule{ruleParameters, ruleResultPersistence, ruleTimedOut, ruleSubflow, ruleUpstream, ruleRetriesExhausted, ruleCodeError, ruleUnknownFailure}
	activeRules  = []rule{ruleStuckPending, ruleOrphaned, ruleZombie, ruleSilent, ruleAliveSlow, ruleAlive}
)

// DiagnoseRun turns a run's facts into a diagnosis.
func DiagnoseRun(f RunFacts) RunDiagnosis {
	r := f.Run
	d := RunDiagnosis{FlowRun: RunIdentity{
		ID: r.ID, Name: r.Name, Flow: f.Flow, DeploymentID: r.DeploymentID,
		State: shape.StateLabel(r.StateType, r.StateName), Subflow: r.ParentTaskRunID != "",
	}}
	v := &runView{f: &f, d: &d, name: fmt.Sprintf("Flow run %q", r.Name), msg: msgOf(r.State)}
	ev := &d.Evidence
	if r.State != nil {
		ev.StateMessage = shape.Clip(r.State.Message, diagnosisMsgBudget)
		ev.StateAt = shape.TS(r.State.Timestamp)
	}
	if r.EmpiricalPolicy.Retries != nil {
		v.allowed = *r.EmpiricalPolicy.Retries
	}
	if v.allowed > 0 || r.RunCount > 1 {
		ev.Retries = retriesText(r.RunCount, v.allowed)
	}
	if r.CreatedBy != nil && r.CreatedBy.Type != "" {
		ev.CreatedBy = strings.TrimSuffix(r.CreatedBy.Type+": "+r.CreatedBy.DisplayValue, ": ")
	}
	ev.Where = runLocation(r, f.Events)
	states := f.States
	if len(states) > maxListedStates {
		states = states[len(states)-maxListedStates:]
	}
	for _, s := range states {
		ev.History = append(ev.History, StateEntry{At: shape.TS(s.Timestamp), State: shape.StateLabel(s.Type, s.Name), Message: shape.Clip(s.Message, shape.MessageBudget)})
	}
	counts, failed, notReady := summarizeTasks(f.Tasks)
	if len(counts) > 0 {
		ev.TaskRuns = counts
	}
	v.failed, v.notReady = failed, notReady
	ev.FailedTasks, ev.NotReady = failed, notReady
	v.exc = findException(f.ErrorLogs, r.State)
	ev.Exception = v.exc

	var rules []rule
	switch r.StateType {
	case "CANCELLED", "CANCELLING":
		rules = cancelRules
	case "CRASHED":
		rules = crashedRules
	case "FAILED":
		rules = failedRules
	case "RUNNING", "PENDING":
		if f.Live != nil {
			rules = activeRules
		}
	}
	for _, rl := range rules {
		if rl(v) {
			return d
		}
	}
	notFailed(v)
	return d
}

// --- Cancelled and Cancelling ---

// ruleStuckCancelling: cancellation is enforced by the worker that runs
// the flow; with no online worker in its pool nobody kills it, and the
// server's cancellation cleanup only marks it Cancelled after a timeout.
func ruleStuckCancelling(v *runView) bool {
	if v.f.Run.StateType != "CANCELLING" || v.f.Live == nil {
		return false
	}
	live := liveness(v)
	if !offline(live) {
		return false
	}
	d := v.d
	d.Liveness, live.Verdict = live, "stuck Cancelling: nobody to enforce the cancellation"
	d.Cause = CauseStuckCancelling
	d.Evidence.CancelledBy = cancelledBy(v.f.Run, v.f.States, v.f.Events)
	d.Evidence.Exception = nil
	d.Summary = fmt.Sprintf("%s has been Cancelling for %s, but nothing enforces the cancellation: %s.", v.name, live.InStateFor, offlineText(live, v.f.Run.WorkPoolName))
	d.NextSteps = []string{"Start a worker for work pool " + v.f.Run.WorkPoolName + " (it kills the run's infrastructure), or stop the infrastructure yourself; check the pool with " + tn.GetWorkPools + ".",
		"Prefect's cancellation cleanup marks it Cancelled after its timeout (\"" + cancellationTimedOut + "; marked this flow run as Cancelled.\")."}
	return true
}

func ruleCancelled(v *runView) bool {
	d, r := v.d, v.f.Run
	d.Cause = CauseCancelled
	d.Evidence.CancelledBy = cancelledBy(r, v.f.States, v.f.Events)
	d.Evidence.Exception = nil
	d.Summary = fmt.Sprintf("%s was %s by %s.", v.name, strings.ToLower(r.StateName), d.Evidence.CancelledBy)
	if strings.Contains(v.msg, cancellationTimedOut) {
		d.Summary = fmt.Sprintf("%s was marked Cancelled by the server after the cancellation timed out: no worker confirmed it, so its infrastructure may still be running.", v.name)
	}
	if v.f.Live != nil {
		d.Liveness = liveness(v)
	}
	d.NextSteps = []string{"If the cancellation was unexpected, look at the automation or user named in cancelled_by (" + tn.GetAutomations + " / the audit log).",
		"Re-run the deployment if the work still needs doing."}
	return true
}

// --- Crashed ---

func ruleLeaseRenewal(v *runView) bool {
	lease := leaseRenewalLog(v.f.ErrorLogs)
	if lease == "" || !strings.Contains(v.msg, runtimeCrashMessage) {
		return false
	}
	d := v.d
	d.Cause = CauseLeaseRenewal
	d.Evidence.LeaseLog = lease
	d.Evidence.Exception = nil
	d.Summary = fmt.Sprintf("%s crashed because its concurrency lease could not be renewed (the lease API answered 410), so Prefect stopped it to avoid over-allocating the limit.", v.name)
	d.NextSteps = []string{"Check the API server's health and the network between the run and the API at that time (lease renewals failed).",
		"Check the deployment or global concurrency limit the run held (" + tn.GetConcurrencyLimits + ") for slots that were reset or expired.",
		"Re-run the flow; the code itself did not fail."}
	return true
}

// ruleSubmissionFailed: the worker could not create the infrastructure
// (bad job template, missing image pull secret, API quota) and proposed
// Crashed; its log line has the exception.
func ruleSubmissionFailed(v *runView) bool {
	if !strings.HasPrefix(v.msg, submissionMessage) {
		return false
	}
	d := v.d
	d.Cause = CauseSubmissionFailed
	d.Evidence.Log = findLog(v.f.ErrorLogs, submissionLogStart)
	d.Summary = fmt.Sprintf("%s never started: the worker could not submit it to its infrastructure (%s).", v.name, shape.Clip(strings.TrimSpace(strings.TrimPrefix(v.msg, submissionMessage)), 200))
	d.NextSteps = []string{"Fix what the error names in the work pool's base job template or the deployment's job_variables (image, namespace, credentials, resources); " + tn.GetWorkPools + " shows the pool.",
		"Read the worker's own log around " + d.Evidence.StateAt + " for the full traceback."}
	return true
}

// ruleCodeFetch: a pull step (git_clone, pull_from_s3, …) failed while the
// flow was being loaded, before any of its code ran.
func ruleCodeFetch(v *runView) bool {
	l, ok := findLogEntry(v.f.ErrorLogs, func(m string) bool {
		return strings.Contains(m, stepFailure) || strings.Contains(m, "StepExecutionError")
	})
	if !ok {
		return false
	}
	d := v.d
	d.Cause = CauseCodeFetchFailed
	d.Evidence.Log = logLine(l)
	step := ""
	if i := strings.Index(l.Message, stepFailure); i >= 0 {
		step = strings.Fields(l.Message[i+len(stepFailure)-len("prefect.deployments.steps."):])[0]
	}
	d.Summary = fmt.Sprintf("%s crashed before its flow started: a deployment pull step%s failed, so the flow's code could not be fetched.", v.name, optional(" ("+step+")", step != ""))
	if v.exc != nil {
		d.Summary = strings.TrimSuffix(d.Summary, ".") + ": " + v.exc.short() + "."
	}
	d.NextSteps = []string{"Check the deployment's pull_steps (" + tn.GetDeployments + "): repository URL, branch, credentials block, bucket and folder.",
		"Check the infrastructure can reach the repository or bucket (network, secrets), then re-run."}
	ruleOutCode(d)
	return true
}

// ruleFlowLoad: the code was there but the flow could not be imported or
// found at the deployment's entrypoint.
func ruleFlowLoad(v *runView) bool {
	l, ok := findLogEntry(v.f.ErrorLogs, func(m string) bool { return strings.Contains(m, loadFailureLog) })
	if !ok {
		return false
	}
	d := v.d
	d.Cause = CauseFlowLoadFailed
	d.Evidence.Log = logLine(l)
	what := "the flow could not be loaded from its entrypoint"
	if v.exc != nil {
		what += " (" + v.exc.short() + ")"
	}
	d.Summary = fmt.Sprintf("%s crashed before its flow started: %s.", v.name, what)
	d.NextSteps = []string{"Check the deployment's entrypoint (path/to/file.py:function_name) against the code the pull steps fetch (" + tn.GetDeployments + ").",
		"Install the missing module in the image or environment if the error is an ImportError / ModuleNotFoundError."}
	ruleOutCode(d)
	return true
}

func ruleInfraCrash(v *runView) bool {
	d := v.d
	d.Cause = CauseCrashedInfra
	code := exitCode(v.msg)
	d.Evidence.ExitCode = code
	// The meaning is Prefect's only where the message is the worker's or the
	// runner's own exit report.
	if strings.HasPrefix(v.msg, infraExitMessage) || strings.HasPrefix(v.msg, processExitMessage) {
		d.Evidence.ExitMeaning = exitMeanings[code]
	}
	d.Summary = fmt.Sprintf("%s crashed: its infrastructure stopped without reporting a final state (%s).", v.name, shape.FirstNonEmpty(shape.Clip(v.msg, 200), "no message"))
	// The Kubernetes worker does not report the pod's end in the run's state:
	// its observer logs the diagnosis ("Container 'x' was killed due to
	// out-of-memory (OOMKilled)", "Container 'x' was evicted") and emits
	// prefect.kubernetes.pod.* events with kubernetes.reason
	// (prefect-kubernetes: diagnostics.py, observer.py).
	reason, podEvent := podReason(v.f.Events)
	d.Evidence.PodEvent = podEvent
	if l, ok := findLogEntry(v.f.ErrorLogs, func(m string) bool { return strings.Contains(m, "(OOMKilled)") || strings.Contains(m, "was evicted") }); ok {
		d.Evidence.Log = logLine(l)
		if reason == "" && strings.Contains(l.Message, "(OOMKilled)") {
			reason = "OOMKilled"
		} else if reason == "" {
			reason = "Evicted"
		}
	}
	// The pod's reason decides the summary; evidence.exit_code keeps the
	// code that was reported.
	switch {
	case reason == "OOMKilled":
		code = "137"
	case reason == "Evicted":
		code = "143"
	}
	switch code {
	case "137", "-9":
		d.Summary = fmt.Sprintf("%s crashed: its process was killed (exit code %s, SIGKILL, usually out of memory).", v.name, code)
		if reason == "OOMKilled" {
			d.Summary = fmt.Sprintf("%s crashed: Kubernetes killed its container for exceeding its memory limit (OOMKilled).", v.name)
		}
		d.NextSteps = []string{"Raise the memory of the run's infrastructure (the job's memory limit in the work pool's job template or the deployment's job_variables)."}
	case "143", "-15":
		d.Summary = fmt.Sprintf("%s crashed: its process was terminated (exit code %s, SIGTERM: pod eviction, scale-down, node drain or a manual stop).", v.name, code)
		if reason == "Evicted" {
			d.Summary = fmt.Sprintf("%s crashed: Kubernetes evicted its pod (node resource pressure: memory, disk or PIDs).", v.name)
			d.NextSteps = []string{"Check the node's conditions for resource pressure, and raise the job's resource requests so it lands on a node with room."}
		}
	case "125", "126", "127":
		d.Summary = fmt.Sprintf("%s crashed: its container could not run its command (exit code %s: %s).", v.name, code, exitMeanings[code])
		d.NextSteps = []string{"Check the image name and tag, the image pull secret, and the command in the work pool's job template."}
	}
	d.NextSteps = append(d.NextSteps, "Look at the worker's and the infrastructure's own logs (container/pod events, OOM kills, evictions) around "+d.Evidence.StateAt+".",
		"Check the run's last log lines with "+tn.GetFlowRunLogs+" (tail=true).")
	if w := d.Evidence.Where; w != nil && w.WorkPool != "" {
		d.NextSteps = append(d.NextSteps, "Check the work pool "+w.WorkPool+" and its workers ("+tn.GetWorkPools+").")
	}
	return true
}

// --- Failed ---

func ruleParameters(v *runView) bool {
	l, ok := findLogEntry(v.f.ErrorLogs, func(m string) bool { return strings.HasPrefix(m, parameterMessage) })
	if !strings.HasPrefix(v.msg, parameterMessage) && !ok {
		return false
	}
	d := v.d
	d.Cause = CauseParameterInvalid
	if ok {
		d.Evidence.Log = logLine(l)
	}
	d.Summary = fmt.Sprintf("%s failed before its code ran: its parameters did not validate against the flow's signature (%s).", v.name,
		shape.Clip(strings.TrimSpace(strings.TrimPrefix(shape.FirstNonEmpty(l.Message, v.msg), parameterMessage)), 300))
	d.NextSteps = []string{"Compare the run's parameters (" + tn.GetFlowRuns + " with this run's id) with the deployment's parameter schema (" + tn.GetDeployments + ") and fix the value or the default.",
		"Re-run with valid parameters; retries will not help."}
	ruleOutCode(d)
	return true
}

func ruleResultPersistence(v *runView) bool {
	hit := func(s string) bool {
		return strings.Contains(s, serializationMessage) || strings.Contains(s, "SerializationError")
	}
	l, ok := findLogEntry(v.f.ErrorLogs, hit)
	if !ok && !hit(v.msg) {
		return false
	}
	d := v.d
	d.Cause = CauseResultPersistence
	if ok {
		d.Evidence.Log = logLine(l)
	}
	what := "its result could not be serialized for persistence"
	if v.exc != nil {
		what += " (" + v.exc.short() + ")"
	}
	d.Summary = fmt.Sprintf("%s failed after its code ran: %s.", v.name, what)
	d.NextSteps = []string{"Return a serializable value, use result_serializer=\"json\" or a serializer that handles the type, or set persist_result=False on the flow or task.",
		"Check the result storage block is reachable and writable."}
	d.RuledOut = append(d.RuledOut, "the flow's code: it ran to completion; saving its result failed")
	return true
}

func ruleTimedOut(v *runView) bool {
	if v.f.Run.StateName != "TimedOut" && !timedOut(v.msg) && !slices.ContainsFunc(v.failed, func(t TaskBrief) bool {
		return strings.HasPrefix(t.State, "TimedOut") || timedOut(t.Message)
	}) {
		return false
	}
	d := v.d
	d.Cause = CauseTimedOut
	what := shape.FirstNonEmpty(shape.Clip(v.msg, 200), "it exceeded its timeout")
	if i := slices.IndexFunc(v.failed, func(t TaskBrief) bool { return timedOut(t.Message) }); i >= 0 && !timedOut(v.msg) {
		what = "task " + v.failed[i].Name + ": " + v.failed[i].Message
	}
	d.Summary = fmt.Sprintf("%s timed out: %s", v.name, strings.TrimSuffix(what, ".")+".")
	d.NextSteps = []string{"Compare with the usual duration of this flow (" + tn.GetFlowRuns + " on its deployment) and raise timeout_seconds if the work legitimately grew.",
		"Find the slow step in the logs (" + tn.GetFlowRunLogs + ")."}
	return true
}

func ruleSubflow(v *runView) bool {
	if !slices.ContainsFunc(v.failed, func(t TaskBrief) bool { return t.Subflow != "" }) {
		return false
	}
	d := v.d
	d.Cause = CauseSubflowFailed
	for _, t := range v.failed {
		if t.Subflow != "" {
			d.Summary = fmt.Sprintf("%s failed because its subflow run %q (%s) failed.", v.name, t.Name, t.Subflow)
			break
		}
	}
	d.NextSteps = []string{"Diagnose the failing subflow run (" + tn.DiagnoseFlowRun + " with its id from subflow_chain)."}
	if len(v.f.Subflows) > 0 {
		applySubflowChain(d, v.f.Subflows)
	}
	return true
}

// ruleUpstream: tasks that never ran because an upstream task failed
// (NotReady, "Upstream task run '…' did not reach a 'COMPLETED' state",
// src/prefect/utilities/engine/__init__.py). The answer always names the
// root task: the one that actually raised.
func ruleUpstream(v *runView) bool {
	if len(v.notReady) == 0 {
		return false
	}
	d := v.d
	root := rootTask(v.f.Tasks)
	d.Evidence.RootTask = root
	if anyTaskRaised(v.failed) && root == nil {
		return false
	}
	d.Cause = CauseUpstreamFailed
	if root != nil {
		d.Summary = fmt.Sprintf("%s failed because task %q failed (%s); %d task run(s) downstream of it never ran.", v.name, root.Name, shape.FirstNonEmpty(shape.Clip(root.Message, 200), root.State), len(v.notReady))
		if v.exc != nil {
			d.Summary = fmt.Sprintf("%s failed because task %q raised %s; %d task run(s) downstream of it never ran.", v.name, root.Name, v.exc.short(), len(v.notReady))
		}
		d.NextSteps = []string{"Fix task " + root.Name + " (" + root.ID + "): it is the root cause; the not-ready tasks only waited for it.",
			"Read its traceback with " + tn.GetFlowRunLogs + " or " + tn.GetTaskRuns + "."}
		d.RuledOut = append(d.RuledOut, "the not-ready task runs: they never started")
		return true
	}
	d.Summary = fmt.Sprintf("%s failed because %d task run(s) never ran: an upstream task or input they depend on did not complete.", v.name, len(v.notReady))
	d.NextSteps = []string{"Find the upstream task or future that failed (its id is in the not-ready task's message) and fix it first."}
	return true
}

// ruleRetriesExhausted: the run (or its failing task) was retried until no
// retries were left.
func ruleRetriesExhausted(v *runView) bool {
	r := v.f.Run
	flowExhausted := v.allowed > 0 && r.RunCount > v.allowed
	// Prefect logs "Retries are exhausted" for any failing task, retried or
	// not; only a task that ran more than once had retries to exhaust.
	taskLog, taskExhausted := findLogEntry(v.f.ErrorLogs, func(m string) bool { return strings.Contains(m, retriesExhaustedLog) })
	taskExhausted = taskExhausted && slices.ContainsFunc(v.failed, func(t TaskBrief) bool { return t.Runs > 1 })
	if !flowExhausted && !taskExhausted {
		return false
	}
	d := v.d
	d.Cause = CauseRetriesExhausted
	first, last := oldestException(v.f.ErrorLogs), v.exc
	d.Evidence.Attempts = attempts(v.f.States, v.f.ErrorLogs)
	same := "the same error every time"
	if first != nil && last != nil && (first.Type != last.Type || first.Message != last.Message) {
		same = "the final error differs from the first (" + first.short() + ")"
	}
	if flowExhausted {
		d.Summary = fmt.Sprintf("%s failed after %d attempt(s) (%d retries allowed, all used): %s; %s.", v.name, r.RunCount, v.allowed, shape.FirstNonEmpty(last.shortOrEmpty(), shape.Clip(v.msg, 200)), same)
	} else {
		d.Evidence.Log = logLine(taskLog)
		d.Summary = fmt.Sprintf("%s failed: a task used all its retries (%s).", v.name, shape.Clip(taskLog.Message, 300))
	}
	d.NextSteps = []string{"Read the traceback in evidence.exception; retries do not help a deterministic error, so fix the code or its input.",
		"If the error is transient (timeouts, rate limits), raise retries or retry_delay_seconds."}
	return true
}

func ruleCodeError(v *runView) bool {
	if v.exc == nil && len(v.failed) == 0 {
		return false
	}
	d, exc, failed := v.d, v.exc, v.failed
	d.Cause = CauseCodeError
	switch {
	case exc != nil && len(failed) > 0:
		d.Summary = fmt.Sprintf("%s failed: task %s raised %s.", v.name, failed[0].Name, exc.short())
	case exc != nil:
		d.Summary = fmt.Sprintf("%s failed: the flow raised %s.", v.name, exc.short())
	default:
		d.Summary = fmt.Sprintf("%s failed: task %s failed (%s).", v.name, failed[0].Name, shape.Clip(failed[0].Message, 200))
	}
	if n := d.Evidence.TaskRuns["Completed"]; n > 0 && len(failed) > 0 {
		d.Summary = strings.TrimSuffix(d.Summary, ".") + fmt.Sprintf("; %d other task run(s) completed.", n)
	}
	d.NextSteps = []string{"Read the traceback in evidence.exception and fix the code or the input data it names.",
		"Re-run once fixed; " + tn.GetFlowRunLogs + " shows the full log."}
	return true
}

func ruleUnknownFailure(v *runView) bool {
	d := v.d
	d.Cause = CauseUnknownFailure
	d.Summary = fmt.Sprintf("%s failed without an exception in its ERROR logs or a failed task run (%s).", v.name, shape.FirstNonEmpty(shape.Clip(v.msg, 200), "no state message"))
	d.NextSteps = []string{"Read the full log with " + tn.GetFlowRunLogs + " (tail=true): the failure may have been logged below ERROR level."}
	return true
}

func ruleOutCode(d *RunDiagnosis) {
	d.RuledOut = append(d.RuledOut, "the flow's own code: it never started")
}

// --- helpers ---

func msgOf(s *prefect.State) string {
	if s == nil {
		return ""
	}
	return s.Message
}

func optional(s string, ok bool) string {
	if ok {
		return s
	}
	return ""
}

func retriesText(runCount, allowed int) string {
	used := max(runCount-1, 0)
	return strconv.Itoa(used) + " of " + strconv.Itoa(allowed) + " retries used"
}

func (e *Exception) short() string {
	if e.Type == "" {
		return "an exception: " + shape.Clip(e.Message, 200)
	}
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + shape.Clip(e.Message, 200)
}

func (e *Exception) shortOrEmpty() string {
	if e == nil {
		return ""
	}
	return e.short()
}

func logLine(l prefect.LogEntry) string {
	return shape.TS(l.Timestamp) + " " + shape.LevelName(l.Level) + ": " + shape.Clip(l.Message, diagnosisMsgBudget)
}

func findLogEntry(logs []prefect.LogEntry, pred func(string) bool) (prefect.LogEntry, bool) {
	for _, l := range logs {
		if pred(l.Message) {
			return l, true
		}
	}
	return prefect.LogEntry{}, false
}

func findLog(logs []prefect.LogEntry, prefix string) string {
	if l, ok := findLogEntry(logs, func(m string) bool { return strings.HasPrefix(m, prefix) }); ok {
		return logLine(l)
	}
	return ""
}

// summarizeTasks counts task runs by state and lists the failed and the
// not-ready (upstream-blocked) ones.
func summarizeTasks(tasks []prefect.TaskRun) (map[string]int, []TaskBrief, []TaskBrief) {
	counts := map[string]int{}
	var failed, notReady []TaskBrief
	for _, t := range tasks {
		counts[shape.FirstNonEmpty(t.StateName, shape.TitleState(t.StateType))]++
		b := brief(t)
		switch {
		case notReadyTask(t.StateName, b.Message):
			if len(notReady) < maxListedTasks {
				notReady = append(notReady, b)
			}
		case isFailure(t.StateType) || t.StateName == "TimedOut":
			if len(failed) < maxListedTasks {
				failed = append(failed, b)
			}
		}
	}
	return counts, failed, notReady
}

func brief(t prefect.TaskRun) TaskBrief {
	b := TaskBrief{ID: t.ID, Name: t.Name, State: shape.StateLabel(t.StateType, t.StateName), Runs: t.RunCount}
	if t.State != nil {
		b.Message = shape.Clip(t.State.Message, shape.MessageBudget)
		b.Subflow = t.State.StateDetails.ChildFlowRunID
	}
	return b
}

// notReadyTask reports a task that never ran because an upstream task or
// input did not complete (Prefect's NotReady state and its messages).
func notReadyTask(stateName, msg string) bool {
	m := strings.ToLower(msg)
	return stateName == "NotReady" || strings.Contains(m, "upstream task") || strings.Contains(m, "did not reach a 'completed' state")
}

// rootTask follows the "Upstream task run '<id>'" links from the not-ready
// tasks to the first task that failed by itself.
func rootTask(tasks []prefect.TaskRun) *TaskBrief {
	byID := map[string]prefect.TaskRun{}
	for _, t := range tasks {
		byID[t.ID] = t
	}
	for _, t := range tasks {
		if !notReadyTask(t.StateName, msgOf(t.State)) {
			continue
		}
		cur := t
		for range len(tasks) {
			m := upstreamID.FindStringSubmatch(msgOf(cur.State))
			if m == nil {
				break
			}
			up, ok := byID[m[1]]
			if !ok {
				break
			}
			if !notReadyTask(up.StateName, msgOf(up.State)) {
				b := brief(up)
				return &b
			}
			cur = up
		}
	}
	// No link in the messages: the one failed task that is not NotReady.
	var root *TaskBrief
	for _, t := range tasks {
		if isFailure(t.StateType) && !notReadyTask(t.StateName, msgOf(t.State)) {
			if root != nil {
				return nil
			}
			b := brief(t)
			root = &b
		}
	}
	return root
}

func anyTaskRaised(failed []TaskBrief) bool {
	return slices.ContainsFunc(failed, func(t TaskBrief) bool {
		m := strings.ToLower(t.Message)
		return strings.Contains(m, "exception") || strings.Contains(m, "error")
	})
}

// findException takes the newest Python traceback among the ERROR logs,
// preferring the flow's own lines over its tasks', then the state message.
func findException(logs []prefect.LogEntry, st *prefect.State) *Exception {
	for _, flowOnly := range []bool{true, false} {
		for _, l := range logs {
			if (l.TaskRunID == "") != flowOnly {
				continue
			}
			if e := traceback(l); e != nil {
				return e
			}
		}
	}
	if m := stateExc.FindStringSubmatch(msgOf(st)); m != nil {
		return &Exception{Type: m[1], Message: shape.Clip(strings.TrimSpace(m[2]), diagnosisMsgBudget), Source: "final state message"}
	}
	return nil
}

// oldestException is the first attempt's exception: the oldest traceback.
func oldestException(logs []prefect.LogEntry) *Exception {
	for i := len(logs) - 1; i >= 0; i-- {
		if e := traceback(logs[i]); e != nil {
			return e
		}
	}
	return nil
}

func traceback(l prefect.LogEntry) *Exception {
	i := strings.Index(l.Message, "Traceback (most recent call last):")
	if i < 0 {
		return nil
	}
	tb := strings.TrimSpace(l.Message[i:])
	e := &Exception{Traceback: shape.ClipHead(tb, tracebackBudget), Source: "ERROR log at " + shape.TS(l.Timestamp)}
	if l.TaskRunID != "" {
		e.Source += " (task run " + l.TaskRunID + ")"
	}
	e.Type, e.Message = lastExceptionLine(tb)
	return e
}

// attempts lists when each attempt failed: the AwaitingRetry/Retrying
// states (each follows a failed attempt) and the final state, each with the
// traceback logged just before it.
func attempts(states []prefect.State, logs []prefect.LogEntry) []Attempt {
	var out []Attempt
	for _, s := range states {
		if s.Name != "AwaitingRetry" && s.Name != "Retrying" && !isFailure(s.Type) {
			continue
		}
		if s.Name == "Retrying" && len(out) > 0 && out[len(out)-1].State == "AwaitingRetry (SCHEDULED)" {
			continue // the same attempt, rescheduled then restarted
		}
		a := Attempt{At: shape.TS(s.Timestamp), State: shape.StateLabel(s.Type, s.Name)}
		for _, l := range logs { // newest first: the newest traceback not after the state
			if !l.Timestamp.After(s.Timestamp) {
				if e := traceback(l); e != nil {
					a.Error = e.short()
					break
				}
			}
		}
		out = append(out, a)
	}
	if len(out) > maxListedAttempts {
		out = append(out[:2], out[len(out)-maxListedAttempts+2:]...)
	}
	return out
}

// lastExceptionLine parses the "ValueError: msg" line that ends a traceback.
func lastExceptionLine(tb string) (string, string) {
	lines := strings.Split(strings.TrimRight(tb, "\n "), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(lines[i], " ") {
			continue
		}
		if m := excLine.FindStringSubmatch(line); m != nil {
			return m[1], shape.Clip(m[2], diagnosisMsgBudget)
		}
		if !strings.Contains(line, " ") {
			return line, ""
		}
	}
	return "", ""
}

// leaseRenewalLog returns the ERROR line that reports a failed concurrency
// lease renewal, if any.
func leaseRenewalLog(logs []prefect.LogEntry) string {
	for _, l := range logs {
		m := strings.ToLower(l.Message)
		if strings.Contains(m, "lease renewal") || (strings.Contains(m, "lease") && strings.Contains(m, "410")) {
			return logLine(l)
		}
	}
	return ""
}

// timedOut matches Prefect's own timeout messages ("Flow run exceeded
// timeout of 60.0 second(s)", "Task run exceeded timeout of …";
// flow_engine.py, task_engine.py), not an exception that merely mentions one.
func timedOut(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "exceeded timeout of")
}

func exitCode(msg string) string {
	if m := exitCodeExpr.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// cancelledBy names who cancelled a run from its Cancelling/Cancelled state
// messages, then its events' related automation; a bare cancel has neither.
func cancelledBy(r prefect.FlowRun, states []prefect.State, events []prefect.Event) string {
	msgs := []string{msgOf(r.State)}
	for i := len(states) - 1; i >= 0; i-- {
		if states[i].Type == "CANCELLED" || states[i].Type == "CANCELLING" {
			msgs = append(msgs, states[i].Message)
		}
	}
	for _, m := range msgs {
		if a := byAutomation.FindStringSubmatch(m); a != nil {
			return "automation " + shape.FirstNonEmpty(a[1], a[2])
		}
	}
	for _, e := range events {
		if !strings.HasSuffix(e.Event, ".Cancelling") && !strings.HasSuffix(e.Event, ".Cancelled") {
			continue
		}
		for _, rel := range e.Related {
			if id := rel["prefect.resource.id"]; strings.HasPrefix(id, "prefect.automation.") {
				return "automation " + shape.FirstNonEmpty(rel["prefect.resource.name"], strings.TrimPrefix(id, "prefect.automation."))
			}
		}
	}
	for _, m := range msgs {
		if u := cancelledByX.FindStringSubmatch(strings.TrimSpace(m)); u != nil {
			return "user " + strings.Trim(u[1], " .'\"")
		}
	}
	return "an unknown actor (no state message names a user or automation)"
}

// runLocation says where a run ran: pool, queue, pid, and the worker and
// last heartbeat found in its events.
func runLocation(r prefect.FlowRun, events []prefect.Event) *RunWhere {
	w := &RunWhere{WorkPool: r.WorkPoolName, WorkQueue: r.WorkQueueName, InfraPID: r.InfrastructurePID,
		Started: shape.TSP(r.StartTime), Ended: shape.TSP(r.EndTime), Duration: shape.Dur(r.TotalRunTime)}
	for _, e := range events { // newest first
		if w.LastHeartbeat == "" && e.Event == HeartbeatEvent {
			w.LastHeartbeat = shape.TS(e.Occurred)
		}
		if w.Worker != "" {
			continue
		}
		for _, res := range append([]map[string]string{e.Resource}, e.Related...) {
			if id := res["prefect.resource.id"]; strings.HasPrefix(id, "prefect.worker.") {
				w.Worker = shape.FirstNonEmpty(res["prefect.resource.name"], strings.TrimPrefix(id, "prefect.worker."))
				break
			}
		}
	}
	if *w == (RunWhere{}) {
		return nil
	}
	return w
}

// applySubflowChain makes the deepest failing subflow the root cause.
func applySubflowChain(d *RunDiagnosis, chain []SubflowFacts) {
	for i, s := range chain {
		_, failed, _ := summarizeTasks(s.Tasks)
		d.Subflows = append(d.Subflows, SubflowHop{Depth: i + 1, ID: s.Run.ID, Name: s.Run.Name, State: shape.StateLabel(s.Run.StateType, s.Run.StateName),
			Message: shape.Clip(msgOf(s.Run.State), shape.MessageBudget), Exception: findException(s.ErrorLogs, s.Run.State), Failed: failed})
	}
	hops := d.Subflows
	root := hops[len(hops)-1]
	what := "failed"
	if root.Exception != nil {
		what = "raised " + root.Exception.short()
	} else if root.Message != "" {
		what = "failed: " + shape.Clip(root.Message, 200)
	}
	d.Summary = fmt.Sprintf("Flow run %q failed because its subflow run %q %s.", d.FlowRun.Name, root.Name, what)
	if len(hops) > 1 {
		d.Summary = fmt.Sprintf("Flow run %q failed because subflow %q failed; the root cause is %d level(s) down in %q, which %s.",
			d.FlowRun.Name, hops[0].Name, len(hops), root.Name, what)
	}
	// The parent's own traceback only re-raises the child's error.
	if d.Evidence.Exception != nil {
		d.Evidence.Exception.Traceback = ""
	}
	d.NextSteps = []string{
		"Fix the root cause in subflow run " + root.Name + " (" + root.ID + "); its exception and traceback are in subflow_chain.",
		tn.DiagnoseFlowRun + " on " + root.ID + " gives its full diagnosis.",
	}
}

// clipHeadKeep keeps the end of a traceback within n bytes; 0 drops it.
func clipHeadKeep(s string, n int) string {
	if n == 0 {
		return ""
	}
	return shape.ClipHead(s, n)
}

// podReason finds the Kubernetes observer's pod event of the run with a
// termination reason (OOMKilled, Evicted, …).
func podReason(events []prefect.Event) (string, string) {
	for _, e := range events {
		if !strings.HasPrefix(e.Event, "prefect.kubernetes.pod.") {
			continue
		}
		reason := shape.FirstNonEmpty(e.Resource["kubernetes.reason"], e.Resource["kubernetes.diagnosis"])
		if reason == "" {
			continue
		}
		return reason, shape.TS(e.Occurred) + " " + e.Event + " (pod " + e.Resource["prefect.resource.name"] + ", reason " + reason + ")"
	}
	return "", ""
}
