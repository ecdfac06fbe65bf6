package tools

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/trigger"
)

const (
	defaultAutomationHours = 24
	maxAutomationHours     = 7 * 24
	maxMatchingEvents      = 200 // four pages of /events/filter
	maxAutomationEvents    = 100 // two pages
	maxListedFailures      = 3
)

// Causes diagnose_automation reports.
const (
	autoDisabled        = "disabled"
	autoActionFailed    = "action_failed"
	autoFired           = "fired"
	autoBelowThreshold  = "threshold_not_reached"
	autoNoEvents        = "no_matching_events"
	autoProactiveQuiet  = "proactive_expected_events_missing"
	autoProactiveOK     = "proactive_expected_events_arriving"
	autoNotEventTrigger = "not_an_event_trigger"
)

type diagnoseAutomationInput struct {
	AutomationID  string `json:"automation_id" jsonschema:"the automation's id or name"`
	LookbackHours int    `json:"lookback_hours,omitempty" jsonschema:"hours of events to read, default 24"`
	Workspace
}

func diagnoseAutomationTool() Definition {
	return define(Definition{
		Name: ToolDiagnoseAutomation, Title: "Diagnose an automation", Group: GroupDiagnosis,
		Summary: "Why an automation did or did not fire, and whether its actions failed: trigger in words, matching events counted against the threshold and window, triggered/failed action events with reasons.",
	}, `Why an automation did or did not fire: matching events counted against its threshold and window, whether it triggered, and failed actions with reasons.
Example: {"automation_id":"<uuid>"}`,
		func(s *jsonschema.Schema) { bound(s, "lookback_hours", 1, maxAutomationHours) },
		diagnoseAutomation)
}

type automationDiagnosis struct {
	Conclusion string             `json:"conclusion"`
	Cause      string             `json:"cause"`
	Automation automationBrief    `json:"automation"`
	Evidence   automationEvidence `json:"evidence"`
	NextSteps  []string           `json:"next_steps,omitempty"`
}

type automationBrief struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Enabled bool     `json:"enabled"`
	Trigger string   `json:"trigger"`
	Actions []string `json:"actions,omitempty"`
}

type automationEvidence struct {
	Window         string          `json:"window"`
	Matching       int             `json:"matching_events"`
	MatchingMore   bool            `json:"matching_events_truncated,omitempty"`
	Needed         int             `json:"threshold,omitempty"`
	BestWindow     *windowCount    `json:"best_window,omitempty"`
	AfterEvents    int             `json:"after_events,omitempty"`
	Examples       []string        `json:"examples,omitempty"`
	Triggered      int             `json:"times_triggered"`
	LastTriggered  string          `json:"last_triggered,omitempty"`
	TriggeredBy    string          `json:"last_triggering_event,omitempty"`
	Resolved       int             `json:"times_resolved,omitempty"`
	ActionsRun     int             `json:"actions_executed,omitempty"`
	ActionFailures []actionFailure `json:"action_failures,omitempty"`
}

