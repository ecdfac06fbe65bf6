package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Bounds of diagnose_flow_run: everything it reads is a fixed number of
// requests, whatever the number of task runs or log lines.
const (
	diagnosisParallel  = 6
	diagnosisBudget    = 8 << 10 // bytes of one diagnosis result
	tracebackBudget    = 3 << 10
	maxSubflowDepth    = 3
	maxErrorLogs       = 50
	maxRunTasks        = 200
	maxListedTasks     = 8
	maxListedStates    = 12
	diagnosisMsgBudget = 600
	// leaseCrashMessage is the state message Prefect 3.8 gives a run whose
	// concurrency lease could not be renewed (the cause is only in the logs).
	leaseCrashMessage = "Execution was cancelled by the runtime environment."
)

// Causes diagnose_flow_run reports.
const (
	causeCodeError      = "code_error"
	causeCrashedInfra   = "crashed_infrastructure"
	causeLeaseRenewal   = "concurrency_lease_renewal_failure"
	causeCancelled      = "cancelled"
	causeTimedOut       = "timed_out"
	causeUpstreamFailed = "upstream_dependency_failed"
	causeSubflowFailed  = "subflow_failed"
	causeNotFailed      = "not_failed"
	causeUnknownFailure = "unknown_failure"
)

const (
	logLevelError        = 40 // Python's logging.ERROR
	flowRunHeartbeatName = "prefect.flow-run.heartbeat"
)

type diagnoseRunInput struct {
	FlowRunID string `json:"flow_run_id" jsonschema:"the flow run's id or name"`
	Workspace
}

func diagnoseFlowRunTool() Definition {
	return define(Definition{
		Name: ToolDiagnoseFlowRun, Title: "Diagnose a flow run", Group: GroupDiagnosis,
		Summary: "Why a flow run failed, crashed or was cancelled, in one call: cause, exception and traceback, failing tasks and subflows, retries, where it ran, next steps.",
	}, `Why a flow run failed, crashed or was cancelled, in one call: the cause (code error, crashed infrastructure, lease renewal failure, cancelled, timed out, upstream or subflow failure), exception and traceback, failed tasks, retries, where it ran, next steps.
Example: {"flow_run_id":"crimson-falcon"}`,
		nil, diagnoseFlowRun)
}

type runDiagnosis struct {
	Summary   string       `json:"summary"`
	Cause     string       `json:"cause"`
	FlowRun   runIdentity  `json:"flow_run"`
	Evidence  runEvidence  `json:"evidence"`
	NextSteps []string     `json:"next_steps,omitempty"`
	Subflows  []subflowHop `json:"subflow_chain,omitempty"`
}

