package diagnosis

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/shape"
	tn "github.com/prefect-mcp/prefect-mcp/internal/toolname"
	"github.com/prefect-mcp/prefect-mcp/internal/trigger"
)

// Causes diagnose_automation reports.
const (
	AutoDisabled          = "disabled"
	AutoActionFailed      = "action_failed"
	AutoFired             = "fired"
	AutoNotEventTrigger   = "not_an_event_trigger"
	AutoNoEvents          = "no_matching_events"
	AutoProactiveQuiet    = "proactive_expected_events_missing"
	AutoProactiveOK       = "proactive_expected_events_arriving"
	AutoBelowThreshold    = "threshold_not_reached"
	maxListedFailures     = 3
	maxAutomationExamples = 3
)

// Events Prefect 3.8's server emits about an automation, with resource
// prefect.automation.<id>: its trigger firing and resolving
// (src/prefect/server/events/triggers.py) and each action's outcome
// (src/prefect/server/events/actions.py).
const (
	eventTriggered      = "prefect.automation.triggered"
	eventResolved       = "prefect.automation.resolved"
	eventActionExecuted = "prefect.automation.action.executed"
	eventActionFailed   = "prefect.automation.action.failed"
)

// autoView is the derived data the automation rules share.
type autoView struct {
	f       *AutomationFacts
	d       *AutomationDiagnosis
	name    string // Automation "name"
	span    string // "24 h"
	fired   string // "fired 2 time(s) in the last 24 h (last at …)"; empty: not fired
	et      eventTrigger
	isEvent bool
	// Counted from the matching events, for an event trigger.
	noEvents bool // nothing it counts (for a proactive trigger with after: no after event)
	short    bool // proactive: a window ended with fewer events than expected
}

type autoRule func(v *autoView) bool

// automationRules are tried in order: the automation's own state and
// events first, then what its trigger's events say.
var automationRules = []autoRule{ruleDisabled, ruleActionFailed, ruleFired, ruleNotEventTrigger,
	ruleNoEvents, ruleProactiveQuiet, ruleProactiveOK, ruleBelowThreshold}

// DiagnoseAutomation turns an automation's facts into a diagnosis.
func DiagnoseAutomation(f AutomationFacts) AutomationDiagnosis {
	a := f.Automation
	d := AutomationDiagnosis{Automation: AutomationBrief{ID: a.ID, Name: a.Name, Enabled: a.Enabled, Trigger: trigger.Summary(a.Trigger, f.Names)}}
	for _, act := range a.Actions {
		d.Automation.Actions = append(d.Automation.Actions, trigger.Action(act, f.Names))
	}
	ev := &d.Evidence
	v := &autoView{f: &f, d: &d, name: fmt.Sprintf("Automation %q", a.Name), span: fmt.Sprintf("%d h", int(f.Now.Sub(f.Since).Hours()))}
	ev.Window = fmt.Sprintf("last %s (since %s)", v.span, shape.TS(f.Since))
	summarizeOwnEvents(ev, f.Own, a, f.Names)
	if ev.Triggered > 0 {
		v.fired = fmt.Sprintf("fired %d time(s) in the last %s (last at %s)", ev.Triggered, v.span, ev.LastTriggered)
	}
	v.et, v.isEvent = parseEventTrigger(a.Trigger)
	if v.isEvent {
		matching := slices.DeleteFunc(slices.Clone(f.Matching), func(e prefect.Event) bool { return !v.et.matches(e) })
		v.count(matching)
		ev.MatchingMore = f.MatchingMore
	}
	for _, rl := range automationRules {
		if rl(v) {
			break
		}
	}
	v.ruledOut()
	return d
}

func ruleDisabled(v *autoView) bool {
	a := v.f.Automation
	if a.Enabled {
		return false
	}
	v.d.Cause = AutoDisabled
	v.d.Conclusion = v.name + " is disabled, so it does not fire whatever events arrive."
	v.d.NextSteps = []string{"Enable it in the UI or with prefect automation resume " + a.ID + " if it should run."}
	return true
}

func ruleActionFailed(v *autoView) bool {
	ev := &v.d.Evidence
	if len(ev.ActionFailures) == 0 {
		return false
	}
	f := ev.ActionFailures[0]
	v.d.Cause = AutoActionFailed
	v.d.Conclusion = fmt.Sprintf("%s %s, but its %s action failed: %s", v.name, shape.FirstNonEmpty(v.fired, "fired"), f.Type, strings.TrimSuffix(shape.FirstNonEmpty(f.Validation, f.Reason), ".")+".")
	text := strings.ToLower(f.Validation + " " + f.Reason)
	switch {
	case strings.Contains(text, "validation"):
		v.d.NextSteps = []string{"Fix the action's parameters so they match the target deployment's parameter schema (see the validation_error: a value of the wrong type or a missing field), then update the automation.",
			"Check the deployment's parameter schema with " + tn.GetDeployments + "; templated parameters render as strings unless the template yields JSON."}
	case strings.Contains(text, "not found") || f.Status == 404:
		v.d.NextSteps = []string{"The action's target no longer exists: point the action at an existing deployment, pool or queue."}
	default:
		v.d.NextSteps = []string{"Read the failure reason and fix the action's configuration; " + tn.ReadEvents + " with event_type_prefix prefect.automation.action shows every attempt."}
	}
	return true
}

