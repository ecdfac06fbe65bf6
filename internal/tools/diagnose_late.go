package tools

import (
	"context"
	"strconv"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/diagnosis"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

type diagnoseLateInput struct {
	DeploymentID string `json:"deployment_id,omitempty" jsonschema:"id or flow/deployment"`
	WorkPoolName string `json:"work_pool_name,omitempty"`
	Workspace
}

func diagnoseLateRunsTool() Definition {
	return define(Definition{
		Name: ToolDiagnoseLateRuns, Title: "Diagnose late runs", Group: GroupDiagnosis,
		Summary: "Why scheduled runs are not starting (Late / AwaitingConcurrencySlot): paused pool, no online worker, full pool/queue/deployment/global limit, paused queue or deployment; with a deployment, its scheduling health (paused, each schedule's next occurrence, the scheduler's latest run); tag limits holding task runs reported separately.",
	}, `Why runs are not starting: Late and AwaitingConcurrencySlot runs by deployment/pool/queue, each with its blocker (paused pool/queue/deployment, no online worker, a full pool/queue/deployment/global limit) and evidence. With deployment_id: its scheduling health (paused, next run). No argument: whole workspace.
Example: {"work_pool_name":"k8s-pool"}`,
		nil, diagnoseLateRuns)
}

// lateDiagnosis is the answer as the tool returns it (next steps pruned to
// the offered tools).
type lateDiagnosis diagnosis.LateDiagnosis

func (r *lateDiagnosis) forOffered(o Offered) any {
	r.NextSteps = o.steps(r.NextSteps)
	for i := range r.Groups {
		r.Groups[i].NextSteps = o.steps(r.Groups[i].NextSteps)
	}
	return r
}

func diagnoseLateRuns(ctx context.Context, c *call, in diagnoseLateInput) (*lateDiagnosis, error) {
	scope, err := c.diagnosisScope(ctx, in.DeploymentID, in.WorkPoolName)
	if err != nil {
		return nil, err
	}
	f, err := diagnosis.GatherLate(ctx, c.target.Client, scope, c.deps.now())
	if prefect.IsNotFound(err) && scope.DeploymentID != "" {
		return nil, deploymentNotFound(scope.DeploymentID)
	}
	if err != nil {
		return nil, err
	}
	if len(f.Late) == 0 {
		// The deployment's existence was read with its scheduling.
		if err := c.checkScopeExists(ctx, diagnosis.Scope{WorkPool: scope.WorkPool}); err != nil {
			return nil, err
		}
	}
	d := diagnosis.DiagnoseLate(f)
	diagnosis.FitLate(&d)
	return (*lateDiagnosis)(&d), nil
}

// diagnosisScope resolves the deployment reference and trims the pool name
// of the late and stuck diagnoses.
func (c *call) diagnosisScope(ctx context.Context, deployment, pool string) (diagnosis.Scope, error) {
	s := diagnosis.Scope{WorkPool: strings.TrimSpace(pool)}
	if deployment != "" {
		id, err := c.resolveDeployment(ctx, "deployment_id", deployment)
		if err != nil {
			return s, err
		}
		s.DeploymentID = id
	}
	return s, nil
}

func deploymentNotFound(id string) error {
	return &notFound{msg: "deployment " + id + " was not found; list deployments with " + ToolGetDeployments}
}

// checkScopeExists turns an empty answer for an unknown deployment or pool
// into not-found instead of a misleading "nothing is late".
func (c *call) checkScopeExists(ctx context.Context, s diagnosis.Scope) error {
	if s.DeploymentID != "" {
		err := c.target.Client.Get(ctx, prefect.Path("/deployments/%s", s.DeploymentID), nil, nil)
		if prefect.IsNotFound(err) {
			return deploymentNotFound(s.DeploymentID)
		}
		if err != nil {
			return err
		}
	}
	if s.WorkPool != "" {
		if err := pathName("work pool", s.WorkPool, poolNameBanned, ToolGetWorkPools); err != nil {
			return err
		}
		err := c.target.Client.Get(ctx, prefect.Path("/work_pools/%s", s.WorkPool), nil, nil)
		if prefect.IsNotFound(err) {
			return &notFound{msg: "work pool " + strconv.Quote(clip(s.WorkPool, 80)) + " was not found; list pools with " + ToolGetWorkPools}
		}
		return err
	}
	return nil
}
