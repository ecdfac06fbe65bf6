package tools

import (
	"context"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/diagnosis"
)

type diagnoseStuckInput struct {
	DeploymentID string `json:"deployment_id,omitempty" jsonschema:"id or flow/deployment"`
	WorkPoolName string `json:"work_pool_name,omitempty"`
	MinMinutes   int    `json:"min_minutes,omitempty" jsonschema:"floor in minutes; default 10x the usual duration (min 2), or 30 without history"`
	Workspace
}

func diagnoseStuckRunsTool() Definition {
	return define(Definition{
		Name: ToolDiagnoseStuckRuns, Title: "Diagnose stuck runs", Group: GroupDiagnosis,
		Summary: "Runs Running or Pending beyond 10× their deployment's usual duration (at least 2 min), judged by flow-run heartbeats and workers: orphaned, zombie, silent, slow or stuck pending.",
	}, `Runs Running or Pending beyond 10x their deployment's median duration (min 2 min; 30 without history), verdict from heartbeats and workers: orphaned, zombie, silent, alive_slow, stuck_pending.
Example: {"min_minutes":60}`,
		func(s *jsonschema.Schema) { bound(s, "min_minutes", 1, diagnosis.MaxStuckMinutes) },
		diagnoseStuckRuns)
}

// stuckDiagnosis is the answer as the tool returns it (next steps pruned to
// the offered tools).
type stuckDiagnosis diagnosis.StuckDiagnosis

func (r *stuckDiagnosis) forOffered(o Offered) any {
	r.NextSteps = o.steps(r.NextSteps)
	return r
}

func diagnoseStuckRuns(ctx context.Context, c *call, in diagnoseStuckInput) (*stuckDiagnosis, error) {
	if in.MinMinutes < 0 || in.MinMinutes > diagnosis.MaxStuckMinutes {
		return nil, badInput("min_minutes must be between 1 and %d (got %d)", diagnosis.MaxStuckMinutes, in.MinMinutes)
	}
	scope, err := c.diagnosisScope(ctx, in.DeploymentID, in.WorkPoolName)
	if err != nil {
		return nil, err
	}
	f, err := diagnosis.GatherStuck(ctx, c.target.Client, scope, in.MinMinutes, c.deps.now())
	if err != nil {
		return nil, err
	}
	if len(f.Active) == 0 {
		if err := c.checkScopeExists(ctx, scope); err != nil {
			return nil, err
		}
	}
	d := diagnosis.DiagnoseStuck(f)
	diagnosis.FitStuck(&d)
	return (*stuckDiagnosis)(&d), nil
}