type runIdentity struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Flow         string `json:"flow,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
	State        string `json:"state"`
	Subflow      bool   `json:"is_subflow,omitempty"`
	UIURL        string `json:"ui_url,omitempty"`
}

type runEvidence struct {
	StateMessage string         `json:"state_message,omitempty"`
	StateAt      string         `json:"state_at,omitempty"`
	Exception    *exceptionInfo `json:"exception,omitempty"`
	LeaseLog     string         `json:"lease_renewal_log,omitempty"`
	CancelledBy  string         `json:"cancelled_by,omitempty"`
	ExitCode     string         `json:"exit_code,omitempty"`
	Retries      string         `json:"retries,omitempty"`
	TaskRuns     map[string]int `json:"task_runs_by_state,omitempty"`
	FailedTasks  []taskBrief    `json:"failed_task_runs,omitempty"`
	NotReady     []taskBrief    `json:"not_ready_task_runs,omitempty"`
	Where        *runWhere      `json:"where,omitempty"`
	CreatedBy    string         `json:"created_by,omitempty"`
	History      []stateEntry   `json:"state_history,omitempty"`
	Note         string         `json:"note,omitempty"`
}

type exceptionInfo struct {
	Type      string `json:"type,omitempty"`
	Message   string `json:"message,omitempty"`
	Source    string `json:"source,omitempty"`
	Traceback string `json:"traceback,omitempty"`
}

type taskBrief struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	Runs    int    `json:"run_count,omitempty"`
	Subflow string `json:"child_flow_run_id,omitempty"`
}

type runWhere struct {
	WorkPool      string `json:"work_pool,omitempty"`
	WorkQueue     string `json:"work_queue,omitempty"`
	Worker        string `json:"worker,omitempty"`
	InfraPID      string `json:"infrastructure_pid,omitempty"`
	Started       string `json:"started,omitempty"`
	Ended         string `json:"ended,omitempty"`
	Duration      string `json:"duration,omitempty"`
	LastHeartbeat string `json:"last_heartbeat,omitempty"`
}

type subflowHop struct {
	Depth     int            `json:"depth"`
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	State     string         `json:"state"`
	Message   string         `json:"message,omitempty"`
	Exception *exceptionInfo `json:"exception,omitempty"`
	Failed    []taskBrief    `json:"failed_task_runs,omitempty"`
}

// runFacts is what one level of the diagnosis read about a run.
type runFacts struct {
	run       prefect.FlowRun
	errorLogs []prefect.LogEntry // ERROR and above, newest first
	tasks     []prefect.TaskRun
}

func diagnoseFlowRun(ctx context.Context, c *call, in diagnoseRunInput) (any, error) {
	id, err := c.resolveFlowRun(ctx, "flow_run_id", in.FlowRunID)
	if err != nil {
		return nil, err
	}
	// Everything is read in one concurrent round: the flow through a
	// cross filter on the run and the events in a fixed window, so neither
	// waits for the run itself.
	facts := runFacts{run: prefect.FlowRun{ID: id}}
	var (
		run    prefect.FlowRun
		states []prefect.State
		flows  []prefect.Flow
		events prefect.EventPage
	)
	now := c.deps.now()
	jobs := []func(context.Context) error{
		func(ctx context.Context) error {
			err := c.target.Client.Get(ctx, prefect.Path("/flow_runs/%s", id), nil, &run)
			if prefect.IsNotFound(err) {
				return &notFound{msg: "flow run " + id + " was not found; list runs with " + ToolGetFlowRuns + " to find its id"}
			}
			return err
		},
		func(ctx context.Context) error {
			return c.target.Client.Get(ctx, "/flow_run_states/", map[string][]string{"flow_run_id": {id}}, &states)
		},
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/flows/filter", map[string]any{
				"flow_runs": map[string]any{"id": map[string]any{"any_": []string{id}}}, "limit": 1,
			}, &flows)
		},
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/events/filter", map[string]any{
				"filter": map[string]any{
					"any_resource": map[string]any{"id": []string{"prefect.flow-run." + id}},
					"occurred":     map[string]any{"since": ts(now.Add(-eventsLookback)), "until": ts(now)},
					"order":        "DESC",
				},
				"limit": 50,
			}, &events)
		},
	}
	jobs = append(jobs, c.runFactJobs(&facts)...)
	if err := parallel(ctx, diagnosisParallel, jobs...); err != nil {
		return nil, err
	}
	facts.run = run
	var flow prefect.Flow
	if len(flows) > 0 {
		flow = flows[0]
	}
	out := classifyRun(facts, sortedStates(states), events.Events, c.deps.now())
	out.FlowRun.UIURL = c.uiURL(uiFlowRun, out.FlowRun.ID)
	out.FlowRun.Flow = flow.Name

	// Prefect 3 links a subflow through its tracking task's
	// child_flow_run_id; deeper levels are also found by parent_task_run_id.
	if out.Cause == causeSubflowFailed {
		hops, err := c.walkSubflows(ctx, facts)
		if err != nil {
			return nil, err
		}
		if len(hops) > 0 {
			applySubflowChain(&out, hops)
		}
	}
	return shrinkDiagnosis(out), nil
}

// runFactJobs reads a run's ERROR logs and task runs (two requests).
func (c *call) runFactJobs(f *runFacts) []func(context.Context) error {
	id := f.run.ID
	return []func(context.Context) error{
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/logs/filter", map[string]any{
				"logs":  map[string]any{"flow_run_id": map[string]any{"any_": []string{id}}, "level": map[string]any{"ge_": logLevelError}},
				"sort":  "TIMESTAMP_DESC",
				"limit": maxErrorLogs,
			}, &f.errorLogs)
		},
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/task_runs/filter", map[string]any{
				"task_runs": map[string]any{"flow_run_id": map[string]any{"any_": []string{id}}},
				"sort":      "EXPECTED_START_TIME_ASC",
				"limit":     maxRunTasks,
			}, &f.tasks)
		},
	}
}

// eventsLookback bounds the event search of one run: its own events
// (state changes, heartbeats, cancellations) fall well inside it.
const eventsLookback = 30 * 24 * time.Hour

func isFailure(stateType string) bool { return stateType == "FAILED" || stateType == "CRASHED" }

// classifyRun turns what was read about a run into a diagnosis.
func classifyRun(f runFacts, states []prefect.State, events []prefect.Event, now time.Time) runDiagnosis {
	r := f.run
	d := runDiagnosis{FlowRun: runIdentity{
		ID: r.ID, Name: r.Name, DeploymentID: r.DeploymentID,
		State: stateLabel(r.StateType, r.StateName), Subflow: r.ParentTaskRunID != "",
	}}
	ev := &d.Evidence
	if r.State != nil {
		ev.StateMessage = clip(r.State.Message, diagnosisMsgBudget)
		ev.StateAt = ts(r.State.Timestamp)
	}
	allowed := 0
	if r.EmpiricalPolicy.Retries != nil {
		allowed = *r.EmpiricalPolicy.Retries
	}
	if allowed > 0 || r.RunCount > 1 {
		ev.Retries = retriesText(r.RunCount, allowed)
	}
	if r.CreatedBy != nil && r.CreatedBy.Type != "" {
		ev.CreatedBy = strings.TrimSuffix(r.CreatedBy.Type+": "+r.CreatedBy.DisplayValue, ": ")
	}
	ev.Where = runLocation(r, events)
	if len(states) > maxListedStates {
		states = states[len(states)-maxListedStates:]
	}
	for _, s := range states {
		ev.History = append(ev.History, stateEntry{At: ts(s.Timestamp), State: stateLabel(s.Type, s.Name), Message: clip(s.Message, messageBudget)})
	}
	counts, failed, notReady := summarizeTasks(f.tasks)
	if len(counts) > 0 {
		ev.TaskRuns = counts
	}
	ev.FailedTasks, ev.NotReady = failed, notReady
	exc := findException(f.errorLogs, r.State)
	ev.Exception = exc
	name := fmt.Sprintf("Flow run %q", r.Name)

	switch r.StateType {
	case "CANCELLED", "CANCELLING":
		d.Cause = causeCancelled
		ev.CancelledBy = cancelledBy(r, states, events)
		ev.Exception = nil
		d.Summary = fmt.Sprintf("%s was %s by %s.", name, strings.ToLower(r.StateName), ev.CancelledBy)
		d.NextSteps = []string{"If the cancellation was unexpected, look at the automation or user named in cancelled_by (" + ToolGetAutomations + " / the audit log).",
			"Re-run the deployment if the work still needs doing."}
		return d
	case "CRASHED":
		if lease := leaseRenewalLog(f.errorLogs); lease != "" && strings.Contains(msgOf(r.State), leaseCrashMessage) {
			d.Cause = causeLeaseRenewal
			ev.LeaseLog = lease
			ev.Exception = nil
			d.Summary = fmt.Sprintf("%s crashed because its concurrency lease could not be renewed (the lease API answered 410), so Prefect stopped it to avoid over-allocating the limit.", name)
			d.NextSteps = []string{"Check the API server's health and the network between the run and the API at that time (lease renewals failed).",
				"Check the deployment or global concurrency limit the run held (" + ToolGetConcurrencyLimits + ") for slots that were reset or expired.",
				"Re-run the flow; the code itself did not fail."}
			return d
		}
		d.Cause = causeCrashedInfra
		ev.ExitCode = exitCode(msgOf(r.State))
		d.Summary = fmt.Sprintf("%s crashed: its infrastructure stopped without reporting a final state (%s).", name, firstNonEmpty(clip(msgOf(r.State), 200), "no message"))
		if ev.ExitCode == "137" || ev.ExitCode == "-9" {
			d.Summary = fmt.Sprintf("%s crashed: its process was killed (exit code %s, SIGKILL, usually out of memory).", name, ev.ExitCode)
		}
		d.NextSteps = []string{"Look at the worker's and the infrastructure's own logs (container/pod events, OOM kills) around " + ev.StateAt + ".",
			"Check the run's last log lines with " + ToolGetFlowRunLogs + " (tail=true)."}
		if ev.Where != nil && ev.Where.WorkPool != "" {
			d.NextSteps = append(d.NextSteps, "Check the work pool "+ev.Where.WorkPool+" and its workers ("+ToolGetWorkPools+").")
		}
		return d
	case "FAILED":
	default:
		d.Cause = causeNotFailed
		ev.Exception, ev.FailedTasks, ev.NotReady = nil, nil, nil
		d.Summary = notFailedSummary(r, now)
		switch {
		case r.StateType == "SCHEDULED" || r.StateType == "PENDING":
			d.NextSteps = []string{"Call " + ToolDiagnoseLateRuns + " with this run's deployment_id or work pool to see why it has not started."}
		case r.StateType == "RUNNING":
			d.NextSteps = []string{"If it runs much longer than usual, call " + ToolDiagnoseStuckRuns + "."}
		case r.StateType == "PAUSED":
			d.NextSteps = []string{"Resume it from the UI or CLI (prefect flow-run resume), or let it time out."}
		}
		return d
	}

	// Failed: timeouts, subflows, upstream failures, then the code.
	switch {
	case r.StateName == "TimedOut" || timedOut(msgOf(r.State)) || slices.ContainsFunc(failed, func(t taskBrief) bool { return strings.HasPrefix(t.State, "TimedOut") }):
		d.Cause = causeTimedOut
		d.Summary = fmt.Sprintf("%s timed out: %s", name, firstNonEmpty(clip(msgOf(r.State), 200), "it exceeded its timeout")+".")
		d.NextSteps = []string{"Compare with the usual duration of this flow (" + ToolGetFlowRuns + " on its deployment) and raise timeout_seconds if the work legitimately grew.",
			"Find the slow step in the logs (" + ToolGetFlowRunLogs + ")."}
	case hasFailedChild(failed):
		d.Cause = causeSubflowFailed
		d.Summary = fmt.Sprintf("%s failed because its subflow run %s failed.", name, firstFailedChild(failed))
		d.NextSteps = []string{"Diagnose the failing subflow run (" + ToolDiagnoseFlowRun + " with its id from subflow_chain)."}
	case len(notReady) > 0 && !anyTaskRaised(failed):
		d.Cause = causeUpstreamFailed
		d.Summary = fmt.Sprintf("%s failed because %d task run(s) never ran: an upstream task or input they depend on did not complete.", name, len(notReady))
		d.NextSteps = []string{"Find the upstream task or future that failed (its name is in the not-ready task's message) and fix it first."}
	case exc != nil || len(failed) > 0:
		d.Cause = causeCodeError
		switch {
		case exc != nil && len(failed) > 0:
			d.Summary = fmt.Sprintf("%s failed: task %s raised %s.", name, failed[0].Name, exc.short())
		case exc != nil:
			d.Summary = fmt.Sprintf("%s failed: the flow raised %s.", name, exc.short())
		default:
			d.Summary = fmt.Sprintf("%s failed: task %s failed (%s).", name, failed[0].Name, clip(failed[0].Message, 200))
		}
		if n := ev.TaskRuns["Completed"]; n > 0 && len(failed) > 0 {
			d.Summary = strings.TrimSuffix(d.Summary, ".") + fmt.Sprintf("; %d other task run(s) completed.", n)
		}
		d.NextSteps = []string{"Read the traceback in evidence.exception and fix the code or the input data it names.",
			"Re-run once fixed; " + ToolGetFlowRunLogs + " shows the full log."}
	default:
		d.Cause = causeUnknownFailure
		d.Summary = fmt.Sprintf("%s failed without an exception in its ERROR logs or a failed task run (%s).", name, firstNonEmpty(clip(msgOf(r.State), 200), "no state message"))
		d.NextSteps = []string{"Read the full log with " + ToolGetFlowRunLogs + " (tail=true): the failure may have been logged below ERROR level."}
	}
	if allowed > 0 && r.RunCount > allowed {
		d.NextSteps = append(d.NextSteps, "All allowed retries were used ("+ev.Retries+"); retries will not help a deterministic error.")
	}
	return d
}

func msgOf(s *prefect.State) string {
	if s == nil {
		return ""
	}
	return s.Message
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func (e *exceptionInfo) short() string {
	if e.Type == "" {
		return "an exception: " + clip(e.Message, 200)
	}
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + clip(e.Message, 200)
}

func notFailedSummary(r prefect.FlowRun, now time.Time) string {
	name := fmt.Sprintf("Flow run %q", r.Name)
	label := stateLabel(r.StateType, r.StateName)
	switch r.StateType {
	case "COMPLETED":
		return fmt.Sprintf("%s completed successfully; there is nothing to diagnose.", name)
	case "RUNNING":
		since := ""
		if r.StartTime != nil {
			since = " for " + dur(now.Sub(*r.StartTime).Seconds())
		}
		return fmt.Sprintf("%s is still running%s; it has not failed.", name, since)
	case "SCHEDULED", "PENDING":
		if r.StateName == "Late" || r.StateName == "AwaitingConcurrencySlot" || r.StateType == "PENDING" {
			return fmt.Sprintf("%s is %s and has not started yet; it has not failed.", name, label)
		}
		return fmt.Sprintf("%s is %s; it has not run yet, so there is nothing to diagnose.", name, label)
	case "PAUSED":
		return fmt.Sprintf("%s is paused and waiting to be resumed; it has not failed.", name)
	}
	return fmt.Sprintf("%s is %s; there is nothing to diagnose.", name, label)
}

// summarizeTasks counts task runs by state and lists the failed and the
// not-ready (upstream-blocked) ones.
func summarizeTasks(tasks []prefect.TaskRun) (map[string]int, []taskBrief, []taskBrief) {
	counts := map[string]int{}
	var failed, notReady []taskBrief
	for _, t := range tasks {
		counts[firstNonEmpty(t.StateName, titleState(t.StateType))]++
		b := taskBrief{ID: t.ID, Name: t.Name, State: stateLabel(t.StateType, t.StateName), Runs: t.RunCount}
		if t.State != nil {
			b.Message = clip(t.State.Message, messageBudget)
			b.Subflow = t.State.StateDetails.ChildFlowRunID
		}
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

// notReadyTask reports a task that never ran because an upstream task or
// input did not complete (Prefect's NotReady state and its messages).
func notReadyTask(stateName, msg string) bool {
	m := strings.ToLower(msg)
	return stateName == "NotReady" || strings.Contains(m, "upstream task") || strings.Contains(m, "did not reach a 'completed' state")
}

func hasFailedChild(failed []taskBrief) bool {
	return slices.ContainsFunc(failed, func(t taskBrief) bool { return t.Subflow != "" })
}

func firstFailedChild(failed []taskBrief) string {
	for _, t := range failed {
		if t.Subflow != "" {
			return fmt.Sprintf("%q (%s)", t.Name, t.Subflow)
		}
	}
	return ""
}

func anyTaskRaised(failed []taskBrief) bool {
	return slices.ContainsFunc(failed, func(t taskBrief) bool {
		m := strings.ToLower(t.Message)
		return strings.Contains(m, "exception") || strings.Contains(m, "error")
	})
}

var (
	excLine      = regexp.MustCompile(`^((?:[A-Za-z_]\w*\.)*[A-Z]\w*):(?:\s(.*))?$`)
	stateExc     = regexp.MustCompile(`(?s)encountered an exception:?\s+([A-Za-z_][\w.]*):\s?(.*)$`)
	exitCodeExpr = regexp.MustCompile(`(?i)(?:exit|status) code:?\s*(-?\d+)`)
	byAutomation = regexp.MustCompile(`(?i)automation\s+'([^']+)'|automation\s+"([^"]+)"`)
	cancelledByX = regexp.MustCompile(`(?i)cancel(?:l)?ed by\s+(.+?)(?:\s+from the (?:UI|API|CLI))?\s*\.?$`)
)

