package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Prompts are the common investigations, offered to clients as slash
// commands. Each names the tool to call first and what to check next; a
// prompt is offered only when its first tool is, and a later step only when
// its tool is, so a prompt never names a tool the server does not offer.

// maxPromptArg bounds a prompt argument (names and ids are far shorter).
const maxPromptArg = 200

// completion sources for prompt arguments and resource template variables.
type completeKind int

const (
	completeNone completeKind = iota
	completeFlowRun
	completeDeployment
	completeWorkPool
	completeAutomation
	completeSince
)

type promptArg struct {
	name, description string
	required          bool
	complete          completeKind
}

// promptDef is one prompt; text renders its message from the arguments,
// with has reporting whether a tool is offered.
type promptDef struct {
	name, title, description string
	first                    string // the tool to call first; the prompt needs it
	args                     []promptArg
	text                     func(args map[string]string, has func(string) bool) string
}

// steps numbers the steps whose tool is offered; "" marks a step without one.
type steps struct {
	b   strings.Builder
	n   int
	has func(string) bool
}

func (s *steps) add(tool, format string, a ...any) {
	if tool != "" && !s.has(tool) {
		return
	}
	s.n++
	fmt.Fprintf(&s.b, "%d. %s\n", s.n, fmt.Sprintf(format, a...))
}