func ruleFired(v *autoView) bool {
	ev := &v.d.Evidence
	if ev.Triggered == 0 {
		return false
	}
	v.d.Cause = AutoFired
	v.d.Conclusion = fmt.Sprintf("%s %s and its actions ran (%d executed, none failed).", v.name, v.fired, ev.ActionsRun)
	v.d.NextSteps = []string{"If its effect is not visible, check the objects its actions target (listed under automation.actions)."}
	return true
}

func ruleNotEventTrigger(v *autoView) bool {
	if v.isEvent {
		return false
	}
	v.d.Cause = AutoNotEventTrigger
	v.d.Conclusion = fmt.Sprintf("%s has a %s trigger and has not fired in the last %s; only event triggers are evaluated here.", v.name, trigger.Kind(v.f.Automation.Trigger), v.span)
	v.d.NextSteps = []string{"Check each sub-trigger's events with " + tn.ReadEvents + " (event_type_prefix, occurred_after)."}
	return true
}

func ruleNoEvents(v *autoView) bool {
	if !v.noEvents {
		return false
	}
	et := v.et
	why := fmt.Sprintf("it needs %d %s event(s) %s%s, and none matched its trigger in the %s.", et.threshold, et.events(), et.withinText(), et.perText(), v.span)
	if len(et.after) > 0 && et.proactive() {
		why = fmt.Sprintf("it waits for %s first, and none was seen in the %s.", strings.Join(et.after, " or "), v.span)
	}
	v.notFired(AutoNoEvents, why)
	v.d.NextSteps = []string{"Check that the events it expects are emitted with " + tn.ReadEvents + " (event_type_prefix: the expected event name); the event name and the related resource in match_related must match exactly.",
		"Widen lookback_hours if the events are rare."}
	return true
}

func ruleProactiveQuiet(v *autoView) bool {
	if !v.et.proactive() || !v.short {
		return false
	}
	et := v.et
	v.notFired(AutoProactiveQuiet, fmt.Sprintf("it expects at least %d %s event(s) %s%s and only %d arrived, so it should fire; no prefect.automation.triggered event was found.", et.threshold, et.events(), et.withinText(), et.perText(), v.best()))
	v.d.NextSteps = []string{"A proactive trigger fires at the end of its window; if it still does not, check that the automation is enabled and the events service runs (self-hosted: PREFECT_API_SERVICES_TRIGGERS_ENABLED)."}
	return true
}

func ruleProactiveOK(v *autoView) bool {
	if !v.et.proactive() {
		return false
	}
	et := v.et
	v.notFired(AutoProactiveOK, fmt.Sprintf("it expects at least %d %s event(s) %s%s and they are arriving (%d in the latest window), so it correctly stays quiet.", et.threshold, et.events(), et.withinText(), et.perText(), v.best()))
	return true
}

// ruleBelowThreshold is the last rule: a reactive trigger that saw some of
// its events, never enough inside one window.
func ruleBelowThreshold(v *autoView) bool {
	et := v.et
	v.notFired(AutoBelowThreshold, fmt.Sprintf("it needs %d %s event(s) %s%s; at most %d was seen in any such window (%d matching in the %s).", et.threshold, et.events(), et.withinText(), et.perText(), v.best(), v.d.Evidence.Matching, v.span))
	v.d.NextSteps = []string{"Nothing is wrong if fewer events happened: it fires once the threshold is reached within the window.",
		"Lower the threshold or lengthen within if it should react sooner."}
	return true
}

func (v *autoView) notFired(cause, why string) {
	v.d.Cause, v.d.Conclusion = cause, v.name+" has not fired: "+why
}

func (v *autoView) best() int {
	if b := v.d.Evidence.BestWindow; b != nil {
		return b.Count
	}
	return 0
}

