package tools

import (
	"context"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/trigger"
)

const (
	// automationsPageSize is Prefect's row cap per /automations/filter call.
	automationsPageSize = apiMaxLimit
	// maxAutomationPages bounds the client-side scan used for id and enabled
	// filters, which Prefect's AutomationFilter does not have.
	maxAutomationPages   = 10
	maxDetailAutomations = 10
	automationDescBudget = 200
	automationJSONBudget = 3000
)

// automationFilterKeys are what get_automations accepts: Prefect's
// AutomationFilter keys plus id and enabled, applied here.
var automationFilterKeys = []string{"created", "enabled", "id", "name", "operator", "tags"}

type automationsInput struct {
	Filter map[string]any `json:"filter,omitempty"`
	Limit  int            `json:"limit,omitempty"`
	Offset int            `json:"offset,omitempty"`
	Workspace
}

func automationsTool() Definition {
	return define(Definition{
		Name: ToolGetAutomations, Title: "Get automations", Group: GroupAutomations,
		Summary: "Automations with their trigger in words and their actions; full trigger and action definitions when selected by id.",
	}, `Automations: enabled, trigger in words ("reactive: ≥3 × prefect.flow-run.Failed within 10 min"), actions. filter: AutomationFilter keys plus id and enabled; selecting ids adds full trigger and actions. `+ToolDiagnoseAutomation+` says why one did not fire.
Example: {"filter":{"enabled":{"eq_":true}}}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getAutomations)
}

type automationRow struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Enabled     bool     `json:"enabled"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	TriggerKind string   `json:"trigger_kind"`
	Trigger     string   `json:"trigger"`
	Actions     []string `json:"actions"`
	UIURL       string   `json:"ui_url,omitempty"`
}

type automationDetail struct {
	automationRow
	Created           string `json:"created,omitempty"`
	Updated           string `json:"updated,omitempty"`
	TriggerDefinition any    `json:"trigger_definition,omitempty"`
	ActionDefinitions any    `json:"action_definitions,omitempty"`
	OnTrigger         any    `json:"actions_on_trigger_definitions,omitempty"`
	OnResolve         any    `json:"actions_on_resolve_definitions,omitempty"`
}

// automationQuery is a validated get_automations filter.
type automationQuery struct {
	server  map[string]any // AutomationFilter sent to Prefect
	ids     []string
	enabled *bool
}

func parseAutomationFilter(c *call, f map[string]any) (automationQuery, error) {
	q := automationQuery{server: map[string]any{}}
	for k, v := range f {
		switch k {
		case "id":
			m, ok := v.(map[string]any)
			list, ok2 := m["any_"].([]any)
			if !ok || !ok2 || len(m) != 1 {
				return q, badInput(`filter.id must be {"any_":["<uuid>", ...]}`)
			}
			for _, raw := range list {
				s, _ := raw.(string)
				id, err := checkUUID("filter.id.any_ entry", s)
				if err != nil {
					return q, err
				}
				q.ids = append(q.ids, id)
			}
			if len(q.ids) == 0 {
				return q, badInput(`filter.id.any_ is empty; give at least one automation id`)
			}
		case "enabled":
			b, ok := v.(bool)
			if m, isMap := v.(map[string]any); isMap && len(m) == 1 {
				b, ok = m["eq_"].(bool)
			}
			if !ok {
				return q, badInput(`filter.enabled must be {"eq_":true} or {"eq_":false}`)
			}
			q.enabled = &b
		default:
			if !slices.Contains(automationFilterKeys, k) {
				return q, badInput("unknown filter key %q; allowed keys: %s", clip(k, 60), strings.Join(automationFilterKeys, ", "))
			}
			q.server[k] = v
		}
	}
	if err := c.checkFilter("AutomationFilter", q.server); err != nil {
		return q, err
	}
	return q, nil
}

func getAutomations(ctx context.Context, c *call, in automationsInput) (any, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	q, err := parseAutomationFilter(c, in.Filter)
	if err != nil {
		return nil, err
	}
	autos, more, err := c.readAutomations(ctx, q, limit, offset)
	if err != nil {
		return nil, err
	}
	if len(q.ids) > 0 && len(autos) == 0 && offset == 0 {
		return nil, &notFound{msg: "no automation has id " + strings.Join(q.ids, " or ") + "; list automations with " + ToolGetAutomations + " (no filter) to find ids"}
	}
	names, err := c.automationNames(ctx, autos)
	if err != nil {
		return nil, err
	}
	pg := newPage(len(autos), offset, more)
	if len(q.ids) > 0 && len(autos) <= maxDetailAutomations {
		out := make([]automationDetail, len(autos))
		for i := range autos {
			a := &autos[i]
			out[i] = automationDetail{
				automationRow:     c.newAutomationRow(a, names),
				Created:           ts(a.Created),
				Updated:           ts(a.Updated),
				TriggerDefinition: clipJSON(a.Trigger, automationJSONBudget),
				ActionDefinitions: clipJSON(a.Actions, automationJSONBudget),
				OnTrigger:         clipJSON(a.ActionsOnTrigger, automationJSONBudget),
				OnResolve:         clipJSON(a.ActionsOnResolve, automationJSONBudget),
			}
			out[i].Description = clip(a.Description, detailBudget)
		}
		return struct {
			Automations []automationDetail `json:"automations"`
			Page
		}{out, pg}, nil
	}
	rows := make([]automationRow, len(autos))
	for i := range autos {
		rows[i] = c.newAutomationRow(&autos[i], names)
	}
	return struct {
		Automations []automationRow `json:"automations"`
		Page
	}{rows, pg}, nil
}

// readAutomations reads one page from Prefect, or, when the filter has id or
// enabled (which Prefect's AutomationFilter lacks), scans all automations
// matching the rest and applies them here.
func (c *call) readAutomations(ctx context.Context, q automationQuery, limit, offset int) ([]prefect.Automation, bool, error) {
	body := map[string]any{"sort": "NAME_ASC"}
	if len(q.server) > 0 {
		body["automations"] = q.server
	}
	if len(q.ids) == 0 && q.enabled == nil {
		return postPage[prefect.Automation](ctx, c, "/automations/filter", body, limit, offset)
	}
	var matched []prefect.Automation
	for p := 0; p < maxAutomationPages; p++ {
		body["limit"], body["offset"] = automationsPageSize, p*automationsPageSize
		var batch []prefect.Automation
		if err := c.target.Client.Post(ctx, "/automations/filter", body, &batch); err != nil {
			return nil, false, err
		}
		for _, a := range batch {
			if len(q.ids) > 0 && !slices.Contains(q.ids, strings.ToLower(a.ID)) {
				continue
			}
			if q.enabled != nil && a.Enabled != *q.enabled {
				continue
			}
			matched = append(matched, a)
		}
		if len(batch) < automationsPageSize {
			break
		}
	}
	if offset >= len(matched) {
		return nil, false, nil
	}
	matched = matched[offset:]
	if len(matched) > limit {
		return matched[:limit], true, nil
	}
	return matched, false, nil
}

// automationNames resolves the deployment and flow ids automations refer to
// (trigger match_related, action targets): one request per kind.
func (c *call) automationNames(ctx context.Context, autos []prefect.Automation) (map[string]string, error) {
	depIDs, flowIDs := trigger.Refs(autos...)
	var deps, flows map[string]string
	err := parallel(ctx, 2,
		func(ctx context.Context) (err error) {
			deps, err = c.namesByID(ctx, "deployments", depIDs)
			return err
		},
		func(ctx context.Context) (err error) {
			flows, err = c.namesByID(ctx, "flows", flowIDs)
			return err
		})
	if err != nil {
		return nil, err
	}
	return trigger.Names(deps, flows), nil
}

func (c *call) newAutomationRow(a *prefect.Automation, names map[string]string) automationRow {
	row := automationRow{
		ID: a.ID, Name: a.Name, Enabled: a.Enabled, Tags: a.Tags, UIURL: c.uiURL(uiAutomation, a.ID),
		Description: clip(a.Description, automationDescBudget),
		TriggerKind: trigger.Kind(a.Trigger),
		Trigger:     trigger.Summary(a.Trigger, names),
		Actions:     []string{},
	}
	for _, act := range a.Actions {
		row.Actions = append(row.Actions, trigger.Action(act, names))
	}
	for _, act := range a.ActionsOnTrigger {
		row.Actions = append(row.Actions, "on trigger: "+trigger.Action(act, names))
	}
	for _, act := range a.ActionsOnResolve {
		row.Actions = append(row.Actions, "on resolve: "+trigger.Action(act, names))
	}
	return row
}
