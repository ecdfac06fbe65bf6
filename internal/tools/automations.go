package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/trigger"
)

const (
	// automationsScan is how many automations one call reads when the
	// filter has enabled, which Prefect's AutomationFilter lacks: one
	// request at Prefect's cap, applied here; next_offset continues it.
	automationsScan = apiMaxLimit
	// maxAutomationIDs bounds filter.id: one GET per id, in one round.
	maxAutomationIDs        = 20
	automationsDefaultLimit = 20
	maxDetailAutomations    = 10
	automationDescBudget    = 200
	automationJSONBudget    = 3000
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
	}, `Automations: enabled, trigger in words ("reactive: ≥3 × prefect.flow-run.Failed within 10 min"), actions. filter: AutomationFilter keys plus id and enabled (checks 200 a call; next_offset resumes); ids add full definitions. `+ToolDiagnoseAutomation+` says why one did not fire.
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

// automationDetail is a row with, when selected by id, its full
// definitions (each raw JSON, or a JSON string when clipped).
type automationDetail struct {
	automationRow
	Created           string          `json:"created,omitempty"`
	Updated           string          `json:"updated,omitempty"`
	TriggerDefinition json.RawMessage `json:"trigger_definition,omitempty"`
	ActionDefinitions json.RawMessage `json:"action_definitions,omitempty"`
	OnTrigger         json.RawMessage `json:"actions_on_trigger_definitions,omitempty"`
	OnResolve         json.RawMessage `json:"actions_on_resolve_definitions,omitempty"`
}

type automationsResult struct {
	Automations []automationDetail `json:"automations"`
	// Scanned is how many automations the call checked against enabled,
	// from offset; Note says where to continue.
	Scanned int    `json:"scanned,omitempty"`
	Note    string `json:"note,omitempty"`
	Page
}

// rawJSON is clipJSON as raw JSON.
func rawJSON(v any, max int) json.RawMessage {
	switch x := clipJSON(v, max).(type) {
	case json.RawMessage:
		return x
	case string:
		b, _ := json.Marshal(x)
		return b
	}
	return nil
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
			list, ok2 := m[prefect.OpAny].([]any)
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
			if len(q.ids) > maxAutomationIDs {
				return q, badInput("filter.id.any_ has %d ids; give at most %d per call", len(q.ids), maxAutomationIDs)
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
	if len(q.ids) > 0 && len(q.server) > 0 {
		return q, badInput("filter.id selects automations directly; combine it only with enabled, not with %s", strings.Join(slices.Sorted(maps.Keys(q.server)), ", "))
	}
	if err := c.checkFilter("AutomationFilter", q.server); err != nil {
		return q, err
	}
	return q, nil
}

func getAutomations(ctx context.Context, c *call, in automationsInput) (*automationsResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, automationsDefaultLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	q, err := parseAutomationFilter(c, in.Filter)
	if err != nil {
		return nil, err
	}
	var (
		autos []prefect.Automation
		res   = &automationsResult{}
	)
	switch {
	case len(q.ids) > 0:
		if autos, err = c.automationsByID(ctx, q); err != nil {
			return nil, err
		}
		if len(autos) == 0 {
			return nil, &notFound{msg: "no automation has id " + strings.Join(q.ids, " or ") + "; list automations with " + ToolGetAutomations + " (no filter) to find ids"}
		}
		if q.enabled != nil {
			autos = slices.DeleteFunc(autos, func(a prefect.Automation) bool { return a.Enabled != *q.enabled })
		}
		more := len(autos) > offset+limit
		autos = autos[min(offset, len(autos)):min(offset+limit, len(autos))]
		res.Page = newPage(len(autos), offset, more)
	case q.enabled != nil:
		if autos, err = c.scanAutomations(ctx, q, limit, offset, res); err != nil {
			return nil, err
		}
	default:
		var more bool
		if autos, more, err = postPage[prefect.Automation](ctx, c, "/automations/filter", automationsBody(q), limit, offset); err != nil {
			return nil, err
		}
		res.Page = newPage(len(autos), offset, more)
	}
	names, err := c.automationNames(ctx, autos)
	if err != nil {
		return nil, err
	}
	res.Automations = make([]automationDetail, len(autos))
	detail := len(q.ids) > 0 && len(autos) <= maxDetailAutomations
	for i := range autos {
		a := &autos[i]
		res.Automations[i].automationRow = c.newAutomationRow(a, names)
		if detail {
			d := &res.Automations[i]
			d.Created, d.Updated = ts(a.Created), ts(a.Updated)
			d.TriggerDefinition = rawJSON(a.Trigger, automationJSONBudget)
			d.ActionDefinitions = rawJSON(a.Actions, automationJSONBudget)
			d.OnTrigger = rawJSON(a.ActionsOnTrigger, automationJSONBudget)
			d.OnResolve = rawJSON(a.ActionsOnResolve, automationJSONBudget)
			d.Description = clip(a.Description, detailBudget)
		}
	}
	return res, nil
}

func automationsBody(q automationQuery) prefect.Body {
	body := prefect.Body{"sort": "NAME_ASC"}
	if len(q.server) > 0 {
		body["automations"] = q.server
	}
	return body
}

// automationsByID reads the selected automations, one GET each in one
// round (Prefect's AutomationFilter has no id), unknown ids dropped, in
// name order.
func (c *call) automationsByID(ctx context.Context, q automationQuery) ([]prefect.Automation, error) {
	found := make([]*prefect.Automation, len(q.ids))
	jobs := make([]func(context.Context) error, len(q.ids))
	for i, id := range q.ids {
		jobs[i] = func(ctx context.Context) error {
			var a prefect.Automation
			if err := c.target.Client.Get(ctx, prefect.Path("/automations/%s", id), nil, &a); err != nil {
				if prefect.IsNotFound(err) {
					return nil
				}
				return err
			}
			found[i] = &a
			return nil
		}
	}
	if err := parallel(ctx, maxAutomationIDs, jobs...); err != nil {
		return nil, err
	}
	var out []prefect.Automation
	for _, a := range found {
		if a != nil && !slices.ContainsFunc(out, func(b prefect.Automation) bool { return strings.EqualFold(a.ID, b.ID) }) {
			out = append(out, *a)
		}
	}
	slices.SortStableFunc(out, func(a, b prefect.Automation) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// scanAutomations reads automationsScan automations from offset (in name
// order, matching the rest of the filter) and keeps those matching
// enabled, up to limit: one request whatever the number of automations.
// next_offset is where the scan stopped, so the next call continues it.
func (c *call) scanAutomations(ctx context.Context, q automationQuery, limit, offset int, res *automationsResult) ([]prefect.Automation, error) {
	body := automationsBody(q)
	body["limit"], body["offset"] = automationsScan, offset
	var batch []prefect.Automation
	if err := c.target.Client.Post(ctx, "/automations/filter", body, &batch); err != nil {
		return nil, err
	}
	var out []prefect.Automation
	scanned := 0
	for _, a := range batch {
		if len(out) == limit {
			break
		}
		scanned++
		if a.Enabled == *q.enabled {
			out = append(out, a)
		}
	}
	res.Page = Page{Count: len(out)}
	res.Scanned = scanned
	// A full batch may have more behind it; so may automations left unread
	// in this batch once limit matched.
	if scanned < len(batch) || len(batch) == automationsScan {
		res.Truncated, res.NextOffset = true, offset+scanned
		res.Note = fmt.Sprintf("enabled is applied here: this call checked automations %d to %d by name; continue with offset %d", offset, offset+scanned-1, offset+scanned)
	}
	return out, nil
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