// ruledOut lists what was checked and is fine.
func (v *autoView) ruledOut() {
	d, ev := v.d, &v.d.Evidence
	if v.f.Automation.Enabled {
		d.RuledOut = append(d.RuledOut, "disabled: it is enabled")
	}
	if ev.ActionsRun > 0 && len(ev.ActionFailures) == 0 {
		d.RuledOut = append(d.RuledOut, fmt.Sprintf("failed actions: its %d action run(s) in the window succeeded", ev.ActionsRun))
	}
	if v.isEvent && ev.Matching > 0 {
		d.RuledOut = append(d.RuledOut, fmt.Sprintf("events never seen: %d event(s) matched its trigger in the %s", ev.Matching, v.span))
	}
}

func (et eventTrigger) events() string {
	if len(et.expect) == 0 {
		return "matching"
	}
	return strings.Join(et.expect, " or ")
}

func (et eventTrigger) withinText() string {
	if et.within > 0 {
		return "within " + trigger.Seconds(et.within.Seconds())
	}
	return "in the window"
}

func (et eventTrigger) perText() string {
	if len(et.forEach) > 0 {
		return " for the same " + strings.Join(et.forEach, ", ")
	}
	return ""
}

// matches re-checks an event against the trigger's own rules, so counts
// stay right even where the server's filter is looser.
func (et eventTrigger) matches(e prefect.Event) bool {
	if !specMatches(et.match, e.Resource) {
		return false
	}
	for _, spec := range et.matchRelated {
		if !slices.ContainsFunc(e.Related, func(r map[string]string) bool { return specMatches(spec, r) }) {
			return false
		}
	}
	return nameMatches(et.expect, e.Event) || nameMatches(et.after, e.Event)
}

func nameMatches(patterns []string, name string) bool {
	for _, p := range patterns {
		if p == "*" || p == name {
			return true
		}
		if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(name, pre) {
			return true
		}
	}
	return false
}

// specMatches applies a Prefect ResourceSpecification: every label must
// match one of its values; a trailing * is a prefix, a leading ! negates.
func specMatches(spec map[string]any, labels map[string]string) bool {
	for label, want := range spec {
		values := trigger.Strings(want)
		if s, ok := want.(string); ok {
			values = []string{s}
		}
		got, present := labels[label]
		ok := false
		for _, v := range values {
			neg := strings.HasPrefix(v, "!")
			v = strings.TrimPrefix(v, "!")
			hit := present && (v == "*" || v == got || (strings.HasSuffix(v, "*") && strings.HasPrefix(got, strings.TrimSuffix(v, "*"))))
			if hit != neg {
				ok = true
				break
			}
		}
		if !ok && len(values) > 0 {
			return false
		}
	}
	return true
}