// findException takes the newest Python traceback among the ERROR logs,
// preferring the flow's own lines over its tasks', then the state message.
func findException(logs []prefect.LogEntry, st *prefect.State) *exceptionInfo {
	for _, flowOnly := range []bool{true, false} {
		for _, l := range logs {
			if (l.TaskRunID == "") != flowOnly {
				continue
			}
			i := strings.Index(l.Message, "Traceback (most recent call last):")
			if i < 0 {
				continue
			}
			tb := strings.TrimSpace(l.Message[i:])
			e := &exceptionInfo{Traceback: clipHead(tb, tracebackBudget), Source: "ERROR log at " + l.Timestamp.UTC().Format("2006-01-02T15:04:05Z")}
			if l.TaskRunID != "" {
				e.Source += " (task run " + l.TaskRunID + ")"
			}
			e.Type, e.Message = lastExceptionLine(tb)
			return e
		}
	}
	if m := stateExc.FindStringSubmatch(msgOf(st)); m != nil {
		return &exceptionInfo{Type: m[1], Message: clip(strings.TrimSpace(m[2]), diagnosisMsgBudget), Source: "final state message"}
	}
	return nil
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
			return m[1], clip(m[2], diagnosisMsgBudget)
		}
		if !strings.Contains(line, " ") {
			return line, ""
		}
	}
	return "", ""
}

