package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

const (
	// automationsPageSize is Prefect's row cap per /automations/filter call.
	automationsPageSize = apiMaxLimit
	// maxAutomationPages bounds the client-side scan used for id and enabled
	// filters, which Prefect's AutomationFilter does not have.
	maxAutomationPages    = 10
	maxDetailAutomations  = 10
	triggerSummaryBudget  = 600
	automationDescBudget  = 200
	actionTextBudget      = 240
	automationJSONBudget  = 3000
	maxTriggerSummaryDeep = 3
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
	var depIDs, flowIDs []string
	add := func(list *[]string, id string) {
		if prefect.IsUUID(id) && !slices.Contains(*list, id) {
			*list = append(*list, id)
		}
	}
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				s, _ := val.(string)
				switch {
				case k == "deployment_id":
					add(&depIDs, s)
				case strings.HasPrefix(s, "prefect.deployment."):
					add(&depIDs, strings.TrimPrefix(s, "prefect.deployment."))
				case strings.HasPrefix(s, "prefect.flow."):
					add(&flowIDs, strings.TrimPrefix(s, "prefect.flow."))
				default:
					visit(val)
				}
			}
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					visit(map[string]any{"": s})
				} else {
					visit(e)
				}
			}
		}
	}
	for _, a := range autos {
		visit(a.Trigger)
		for _, list := range [][]map[string]any{a.Actions, a.ActionsOnTrigger, a.ActionsOnResolve} {
			for _, act := range list {
				visit(act)
			}
		}
	}
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
	names := map[string]string{}
	for id, name := range deps {
		names["prefect.deployment."+id] = name
	}
	for id, name := range flows {
		names["prefect.flow."+id] = name
	}
	return names, nil
}

func (c *call) newAutomationRow(a *prefect.Automation, names map[string]string) automationRow {
	row := automationRow{
		ID: a.ID, Name: a.Name, Enabled: a.Enabled, Tags: a.Tags, UIURL: c.uiURL(uiAutomation, a.ID),
		Description: clip(a.Description, automationDescBudget),
		TriggerKind: triggerKind(a.Trigger),
		Trigger:     triggerSummary(a.Trigger, names),
		Actions:     []string{},
	}
	for _, act := range a.Actions {
		row.Actions = append(row.Actions, actionText(act, names))
	}
	for _, act := range a.ActionsOnTrigger {
		row.Actions = append(row.Actions, "on trigger: "+actionText(act, names))
	}
	for _, act := range a.ActionsOnResolve {
		row.Actions = append(row.Actions, "on resolve: "+actionText(act, names))
	}
	return row
}

// triggerKind is "reactive", "proactive", "metric", "compound" or "sequence".
func triggerKind(t map[string]any) string {
	typ, _ := t["type"].(string)
	if typ == "event" || typ == "" {
		if p, _ := t["posture"].(string); p != "" {
			return strings.ToLower(p)
		}
	}
	return typ
}

// triggerSummary describes an automation trigger in one line of words, e.g.
// "reactive: ≥3 × prefect.flow-run.Failed related to deployment etl-hourly
// within 10 min". names maps resource ids (prefect.deployment.<id>,
// prefect.flow.<id>) to names and may be nil. Shared by the automation and
// diagnosis tools; the result is bounded.
func triggerSummary(t map[string]any, names map[string]string) string {
	return clip(summarizeTrigger(t, names, 0), triggerSummaryBudget)
}

