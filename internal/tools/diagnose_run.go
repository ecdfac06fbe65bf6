package tools

import (
	"context"

	"github.com/prefect-mcp/prefect-mcp/internal/diagnosis"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

type diagnoseRunInput struct {
	FlowRunID string `json:"flow_run_id" jsonschema:"the flow run's id or name"`
	Workspace
}

func diagnoseFlowRunTool() Definition {
	return define(Definition{
		Name: ToolDiagnoseFlowRun, Title: "Diagnose a flow run", Group: GroupDiagnosis,
		Summary: "Why a flow run failed, crashed or was cancelled, or whether a running one is still alive, in one call: cause, evidence, failing tasks and subflows, retries, where it ran, next steps.",
	}, `Why a flow run failed, crashed or was cancelled; for a Running, Pending or Cancelling run, whether it is still alive. Causes include code error, retries exhausted, timeout, bad parameters, result persistence, a failed upstream task or subflow (walked to the root), pull step or flow load failure, crashed or unsubmittable infrastructure (exit code meaning: OOM, SIGTERM, image), lease renewal failure, cancelled, stuck pending or cancelling, zombie, orphaned, silent, alive but slow. With evidence, next steps, ruled_out.
Example: {"flow_run_id":"crimson-falcon"}`,
		nil, diagnoseFlowRun)
}

func diagnoseFlowRun(ctx context.Context, c *call, in diagnoseRunInput) (*runDiagnosis, error) {
	id, err := c.resolveFlowRun(ctx, "flow_run_id", in.FlowRunID)
	if err != nil {
		return nil, err
	}
	facts, err := diagnosis.GatherRun(ctx, c.target.Client, id, c.deps.now())
	if prefect.IsNotFound(err) {
		return nil, &notFound{msg: "flow run " + id + " was not found; list runs with " + ToolGetFlowRuns + " to find its id"}
	}
	if err != nil {
		return nil, err
	}
	out := diagnosis.DiagnoseRun(facts)
	out.FlowRun.UIURL = c.uiURL(uiFlowRun, out.FlowRun.ID)
	diagnosis.FitRun(&out)
	res := runDiagnosis(out)
	return &res, nil
}

// runDiagnosis is the answer as the tool returns it (next steps pruned to
// the offered tools).
type runDiagnosis diagnosis.RunDiagnosis