// clipHead keeps the end of s (where a traceback's exception is) within max bytes.
func clipHead(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := len(s) - max
	for cut < len(s) && (s[cut]&0xC0) == 0x80 {
		cut++
	}
	return fmt.Sprintf("[%d earlier chars cut]…%s", cut, s[cut:])
}

// leaseRenewalLog returns the ERROR line that reports a failed concurrency
// lease renewal, if any.
func leaseRenewalLog(logs []prefect.LogEntry) string {
	for _, l := range logs {
		m := strings.ToLower(l.Message)
		if strings.Contains(m, "lease renewal") || (strings.Contains(m, "lease") && strings.Contains(m, "410")) {
			return l.Timestamp.UTC().Format("2006-01-02T15:04:05Z") + " " + levelName(l.Level) + ": " + clip(l.Message, diagnosisMsgBudget)
		}
	}
	return ""
}

// timedOut matches Prefect's own timeout messages ("Flow run exceeded
// timeout of 60.0 second(s)"), not an exception that merely mentions one.
func timedOut(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "exceeded timeout")
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
			return "automation " + firstNonEmpty(a[1], a[2])
		}
	}
	for _, e := range events {
		if !strings.HasSuffix(e.Event, ".Cancelling") && !strings.HasSuffix(e.Event, ".Cancelled") {
			continue
		}
		for _, rel := range e.Related {
			if id := rel["prefect.resource.id"]; strings.HasPrefix(id, "prefect.automation.") {
				return "automation " + firstNonEmpty(rel["prefect.resource.name"], strings.TrimPrefix(id, "prefect.automation."))
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
func runLocation(r prefect.FlowRun, events []prefect.Event) *runWhere {
	w := &runWhere{WorkPool: r.WorkPoolName, WorkQueue: r.WorkQueueName, InfraPID: r.InfrastructurePID,
		Started: tsp(r.StartTime), Ended: tsp(r.EndTime), Duration: dur(r.TotalRunTime)}
	for _, e := range events { // newest first
		if w.LastHeartbeat == "" && e.Event == flowRunHeartbeatName {
			w.LastHeartbeat = ts(e.Occurred)
		}
		if w.Worker != "" {
			continue
		}
		for _, res := range append([]map[string]string{e.Resource}, e.Related...) {
			if id := res["prefect.resource.id"]; strings.HasPrefix(id, "prefect.worker.") {
				w.Worker = firstNonEmpty(res["prefect.resource.name"], strings.TrimPrefix(id, "prefect.worker."))
				break
			}
		}
	}
	if *w == (runWhere{}) {
		return nil
	}
	return w
}

// walkSubflows follows the failing child flow run down to the root cause,
// at most maxSubflowDepth levels; each level costs three requests.
func (c *call) walkSubflows(ctx context.Context, parent runFacts) ([]subflowHop, error) {
	var hops []subflowHop
	cur := parent
	for depth := 1; depth <= maxSubflowDepth; depth++ {
		var childIDs, taskIDs []string
		for _, t := range cur.tasks {
			if !isFailure(t.StateType) {
				continue
			}
			taskIDs = append(taskIDs, t.ID)
			if t.State != nil && t.State.StateDetails.ChildFlowRunID != "" {
				childIDs = append(childIDs, t.State.StateDetails.ChildFlowRunID)
			}
		}
		if len(taskIDs) == 0 {
			break
		}
		filter := map[string]any{"parent_task_run_id": map[string]any{"any_": taskIDs}}
		if len(childIDs) > 0 {
			filter = map[string]any{"operator": "or_", "id": map[string]any{"any_": childIDs}, "parent_task_run_id": map[string]any{"any_": taskIDs}}
		}
		var children []prefect.FlowRun
		if err := c.target.Client.Post(ctx, "/flow_runs/filter", map[string]any{"flow_runs": filter, "sort": "EXPECTED_START_TIME_ASC", "limit": 20}, &children); err != nil {
			return nil, err
		}
		idx := slices.IndexFunc(children, func(r prefect.FlowRun) bool { return isFailure(r.StateType) })
		if idx < 0 {
			break
		}
		next := runFacts{run: children[idx]}
		if err := parallel(ctx, diagnosisParallel, c.runFactJobs(&next)...); err != nil {
			return nil, err
		}
		_, failed, _ := summarizeTasks(next.tasks)
		hop := subflowHop{Depth: depth, ID: next.run.ID, Name: next.run.Name, State: stateLabel(next.run.StateType, next.run.StateName),
			Message: clip(msgOf(next.run.State), messageBudget), Exception: findException(next.errorLogs, next.run.State), Failed: failed}
		hops = append(hops, hop)
		cur = next
	}
	return hops, nil
}

// applySubflowChain makes the deepest failing subflow the root cause.
func applySubflowChain(d *runDiagnosis, hops []subflowHop) {
	d.Subflows = hops
	root := hops[len(hops)-1]
	d.Cause = causeSubflowFailed
	what := "failed"
	if root.Exception != nil {
		what = "raised " + root.Exception.short()
	} else if root.Message != "" {
		what = "failed: " + clip(root.Message, 200)
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
		ToolDiagnoseFlowRun + " on " + root.ID + " gives its full diagnosis.",
	}
}

// shrinkDiagnosis keeps a diagnosis under diagnosisBudget by dropping the
// least useful detail first.
func shrinkDiagnosis(d runDiagnosis) runDiagnosis {
	size := func() int { b, _ := json.Marshal(d); return len(b) }
	steps := []func(){
		func() {
			if n := len(d.Evidence.History); n > 5 {
				d.Evidence.History = d.Evidence.History[n-5:]
			}
		},
		func() {
			for i := range d.Subflows {
				if d.Subflows[i].Exception != nil && i < len(d.Subflows)-1 {
					d.Subflows[i].Exception.Traceback = ""
				}
			}
		},
		func() {
			if e := d.Evidence.Exception; e != nil {
				e.Traceback = clipHead(e.Traceback, 1200)
			}
			for i := range d.Subflows {
				if e := d.Subflows[i].Exception; e != nil {
					e.Traceback = clipHead(e.Traceback, 1200)
				}
			}
		},
		func() { d.Evidence.History = nil },
		func() {
			if len(d.Evidence.FailedTasks) > 3 {
				d.Evidence.FailedTasks = d.Evidence.FailedTasks[:3]
			}
			d.Evidence.NotReady = nil
		},
	}
	for _, step := range steps {
		if size() <= diagnosisBudget {
			break
		}
		step()
	}
	return d
}