// forEachKey is the bucket of an event: the values of the for_each labels.
func (et eventTrigger) forEachKey(e prefect.Event) string {
	var parts []string
	for _, l := range et.forEach {
		v := e.Resource[l]
		if role, label, ok := strings.Cut(strings.TrimPrefix(l, "related:"), ":"); ok && strings.HasPrefix(l, "related:") {
			for _, r := range e.Related {
				if r["prefect.resource.role"] == role {
					v = r[label]
					break
				}
			}
		}
		if name := e.Resource["prefect.resource.name"]; l == "prefect.resource.id" && name != "" {
			v += " (" + name + ")"
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, ", ")
}

// count counts the matching events the way the trigger does: an expected
// event of a reactive trigger with after counts only after an after event
// of its bucket; a proactive trigger's windows start at its after events,
// or is the latest window.
func (v *autoView) count(events []prefect.Event) {
	et, ev := v.et, &v.d.Evidence
	sort.SliceStable(events, func(i, j int) bool { return events[i].Occurred.Before(events[j].Occurred) })
	var expected []prefect.Event
	afterSeen := map[string]time.Time{}
	for _, e := range events {
		key := et.forEachKey(e)
		if nameMatches(et.after, e.Event) && !nameMatches(et.expect, e.Event) {
			ev.AfterEvents++
			if _, ok := afterSeen[key]; !ok {
				afterSeen[key] = e.Occurred
			}
			continue
		}
		if len(et.after) > 0 && !et.proactive() {
			if t, ok := afterSeen[key]; !ok || e.Occurred.Before(t) {
				continue
			}
		}
		expected = append(expected, e)
	}
	ev.Matching, ev.Needed = len(expected), et.threshold
	for i := len(expected) - 1; i >= 0 && len(ev.Examples) < maxAutomationExamples; i-- {
		e := expected[i]
		ev.Examples = append(ev.Examples, fmt.Sprintf("%s %s %s", shape.TS(e.Occurred), e.Event, shape.FirstNonEmpty(e.Resource["prefect.resource.name"], e.Resource["prefect.resource.id"])))
	}
	switch {
	case !et.proactive():
		ev.BestWindow = bestWindow(et, expected)
		v.noEvents = len(expected) == 0
	case len(et.after) > 0 && len(afterSeen) == 0:
		ev.BestWindow = &WindowCount{}
		v.noEvents = true
	default:
		ev.BestWindow, v.short = proactiveWindow(et, expected, afterSeen, v.f.Now)
	}
}

// bestWindow finds, per for_each bucket, the most matching events inside
// one within window (all events when within is 0).
func bestWindow(et eventTrigger, events []prefect.Event) *WindowCount {
	buckets := map[string][]prefect.Event{}
	var keys []string
	for _, e := range events {
		k := et.forEachKey(e)
		if _, ok := buckets[k]; !ok {
			keys = append(keys, k)
		}
		buckets[k] = append(buckets[k], e)
	}
	best := &WindowCount{}
	for _, k := range keys {
		list := buckets[k]
		lo := 0
		for hi := range list {
			for et.within > 0 && list[hi].Occurred.Sub(list[lo].Occurred) > et.within {
				lo++
			}
			if n := hi - lo + 1; n > best.Count {
				best = &WindowCount{Count: n, Key: k, From: shape.TS(list[lo].Occurred), To: shape.TS(list[hi].Occurred)}
			}
		}
	}
	return best
}

// proactiveWindow checks whether the expected events arrived within the
// window after each after event (the first window that came up short), or
// in the latest window; short when one ended with too few.
func proactiveWindow(et eventTrigger, expected []prefect.Event, afterSeen map[string]time.Time, now time.Time) (*WindowCount, bool) {
	within := et.within
	if within <= 0 {
		within = time.Minute
	}
	if len(et.after) == 0 {
		from, n := now.Add(-within), 0
		for _, e := range expected {
			if e.Occurred.After(from) {
				n++
			}
		}
		return &WindowCount{Count: n, From: shape.TS(from), To: shape.TS(now)}, n < et.threshold
	}
	keys := make([]string, 0, len(afterSeen))
	for k := range afterSeen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !afterSeen[keys[i]].Equal(afterSeen[keys[j]]) {
			return afterSeen[keys[i]].Before(afterSeen[keys[j]])
		}
		return keys[i] < keys[j]
	})
	for _, key := range keys {
		start, n := afterSeen[key], 0
		for _, e := range expected {
			if et.forEachKey(e) == key && !e.Occurred.Before(start) && e.Occurred.Sub(start) <= within {
				n++
			}
		}
		if n < et.threshold && now.Sub(start) > within {
			return &WindowCount{Count: n, Key: key, From: shape.TS(start), To: shape.TS(start.Add(within))}, true
		}
	}
	return nil, false
}

// summarizeOwnEvents counts the automation's own events and collects the
// reasons of failed actions (grouped by action and reason).
func summarizeOwnEvents(ev *AutomationEvidence, own []prefect.Event, a prefect.Automation, names map[string]string) {
	for _, e := range own { // newest first
		switch e.Event {
		case eventTriggered:
			ev.Triggered++
			if ev.LastTriggered == "" {
				ev.LastTriggered = shape.TS(e.Occurred)
				if te, ok := e.Payload["triggering_event"].(map[string]any); ok {
					name, _ := te["event"].(string)
					res, _ := te["resource"].(map[string]any)
					rn, _ := res["prefect.resource.name"].(string)
					ev.TriggeredBy = strings.TrimSpace(name + " " + rn)
				}
			}
		case eventResolved:
			ev.Resolved++
		case eventActionExecuted:
			ev.ActionsRun++
		case eventActionFailed:
			f := ActionFailure{At: shape.TS(e.Occurred)}
			f.Type, _ = e.Payload["action_type"].(string)
			f.Action = f.Type
			if idx, ok := e.Payload["action_index"].(float64); ok && int(idx) >= 0 && int(idx) < len(a.Actions) {
				f.Action = trigger.Action(a.Actions[int(idx)], names)
			}
			reason, _ := e.Payload["reason"].(string)
			validation, _ := e.Payload["validation_error"].(string)
			f.Reason, f.Validation = shape.Clip(reason, shape.MessageBudget), shape.Clip(validation, shape.MessageBudget)
			if sc, ok := e.Payload["status_code"].(float64); ok {
				f.Status = int(sc)
			}
			i := slices.IndexFunc(ev.ActionFailures, func(x ActionFailure) bool { return x.Action == f.Action && x.Reason == f.Reason })
			switch {
			case i >= 0:
				ev.ActionFailures[i].Count++
			case len(ev.ActionFailures) < maxListedFailures:
				f.Count = 1
				ev.ActionFailures = append(ev.ActionFailures, f)
			}
		}
	}
	for i := range ev.ActionFailures {
		if ev.ActionFailures[i].Count == 1 {
			ev.ActionFailures[i].Count = 0
		}
	}
}