// args renders tool arguments as compact JSON, leaving out empty values.
func argsJSON(kv ...string) string {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func quoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const readOnlyClose = "This server is read-only: for any change (retry, cancel, pause, resume, edit), give the user the Prefect CLI or UI step and let them make it."

func allPrompts() []promptDef {
	return []promptDef{
		{
			name: "debug-flow-run", title: "Debug a flow run", first: ToolDiagnoseFlowRun,
			description: "Why a flow run failed, crashed or was cancelled, and what to do about it.",
			args:        []promptArg{{name: "flow_run", description: "the flow run's name or id", required: true, complete: completeFlowRun}},
			text: func(a map[string]string, has func(string) bool) string {
				ref := a["flow_run"]
				s := &steps{has: has}
				fmt.Fprintf(&s.b, "Find out why the Prefect flow run %s failed, crashed or misbehaved, and what to do about it.\n", quoted(ref))
				s.add(ToolDiagnoseFlowRun, "Call "+ToolDiagnoseFlowRun+" first with %s: the cause, the exception and traceback, the failing tasks and subflows, retries and where it ran.", argsJSON("flow_run_id", ref))
				s.add(ToolGetFlowRunLogs, "If the cause is unclear or the traceback is missing, read the end of its logs: "+ToolGetFlowRunLogs+" with %s.", `{"flow_run_id":`+quoted(ref)+`,"tail":true}`)
				s.add(ToolGetRunStateHistory, "For retries, pauses or time stuck in a state, read its timeline with "+ToolGetRunStateHistory+".")
				s.add(ToolGetWorkPools, "If it crashed or never started, check its work pool and workers (status, last heartbeat) with "+ToolGetWorkPools+".")
				s.b.WriteString("Then answer: the cause in one sentence, the evidence (quote the error), and the fix. " + readOnlyClose)
				return s.b.String()
			},
		},
		{
			name: "why-late", title: "Why are runs late?", first: ToolDiagnoseLateRuns,
			description: "Why scheduled runs are not starting (Late, AwaitingConcurrencySlot): paused pools, no workers, full limits.",
			args: []promptArg{
				{name: "deployment", description: "only this deployment (flow/deployment)", complete: completeDeployment},
				{name: "work_pool", description: "only this work pool", complete: completeWorkPool},
			},
			text: func(a map[string]string, has func(string) bool) string {
				s := &steps{has: has}
				scope := ""
				if a["deployment"] != "" {
					scope += " of deployment " + quoted(a["deployment"])
				}
				if a["work_pool"] != "" {
					scope += " in work pool " + quoted(a["work_pool"])
				}
				fmt.Fprintf(&s.b, "Find out why scheduled Prefect flow runs%s are not starting (Late, or waiting for a concurrency slot).\n", scope)
				s.add(ToolDiagnoseLateRuns, "Call "+ToolDiagnoseLateRuns+" first with %s: for each group of late runs it names the blocker (a paused work pool, queue or deployment, no online worker, or a full concurrency limit) with evidence.",
					argsJSON("deployment_id", a["deployment"], "work_pool_name", a["work_pool"]))
				s.add(ToolGetWorkPools, "When no worker is online, check the pool's workers and their last heartbeat with "+ToolGetWorkPools+".")
				s.add(ToolGetConcurrencyLimits, "When a limit is full, see every limit and its slots in use with "+ToolGetConcurrencyLimits+".")
				s.add(ToolGetFlowRuns, `To list the late runs themselves: `+ToolGetFlowRuns+` with {"filter":{"state":{"name":{"any_":["Late"]}}}}.`)
				s.b.WriteString("Then answer: what blocks the runs, the evidence, and the change that would unblock them. " + readOnlyClose)
				return s.b.String()
			},
		},
		{
			name: "automation-not-firing", title: "Why did an automation not fire?", first: ToolDiagnoseAutomation,
			description: "Why an automation did or did not fire, and whether its actions failed.",
			args:        []promptArg{{name: "automation", description: "the automation's name or id", required: true, complete: completeAutomation}},
			text: func(a map[string]string, has func(string) bool) string {
				ref := a["automation"]
				s := &steps{has: has}
				fmt.Fprintf(&s.b, "Find out why the Prefect automation %s did not fire, or why its actions failed.\n", quoted(ref))
				s.add(ToolDiagnoseAutomation, "Call "+ToolDiagnoseAutomation+" first with %s: its trigger in words, matching events counted against the threshold and window, and triggered or failed actions with reasons.", argsJSON("automation_id", ref))
				s.add(ToolGetAutomations, "For the full trigger and action definitions, call "+ToolGetAutomations+" and select it by id.")
				s.add(ToolReadEvents, "To see which events did arrive and on which resources, call "+ToolReadEvents+" with the event name the trigger expects.")
				s.b.WriteString("Then answer: whether it should have fired, why it did not (or why the action failed), and what to change in the trigger. " + readOnlyClose)
				return s.b.String()
			},
		},
		{
			name: "rate-limited", title: "Is Prefect Cloud rate limiting us?", first: ToolReviewRateLimits,
			description: "Prefect Cloud only: when the workspace was rate limited (429s) and what failed because of it.",
			args:        []promptArg{{name: "since", description: "start of the period: RFC 3339 or relative like -24h (default the last 3 days)", complete: completeSince}},
			text: func(a map[string]string, has func(string) bool) string {
				s := &steps{has: has}
				s.b.WriteString("Find out whether Prefect Cloud rate limits (HTTP 429) are hurting this workspace, and what failed because of them.\n")
				s.add(ToolReviewRateLimits, "Call "+ToolReviewRateLimits+" first with %s: when each operation group was throttled, denied totals and peaks, and the failed runs and 429 log lines in those periods.", argsJSON("since", a["since"]))
				s.add(ToolDiagnoseFlowRun, "For a failed run it lists, confirm the cause with "+ToolDiagnoseFlowRun+".")
				s.b.WriteString("Then answer: which operations are throttled and when, what failed because of it, and how to lower the request rate (fewer concurrent runs or API calls, client-side retries with backoff). " + readOnlyClose)
				return s.b.String()
			},
		},
		{
			name: "workspace-health", title: "Workspace health check", first: ToolGetDashboard,
			description: "An overview of the workspace: runs by state, pools and workers, failing or stuck deployments, what needs attention first.",
			text: func(_ map[string]string, has func(string) bool) string {
				s := &steps{has: has}
				s.b.WriteString("Give an overview of this Prefect workspace's health and what needs attention first.\n")
				s.add(ToolGetDashboard, "Call "+ToolGetDashboard+" first: run counts by state, work pools with status, limits at capacity, the latest failures.")
				s.add(ToolGetDeploymentActivity, "Find failing, stuck or dormant deployments with "+ToolGetDeploymentActivity+".")
				s.add(ToolDiagnoseLateRuns, "If runs are late, call "+ToolDiagnoseLateRuns+".")
				s.add(ToolDiagnoseFlowRun, "For one or two of the latest failures, call "+ToolDiagnoseFlowRun+".")
				s.add(ToolReviewRateLimits, "On Prefect Cloud, check for throttling with "+ToolReviewRateLimits+".")
				s.b.WriteString("Then answer with a short list: what is healthy, what needs attention (most urgent first), and the next step for each. " + readOnlyClose)
				return s.b.String()
			},
		},
	}
}

// offeredPrompts are the prompts whose first tool is offered.
func offeredPrompts(offered Offered) []promptDef {
	var out []promptDef
	for _, p := range allPrompts() {
		if offered.Has(p.first) {
			out = append(out, p)
		}
	}
	return out
}

func (p promptDef) prompt() *mcp.Prompt {
	mp := &mcp.Prompt{Name: p.name, Title: p.title, Description: p.description}
	for _, a := range p.args {
		mp.Arguments = append(mp.Arguments, &mcp.PromptArgument{Name: a.name, Description: a.description, Required: a.required})
	}
	return mp
}

func (p promptDef) handler(offered Offered) mcp.PromptHandler {
	return func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		args := map[string]string{}
		for _, a := range p.args {
			v := strings.TrimSpace(req.Params.Arguments[a.name])
			switch {
			case v == "" && a.required:
				return nil, invalidParams("prompt %s needs the argument %s: %s", p.name, a.name, a.description)
			case len(v) > maxPromptArg:
				return nil, invalidParams("argument %s is %d characters; at most %d", a.name, len(v), maxPromptArg)
			}
			args[a.name] = v
		}
		for name := range req.Params.Arguments {
			if !slices.ContainsFunc(p.args, func(a promptArg) bool { return a.name == name }) {
				return nil, invalidParams("prompt %s has no argument %q", p.name, clip(name, 40))
			}
		}
		return &mcp.GetPromptResult{
			Description: p.description,
			Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: p.text(args, offered.Has)}}},
		}, nil
	}
}

func invalidParams(format string, a ...any) error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf(format, a...)}
}
