package tools

import (
	"context"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/diagnosis"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

type diagnoseAutomationInput struct {
	AutomationID  string `json:"automation_id" jsonschema:"the automation's id or name"`
	LookbackHours int    `json:"lookback_hours,omitempty" jsonschema:"hours of events to read, default 24"`
	Workspace
}

func diagnoseAutomationTool() Definition {
	return define(Definition{
		Name: ToolDiagnoseAutomation, Title: "Diagnose an automation", Group: GroupDiagnosis,
		Summary: "Why an automation did or did not fire, and whether its actions failed: trigger in words, matching events counted against the threshold and window (per for_each key, after events, proactive windows), triggered/failed action events with reasons; cause, next steps, ruled_out.",
	}, `Why an automation did or did not fire: matching events counted against its threshold and window, whether it triggered, and failed actions with reasons.
Example: {"automation_id":"<uuid>"}`,
		func(s *jsonschema.Schema) { bound(s, "lookback_hours", 1, diagnosis.MaxAutomationHours) },
		diagnoseAutomation)
}

func diagnoseAutomation(ctx context.Context, c *call, in diagnoseAutomationInput) (*automationDiagnosis, error) {
	id, err := c.resolveAutomation(ctx, "automation_id", in.AutomationID)
	if err != nil {
		return nil, err
	}
	hours := in.LookbackHours
	if hours == 0 {
		hours = diagnosis.DefaultAutomationHours
	}
	if hours < 1 || hours > diagnosis.MaxAutomationHours {
		return nil, badInput("lookback_hours must be between 1 and %d (got %d)", diagnosis.MaxAutomationHours, hours)
	}
	facts, err := diagnosis.GatherAutomation(ctx, c.target.Client, id, hours, c.deps.now())
	if prefect.IsNotFound(err) {
		return nil, &notFound{msg: "automation " + id + " was not found; list automations with " + ToolGetAutomations}
	}
	if err != nil {
		return nil, err
	}
	out := diagnosis.DiagnoseAutomation(facts)
	diagnosis.FitAutomation(&out)
	return (*automationDiagnosis)(&out), nil
}

// automationDiagnosis is the answer as the tool returns it (next steps
// pruned to the offered tools).
type automationDiagnosis diagnosis.AutomationDiagnosis
