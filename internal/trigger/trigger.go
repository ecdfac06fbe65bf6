// Package trigger puts an automation's trigger and actions into words
// ("reactive: ≥3 × prefect.flow-run.Failed related to deployment etl-hourly
// within 10 min"). It sits below both the tools (get_automations) and the
// diagnosis rules (diagnose_automation), which show the same text.
package trigger

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/shape"
)

// Byte budgets of the texts.
const (
	SummaryBudget = 600
	actionBudget  = 240
	maxDepth      = 3
)

// Refs lists the deployment and flow ids automations refer to (trigger
// match_related, action targets): the names Summary and Action show, keyed
// in their names map as prefect.deployment.<id> and prefect.flow.<id>.
func Refs(autos ...prefect.Automation) (deployments, flows []string) {
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
					add(&deployments, s)
				case strings.HasPrefix(s, "prefect.deployment."):
					add(&deployments, strings.TrimPrefix(s, "prefect.deployment."))
				case strings.HasPrefix(s, "prefect.flow."):
					add(&flows, strings.TrimPrefix(s, "prefect.flow."))
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
	return deployments, flows
}

// Names keys the names of deployments and flows by id (as read for the ids
// Refs gave) the way Summary and Action look them up.
func Names(deployments, flows map[string]string) map[string]string {
	names := make(map[string]string, len(deployments)+len(flows))
	for id, name := range deployments {
		names["prefect.deployment."+id] = name
	}
	for id, name := range flows {
		names["prefect.flow."+id] = name
	}
	return names
}

// Kind is "reactive", "proactive", "metric", "compound" or "sequence".
func Kind(t map[string]any) string {
	typ, _ := t["type"].(string)
	if typ == "event" || typ == "" {
		if p, _ := t["posture"].(string); p != "" {
			return strings.ToLower(p)
		}
	}
	return typ
}

// Summary describes an automation trigger in one line of words, e.g.
// "reactive: ≥3 × prefect.flow-run.Failed related to deployment etl-hourly
// within 10 min". names maps resource ids (prefect.deployment.<id>,
// prefect.flow.<id>) to names and may be nil. Shared by the automation and
// diagnosis tools; the result is bounded.
func Summary(t map[string]any, names map[string]string) string {
	return shape.Clip(summarize(t, names, 0), SummaryBudget)
}

func summarize(t map[string]any, names map[string]string, depth int) string {
	if depth >= maxDepth {
		return "…"
	}
	typ, _ := t["type"].(string)
	within := Seconds(t["within"])
	switch typ {
	case "compound", "sequence":
		children, _ := t["triggers"].([]any)
		parts := make([]string, 0, len(children))
		for _, ch := range children {
			m, _ := ch.(map[string]any)
			parts = append(parts, summarize(m, names, depth+1))
		}
		var b strings.Builder
		if typ == "sequence" {
			b.WriteString("sequence: in order [" + strings.Join(parts, " → ") + "]")
		} else {
			b.WriteString("compound: " + require(t["require"], len(children)) + " [" + strings.Join(parts, "; ") + "]")
		}
		if within != "" {
			b.WriteString(" within " + within)
		}
		return b.String()
	case "metric":
		return metricSummary(t, names)
	case "event", "":
	default:
		return typ + " trigger"
	}
	posture, _ := t["posture"].(string)
	threshold := 1
	if n, ok := t["threshold"].(float64); ok && n >= 0 && n < math.MaxInt32 {
		threshold = int(n)
	}
	expect := Strings(t["expect"])
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
	if after := Strings(t["after"]); len(after) > 0 {
		b.WriteString(" after " + strings.Join(after, " or "))
	}
	b.WriteString(match(t, expect, names))
	if each := Strings(t["for_each"]); len(each) > 0 {
		b.WriteString(" per " + strings.Join(each, ", "))
	}
	if within != "" {
		b.WriteString(" within " + within)
	}
	return b.String()
}