func summarizeTrigger(t map[string]any, names map[string]string, depth int) string {
	if depth >= maxTriggerSummaryDeep {
		return "…"
	}
	typ, _ := t["type"].(string)
	within := triggerSeconds(t["within"])
	switch typ {
	case "compound", "sequence":
		children, _ := t["triggers"].([]any)
		parts := make([]string, 0, len(children))
		for _, ch := range children {
			m, _ := ch.(map[string]any)
			parts = append(parts, summarizeTrigger(m, names, depth+1))
		}
		var b strings.Builder
		if typ == "sequence" {
			b.WriteString("sequence: in order [" + strings.Join(parts, " → ") + "]")
		} else {
			b.WriteString("compound: " + triggerRequire(t["require"], len(children)) + " [" + strings.Join(parts, "; ") + "]")
		}
		if within != "" {
			b.WriteString(" within " + within)
		}
		return b.String()
	case "metric":
		return metricTriggerSummary(t, names)
	case "event", "":
	default:
		return typ + " trigger"
	}
	posture, _ := t["posture"].(string)
	threshold := 1
	if n, ok := t["threshold"].(float64); ok && n >= 0 && n < math.MaxInt32 {
		threshold = int(n)
	}
	expect := triggerStrings(t["expect"])
	events := "any event"
	if len(expect) > 0 {
		events = strings.Join(expect, " or ")
	}
	var b strings.Builder
	switch strings.ToLower(posture) {
	case "proactive":
		fmt.Fprintf(&b, "proactive: fewer than %d × %s", threshold, events)
	default:
		b.WriteString(strings.ToLower(cmp.Or(posture, "reactive")) + ": ")
		if threshold <= 1 && within == "" {
			b.WriteString("each " + events)
		} else {
			fmt.Fprintf(&b, "≥%d × %s", threshold, events)
		}
	}
	if after := triggerStrings(t["after"]); len(after) > 0 {
		b.WriteString(" after " + strings.Join(after, " or "))
	}
	b.WriteString(triggerMatch(t, expect, names))
	if each := triggerStrings(t["for_each"]); len(each) > 0 {
		b.WriteString(" per " + strings.Join(each, ", "))
	}
	if within != "" {
		b.WriteString(" within " + within)
	}
	return b.String()
}

// metricTriggerSummary covers Prefect Cloud's metric triggers.
func metricTriggerSummary(t map[string]any, names map[string]string) string {
	m, _ := t["metric"].(map[string]any)
	name, _ := m["name"].(string)
	op, _ := m["operator"].(string)
	var b strings.Builder
	b.WriteString("metric: " + cmp.Or(name, "?") + " " + cmp.Or(op, "?") + " " + triggerNumber(m["threshold"]))
	if r := triggerSeconds(m["range"]); r != "" {
		b.WriteString(" over " + r)
	}
	if f := triggerSeconds(m["firing_for"]); f != "" {
		b.WriteString(" for " + f)
	}
	b.WriteString(triggerMatch(t, nil, names))
	return b.String()
}

func triggerRequire(v any, n int) string {
	switch x := v.(type) {
	case string:
		if x == "all" {
			return "all of " + strconv.Itoa(n)
		}
		return "any of " + strconv.Itoa(n)
	case float64:
		return triggerNumber(x) + " of " + strconv.Itoa(n)
	}
	return "all of " + strconv.Itoa(n)
}

// triggerMatch renders match and match_related; a match on the expected
// events' own resource kind ("prefect.flow-run.*" for flow-run events) says
// nothing and is left out.
func triggerMatch(t map[string]any, expect []string, names map[string]string) string {
	var b strings.Builder
	if m, ok := t["match"].(map[string]any); ok && len(m) > 0 && !triggerImpliedMatch(m, expect) {
		b.WriteString(" matching " + triggerJSON(m))
	}
	var specs []map[string]any
	switch x := t["match_related"].(type) {
	case map[string]any:
		specs = append(specs, x)
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				specs = append(specs, m)
			}
		}
	}
	var rel []string
	for _, s := range specs {
		if len(s) > 0 {
			rel = append(rel, triggerRelated(s, names))
		}
	}
	if len(rel) > 0 {
		b.WriteString(" related to " + strings.Join(rel, " and "))
	}
	return b.String()
}

func triggerImpliedMatch(m map[string]any, expect []string) bool {
	if len(m) != 1 {
		return false
	}
	ids := triggerStrings(m["prefect.resource.id"])
	if s, ok := m["prefect.resource.id"].(string); ok {
		ids = []string{s}
	}
	if len(ids) != 1 {
		return false
	}
	if ids[0] == "*" {
		return true
	}
	kind, ok := strings.CutSuffix(ids[0], "*")
	if !ok || len(expect) == 0 {
		return false
	}
	for _, e := range expect {
		if !strings.HasPrefix(e, kind) {
			return false
		}
	}
	return true
}