type windowCount struct {
	Count int    `json:"count"`
	Key   string `json:"for_each_key,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

type actionFailure struct {
	At         string `json:"at"`
	Type       string `json:"action_type"`
	Action     string `json:"action"`
	Reason     string `json:"reason"`
	Validation string `json:"validation_error,omitempty"`
	Status     int    `json:"status_code,omitempty"`
	Count      int    `json:"times,omitempty"`
}

// eventTrigger is the part of an event trigger the diagnosis evaluates.
type eventTrigger struct {
	posture      string
	expect       []string
	after        []string
	match        map[string]any
	matchRelated []map[string]any
	forEach      []string
	threshold    int
	within       time.Duration
}

func parseEventTrigger(t map[string]any) (eventTrigger, bool) {
	typ, _ := t["type"].(string)
	if typ != "event" && typ != "" {
		return eventTrigger{}, false
	}
	et := eventTrigger{threshold: 1}
	et.posture, _ = t["posture"].(string)
	et.expect, et.after, et.forEach = trigger.Strings(t["expect"]), trigger.Strings(t["after"]), trigger.Strings(t["for_each"])
	et.match, _ = t["match"].(map[string]any)
	switch x := t["match_related"].(type) {
	case map[string]any:
		if len(x) > 0 {
			et.matchRelated = append(et.matchRelated, x)
		}
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok && len(m) > 0 {
				et.matchRelated = append(et.matchRelated, m)
			}
		}
	}
	if n, ok := t["threshold"].(float64); ok && n >= 0 && n < math.MaxInt32 {
		et.threshold = int(n)
	}
	if w, ok := t["within"].(float64); ok && w > 0 && w < 1e9 {
		et.within = time.Duration(w * float64(time.Second))
	}
	return et, true
}

func diagnoseAutomation(ctx context.Context, c *call, in diagnoseAutomationInput) (any, error) {
	id, err := c.resolveAutomation(ctx, "automation_id", in.AutomationID)
	if err != nil {
		return nil, err
	}
	hours := in.LookbackHours
	if hours == 0 {
		hours = defaultAutomationHours
	}
	if hours < 1 || hours > maxAutomationHours {
		return nil, badInput("lookback_hours must be between 1 and %d (got %d)", maxAutomationHours, hours)
	}
	var a prefect.Automation
	if err := c.target.Client.Get(ctx, prefect.Path("/automations/%s", id), nil, &a); err != nil {
		if prefect.IsNotFound(err) {
			return nil, &notFound{msg: "automation " + id + " was not found; list automations with " + ToolGetAutomations}
		}
		return nil, err
	}
	now := c.deps.now()
	et, isEvent := parseEventTrigger(a.Trigger)
	lookback := time.Duration(hours) * time.Hour
	if isEvent && 2*et.within > lookback {
		lookback = min(2*et.within, time.Duration(maxAutomationHours)*time.Hour)
	}
	since := now.Add(-lookback)
	occurred := map[string]any{"since": since.Format(time.RFC3339), "until": ts(now)}

	var own, matching []prefect.Event
	var matchingMore bool
	var names map[string]string
	jobs := []func(context.Context) error{
		func(ctx context.Context) error {
			var err error
			own, _, _, _, err = c.pageEvents(ctx, map[string]any{
				"resource": map[string]any{"id": []string{"prefect.automation." + a.ID}},
				"event":    map[string]any{"prefix": []string{"prefect.automation."}},
				"occurred": occurred, "order": "DESC",
			}, maxAutomationEvents)
			return err
		},
		func(ctx context.Context) error {
			var err error
			names, err = c.automationNames(ctx, []prefect.Automation{a})
			return err
		},
	}
	if isEvent {
		jobs = append(jobs, func(ctx context.Context) error {
			var err error
			matching, _, matchingMore, _, err = c.pageEvents(ctx, triggerEventFilter(et, occurred), maxMatchingEvents)
			return err
		})
	}
	if err := parallel(ctx, diagnosisParallel, jobs...); err != nil {
		return nil, err
	}
	d := automationDiagnosis{Automation: automationBrief{ID: a.ID, Name: a.Name, Enabled: a.Enabled, Trigger: trigger.Summary(a.Trigger, names)}}
	for _, act := range a.Actions {
		d.Automation.Actions = append(d.Automation.Actions, trigger.Action(act, names))
	}
	ev := &d.Evidence
	span := fmt.Sprintf("%d h", int(lookback.Hours()))
	ev.Window = fmt.Sprintf("last %s (since %s)", span, ts(since))
	summarizeOwnEvents(ev, own, a, names)

	var verdict string
	if isEvent {
		matching = slices.DeleteFunc(matching, func(e prefect.Event) bool { return !et.matches(e) })
		verdict = evaluateTrigger(ev, et, matching, now)
		ev.MatchingMore = matchingMore
	}
	name := fmt.Sprintf("Automation %q", a.Name)
	fired := ""
	if ev.Triggered > 0 {
		fired = fmt.Sprintf("fired %d time(s) in the last %s (last at %s)", ev.Triggered, span, ev.LastTriggered)
	}
	switch {
	case !a.Enabled:
		d.Cause = autoDisabled
		d.Conclusion = name + " is disabled, so it does not fire whatever events arrive."
		d.NextSteps = []string{"Enable it in the UI or with prefect automation resume " + a.ID + " if it should run."}
	case len(ev.ActionFailures) > 0:
		f := ev.ActionFailures[0]
		d.Cause = autoActionFailed
		d.Conclusion = fmt.Sprintf("%s %s, but its %s action failed: %s", name, firstNonEmpty(fired, "fired"), f.Type, strings.TrimSuffix(firstNonEmpty(f.Validation, f.Reason), ".")+".")
		d.NextSteps = actionFailureSteps(f)
	case ev.Triggered > 0:
		d.Cause = autoFired
		d.Conclusion = fmt.Sprintf("%s %s and its actions ran (%d executed, none failed).", name, fired, ev.ActionsRun)
		d.NextSteps = []string{"If its effect is not visible, check the objects its actions target (listed under automation.actions)."}
	case !isEvent:
		d.Cause = autoNotEventTrigger
		d.Conclusion = fmt.Sprintf("%s has a %s trigger and has not fired in the last %s; only event triggers are evaluated here.", name, trigger.Kind(a.Trigger), span)
		d.NextSteps = []string{"Check each sub-trigger's events with " + ToolReadEvents + " (event_type_prefix, occurred_after)."}
	default:
		d.Cause, d.Conclusion = verdict, name+" has not fired: "+triggerConclusion(et, ev, verdict)
		d.NextSteps = triggerNextSteps(verdict)
	}
	return d, nil
}

// triggerEventFilter asks Prefect for the events a trigger looks at: its
// expect and after names (wildcards as prefixes), match as resource labels,
// match_related as related labels.
func triggerEventFilter(et eventTrigger, occurred map[string]any) map[string]any {
	// Newest first: when more than maxMatchingEvents match, the recent
	// windows are the ones that matter.
	f := map[string]any{"occurred": occurred, "order": "DESC"}
	names := append(slices.Clone(et.expect), et.after...)
	if len(names) > 0 && !slices.Contains(names, "*") {
		var exact, prefixes []string
		for _, n := range names {
			if p, ok := strings.CutSuffix(n, "*"); ok {
				prefixes = append(prefixes, p)
			} else {
				exact = append(exact, n)
			}
		}
		if len(prefixes) > 0 {
			f["event"] = map[string]any{"prefix": append(prefixes, exact...)}
		} else {
			f["event"] = map[string]any{"name": exact}
		}
	}
	if len(et.match) > 0 {
		f["resource"] = map[string]any{"labels": et.match}
	}
	if len(et.matchRelated) > 0 {
		var rel []any
		for _, m := range et.matchRelated {
			rel = append(rel, map[string]any{"labels": m})
		}
		f["related"] = rel
	}
	return f
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

// evaluateTrigger counts the matching events the way the trigger does and
// returns the verdict for a trigger that has not fired.
func evaluateTrigger(ev *automationEvidence, et eventTrigger, events []prefect.Event, now time.Time) string {
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
		if len(et.after) > 0 && strings.EqualFold(et.posture, "reactive") {
			if t, ok := afterSeen[key]; !ok || e.Occurred.Before(t) {
				continue // an expected event only counts after an "after" event
			}
		}
		expected = append(expected, e)
	}
	ev.Matching = len(expected)
	ev.Needed = et.threshold
	for i := len(expected) - 1; i >= 0 && len(ev.Examples) < 3; i-- {
		e := expected[i]
		ev.Examples = append(ev.Examples, fmt.Sprintf("%s %s %s", ts(e.Occurred), e.Event, firstNonEmpty(e.Resource["prefect.resource.name"], e.Resource["prefect.resource.id"])))
	}
	if strings.EqualFold(et.posture, "proactive") {
		return evaluateProactive(ev, et, expected, afterSeen, now)
	}
	ev.BestWindow = bestWindow(et, expected)
	if len(expected) == 0 {
		return autoNoEvents
	}
	return autoBelowThreshold
}

// bestWindow finds, per for_each bucket, the most matching events inside
// one `within` window (all events when within is 0).
func bestWindow(et eventTrigger, events []prefect.Event) *windowCount {
	buckets := map[string][]prefect.Event{}
	var keys []string
	for _, e := range events {
		k := et.forEachKey(e)
		if _, ok := buckets[k]; !ok {
			keys = append(keys, k)
		}
		buckets[k] = append(buckets[k], e)
	}
	var best *windowCount
	for _, k := range keys {
		list := buckets[k]
		lo := 0
		for hi := range list {
			for et.within > 0 && list[hi].Occurred.Sub(list[lo].Occurred) > et.within {
				lo++
			}
			if n := hi - lo + 1; best == nil || n > best.Count {
				best = &windowCount{Count: n, Key: k, From: ts(list[lo].Occurred), To: ts(list[hi].Occurred)}
			}
		}
	}
	if best == nil {
		best = &windowCount{}
	}
	return best
}

// evaluateProactive checks whether the expected events arrived within the
// window: after each "after" event, or in the latest window.
func evaluateProactive(ev *automationEvidence, et eventTrigger, expected []prefect.Event, afterSeen map[string]time.Time, now time.Time) string {
	within := et.within
	if within <= 0 {
		within = time.Minute
	}
	if len(et.after) > 0 {
		if len(afterSeen) == 0 {
			ev.BestWindow = &windowCount{}
			return autoNoEvents
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
		missing := 0
		for _, key := range keys {
			start := afterSeen[key]
			n := 0
			for _, e := range expected {
				if et.forEachKey(e) == key && !e.Occurred.Before(start) && e.Occurred.Sub(start) <= within {
					n++
				}
			}
			if n < et.threshold && now.Sub(start) > within {
				missing++
				if ev.BestWindow == nil {
					ev.BestWindow = &windowCount{Count: n, Key: key, From: ts(start), To: ts(start.Add(within))}
				}
			}
		}
		if missing > 0 {
			return autoProactiveQuiet
		}
		return autoProactiveOK
	}
	from := now.Add(-within)
	n := 0
	for _, e := range expected {
		if e.Occurred.After(from) {
			n++
		}
	}
	ev.BestWindow = &windowCount{Count: n, From: ts(from), To: ts(now)}
	if n < et.threshold {
		return autoProactiveQuiet
	}
	return autoProactiveOK
}

func triggerConclusion(et eventTrigger, ev *automationEvidence, verdict string) string {
	events := strings.Join(et.expect, " or ")
	if events == "" {
		events = "matching"
	}
	within := "in the window"
	if et.within > 0 {
		within = "within " + trigger.Seconds(et.within.Seconds())
	}
	per := ""
	if len(et.forEach) > 0 {
		per = " for the same " + strings.Join(et.forEach, ", ")
	}
	best := 0
	if ev.BestWindow != nil {
		best = ev.BestWindow.Count
	}
	span := strings.TrimPrefix(strings.SplitN(ev.Window, " (", 2)[0], "last ")
	switch verdict {
	case autoNoEvents:
		if len(et.after) > 0 && strings.EqualFold(et.posture, "proactive") {
			return fmt.Sprintf("it waits for %s first, and none was seen in the %s.", strings.Join(et.after, " or "), span)
		}
		return fmt.Sprintf("it needs %d %s event(s) %s%s, and none matched its trigger in the %s.", et.threshold, events, within, per, span)
	case autoBelowThreshold:
		return fmt.Sprintf("it needs %d %s event(s) %s%s; at most %d was seen in any such window (%d matching in the %s).", et.threshold, events, within, per, best, ev.Matching, span)
	case autoProactiveQuiet:
		return fmt.Sprintf("it expects at least %d %s event(s) %s%s and only %d arrived, so it should fire; no prefect.automation.triggered event was found.", et.threshold, events, within, per, best)
	}
	return fmt.Sprintf("it expects at least %d %s event(s) %s%s and they are arriving (%d in the latest window), so it correctly stays quiet.", et.threshold, events, within, per, best)
}

func triggerNextSteps(verdict string) []string {
	switch verdict {
	case autoNoEvents:
		return []string{"Check that the events it expects are emitted with " + ToolReadEvents + " (event_type_prefix: the expected event name); the event name and the related resource in match_related must match exactly.",
			"Widen lookback_hours if the events are rare."}
	case autoBelowThreshold:
		return []string{"Nothing is wrong if fewer events happened: it fires once the threshold is reached within the window.",
			"Lower the threshold or lengthen within if it should react sooner."}
	case autoProactiveQuiet:
		return []string{"A proactive trigger fires at the end of its window; if it still does not, check that the automation is enabled and the events service runs (self-hosted: PREFECT_API_SERVICES_TRIGGERS_ENABLED)."}
	}
	return nil
}

// summarizeOwnEvents counts the automation's own events and collects the
// reasons of failed actions (grouped by action and reason).
func summarizeOwnEvents(ev *automationEvidence, own []prefect.Event, a prefect.Automation, names map[string]string) {
	for _, e := range own { // newest first
		switch e.Event {
		case "prefect.automation.triggered":
			ev.Triggered++
			if ev.LastTriggered == "" {
				ev.LastTriggered = ts(e.Occurred)
				if te, ok := e.Payload["triggering_event"].(map[string]any); ok {
					name, _ := te["event"].(string)
					res, _ := te["resource"].(map[string]any)
					rn, _ := res["prefect.resource.name"].(string)
					ev.TriggeredBy = strings.TrimSpace(name + " " + rn)
				}
			}
		case "prefect.automation.resolved":
			ev.Resolved++
		case "prefect.automation.action.executed":
			ev.ActionsRun++
		case "prefect.automation.action.failed":
			f := actionFailure{At: ts(e.Occurred)}
			f.Type, _ = e.Payload["action_type"].(string)
			f.Action = f.Type
			if idx, ok := e.Payload["action_index"].(float64); ok && int(idx) >= 0 && int(idx) < len(a.Actions) {
				f.Action = trigger.Action(a.Actions[int(idx)], names)
			}
			reason, _ := e.Payload["reason"].(string)
			validation, _ := e.Payload["validation_error"].(string)
			f.Reason, f.Validation = clip(reason, messageBudget), clip(validation, messageBudget)
			if sc, ok := e.Payload["status_code"].(float64); ok {
				f.Status = int(sc)
			}
			i := slices.IndexFunc(ev.ActionFailures, func(x actionFailure) bool { return x.Action == f.Action && x.Reason == f.Reason })
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

func actionFailureSteps(f actionFailure) []string {
	text := strings.ToLower(f.Validation + " " + f.Reason)
	switch {
	case strings.Contains(text, "validation"):
		return []string{"Fix the action's parameters so they match the target deployment's parameter schema (see the validation_error: a value of the wrong type or a missing field), then update the automation.",
			"Check the deployment's parameter schema with " + ToolGetDeployments + "; templated parameters render as strings unless the template yields JSON."}
	case strings.Contains(text, "not found") || f.Status == 404:
		return []string{"The action's target no longer exists: point the action at an existing deployment, pool or queue."}
	}
	return []string{"Read the failure reason and fix the action's configuration; " + ToolReadEvents + " with event_type_prefix prefect.automation.action shows every attempt."}
}