// metricSummary covers Prefect Cloud's metric triggers.
func metricSummary(t map[string]any, names map[string]string) string {
	m, _ := t["metric"].(map[string]any)
	name, _ := m["name"].(string)
	op, _ := m["operator"].(string)
	var b strings.Builder
	b.WriteString("metric: " + cmp.Or(name, "?") + " " + cmp.Or(op, "?") + " " + number(m["threshold"]))
	if r := Seconds(m["range"]); r != "" {
		b.WriteString(" over " + r)
	}
	if f := Seconds(m["firing_for"]); f != "" {
		b.WriteString(" for " + f)
	}
	b.WriteString(match(t, nil, names))
	return b.String()
}

func require(v any, n int) string {
	switch x := v.(type) {
	case string:
		if x == "all" {
			return "all of " + strconv.Itoa(n)
		}
		return "any of " + strconv.Itoa(n)
	case float64:
		return number(x) + " of " + strconv.Itoa(n)
	}
	return "all of " + strconv.Itoa(n)
}

// match renders match and match_related; a match on the expected
// events' own resource kind ("prefect.flow-run.*" for flow-run events) says
// nothing and is left out.
func match(t map[string]any, expect []string, names map[string]string) string {
	var b strings.Builder
	if m, ok := t["match"].(map[string]any); ok && len(m) > 0 && !impliedMatch(m, expect) {
		b.WriteString(" matching " + compactJSON(m))
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
			rel = append(rel, related(s, names))
		}
	}
	if len(rel) > 0 {
		b.WriteString(" related to " + strings.Join(rel, " and "))
	}
	return b.String()
}

func impliedMatch(m map[string]any, expect []string) bool {
	if len(m) != 1 {
		return false
	}
	ids := Strings(m["prefect.resource.id"])
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

// related names related resources: "deployment etl-hourly" when the
// spec is just resource ids of known names.
func related(s map[string]any, names map[string]string) string {
	if len(s) == 1 {
		ids := Strings(s["prefect.resource.id"])
		if v, ok := s["prefect.resource.id"].(string); ok {
			ids = []string{v}
		}
		if len(ids) > 0 {
			out := make([]string, len(ids))
			for i, id := range ids {
				out[i] = resource(id, names)
			}
			return strings.Join(out, " or ")
		}
	}
	return compactJSON(s)
}

// resource turns prefect.deployment.<id> into "deployment <name>" when
// the name is known.
func resource(id string, names map[string]string) string {
	if name, ok := names[id]; ok && name != "" {
		kind := strings.TrimPrefix(id, "prefect.")
		if i := strings.IndexByte(kind, '.'); i > 0 {
			kind = kind[:i]
		}
		return kind + " " + name
	}
	return id
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return shape.Clip(string(b), 200)
}

// Seconds formats a seconds value as "10 min", "26 h", "2 d", "45 s";
// empty for zero or absent.
func Seconds(v any) string {
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
	return number(s) + " s"
}

func number(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "?"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Strings is a trigger's list of strings (expect, after, for_each), sorted.
func Strings(v any) []string {
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

// Action describes one automation action, e.g. "pause-deployment
// etl-hourly" or "run-deployment backfill with parameters {...}".
func Action(a map[string]any, names map[string]string) string {
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
		if p := shape.ClipJSON(a["parameters"], 150); p != nil {
			s += " with parameters " + rawText(p)
		}
		if jv := shape.ClipJSON(a["job_variables"], 150); jv != nil {
			s += " and job variables " + rawText(jv)
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
		s = typ + " (the triggering flow run) to " + shape.StateLabel(state, name)
	case "send-notification", "call-webhook":
		s = typ
		if subj, _ := a["subject"].(string); subj != "" {
			s += " subject " + strconv.Quote(shape.Clip(subj, 80))
		}
	default:
		s = typ
	}
	return shape.Clip(s, actionBudget)
}

func rawText(v any) string {
	switch x := v.(type) {
	case json.RawMessage:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