// triggerRelated names related resources: "deployment etl-hourly" when the
// spec is just resource ids of known names.
func triggerRelated(s map[string]any, names map[string]string) string {
	if len(s) == 1 {
		ids := triggerStrings(s["prefect.resource.id"])
		if v, ok := s["prefect.resource.id"].(string); ok {
			ids = []string{v}
		}
		if len(ids) > 0 {
			out := make([]string, len(ids))
			for i, id := range ids {
				out[i] = triggerResource(id, names)
			}
			return strings.Join(out, " or ")
		}
	}
	return triggerJSON(s)
}

// triggerResource turns prefect.deployment.<id> into "deployment <name>" when
// the name is known.
func triggerResource(id string, names map[string]string) string {
	if name, ok := names[id]; ok && name != "" {
		kind := strings.TrimPrefix(id, "prefect.")
		if i := strings.IndexByte(kind, '.'); i > 0 {
			kind = kind[:i]
		}
		return kind + " " + name
	}
	return id
}

func triggerJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return clip(string(b), 200)
}

// triggerSeconds formats a seconds value as "10 min", "26 h", "2 d", "45 s";
// empty for zero or absent.
func triggerSeconds(v any) string {
	s, ok := v.(float64)
	if !ok || s <= 0 || math.IsInf(s, 0) || math.IsNaN(s) || s > 1e12 {
		return ""
	}
	n := int64(math.Round(s))
	switch {
	case n >= 86400 && n%86400 == 0:
		return strconv.FormatInt(n/86400, 10) + " d"
	case n >= 3600 && n%3600 == 0:
		return strconv.FormatInt(n/3600, 10) + " h"
	case n >= 60 && n%60 == 0:
		return strconv.FormatInt(n/60, 10) + " min"
	}
	return triggerNumber(s) + " s"
}

func triggerNumber(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "?"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func triggerStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out) // Prefect stores these as sets: order carries no meaning
	return out
}

// actionText describes one automation action, e.g. "pause-deployment
// etl-hourly" or "run-deployment backfill with parameters {...}".
func actionText(a map[string]any, names map[string]string) string {
	typ, _ := a["type"].(string)
	if typ == "" {
		typ = "unknown action"
	}
	inferred := a["source"] == "inferred"
	target := func(idKey, kind, inferredText string) string {
		if inferred {
			return typ + " (" + inferredText + ")"
		}
		id, _ := a[idKey].(string)
		if id == "" {
			return typ
		}
		if name := names["prefect."+kind+"."+id]; name != "" {
			return typ + " " + name + " (" + id + ")"
		}
		return typ + " " + id
	}
	var s string
	switch typ {
	case "run-deployment":
		s = target("deployment_id", "deployment", "the deployment of the triggering event")
		if p := clipJSON(a["parameters"], 150); p != nil {
			s += " with parameters " + actionJSON(p)
		}
		if jv := clipJSON(a["job_variables"], 150); jv != nil {
			s += " and job variables " + actionJSON(jv)
		}
	case "pause-deployment", "resume-deployment":
		s = target("deployment_id", "deployment", "the deployment of the triggering event")
	case "pause-work-queue", "resume-work-queue":
		s = target("work_queue_id", "work-queue", "the work queue of the triggering event")
	case "pause-work-pool", "resume-work-pool":
		s = target("work_pool_id", "work-pool", "the work pool of the triggering event")
	case "pause-automation", "resume-automation":
		s = target("automation_id", "automation", "the triggering automation")
	case "cancel-flow-run", "suspend-flow-run", "resume-flow-run", "delete-flow-run":
		s = typ + " (the triggering flow run)"
	case "change-flow-run-state":
		state, _ := a["state"].(string)
		name, _ := a["name"].(string)
		s = typ + " (the triggering flow run) to " + stateLabel(state, name)
	case "send-notification", "call-webhook":
		s = typ
		if subj, _ := a["subject"].(string); subj != "" {
			s += " subject " + strconv.Quote(clip(subj, 80))
		}
	default:
		s = typ
	}
	return clip(s, actionTextBudget)
}

func actionJSON(v any) string {
	switch x := v.(type) {
	case json.RawMessage:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
