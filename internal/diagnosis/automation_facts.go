package diagnosis

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/trigger"
)

// Bounds of the automation facts: the events read are capped in pages, so a
// diagnosis costs at most 1 + 4 + 2 + 2 requests whatever the workspace.
const (
	DefaultAutomationHours = 24
	MaxAutomationHours     = 7 * 24
	maxMatchingEvents      = 200 // four pages of /events/filter
	maxAutomationEvents    = 100 // two pages
)

// AutomationFacts is what diagnose_automation read about one automation.
type AutomationFacts struct {
	Automation prefect.Automation
	Names      map[string]string // deployment and flow names its trigger and actions refer to (trigger.Names)
	Own        []prefect.Event   // its prefect.automation.* events in the window, newest first
	// Matching are the events its trigger's filter returned in the window,
	// newest first (event triggers only); MatchingMore: more were left unread.
	Matching     []prefect.Event
	MatchingMore bool
	Since, Now   time.Time
}

// automationWindow is where the events read start: lookback hours back,
// widened to twice the trigger's within (at most MaxAutomationHours) so one
// whole window always fits.
func automationWindow(a prefect.Automation, hours int, now time.Time) time.Time {
	lookback := time.Duration(hours) * time.Hour
	if et, ok := parseEventTrigger(a.Trigger); ok && 2*et.within > lookback {
		lookback = min(2*et.within, MaxAutomationHours*time.Hour)
	}
	return now.Add(-lookback)
}

// GatherAutomation reads the facts of automation id over the last hours
// (1 to MaxAutomationHours): the automation, then in one concurrent round
// its own events (at most two pages), the names it refers to (one request
// per kind) and, for an event trigger, the events its trigger looks at (at
// most four pages).
func GatherAutomation(ctx context.Context, api API, id string, hours int, now time.Time) (AutomationFacts, error) {
	f := AutomationFacts{Now: now}
	if err := api.Get(ctx, prefect.Path("/automations/%s", id), nil, &f.Automation); err != nil {
		return f, err
	}
	a := f.Automation
	f.Since = automationWindow(a, hours, now)
	occurred := prefect.Occurred(f.Since, now)
	depIDs, flowIDs := trigger.Refs(a)
	var deps, flows map[string]string
	jobs := []func(context.Context) error{
		func(ctx context.Context) error {
			read, err := prefect.PageEvents(ctx, api, prefect.Where{
				"resource": prefect.ResourceID("prefect.automation." + a.ID),
				"event":    prefect.EventPrefix("prefect.automation."),
				"occurred": occurred, "order": "DESC",
			}, maxAutomationEvents)
			f.Own = read.Events
			return err
		},
		func(ctx context.Context) (err error) {
			deps, err = prefect.NamesByID(ctx, api, "deployments", depIDs)
			return err
		},
		func(ctx context.Context) (err error) {
			flows, err = prefect.NamesByID(ctx, api, "flows", flowIDs)
			return err
		},
	}
	if et, ok := parseEventTrigger(a.Trigger); ok {
		jobs = append(jobs, func(ctx context.Context) error {
			read, err := prefect.PageEvents(ctx, api, triggerEventFilter(et, occurred), maxMatchingEvents)
			f.Matching, f.MatchingMore = read.Events, read.More
			return err
		})
	}
	if err := parallel(ctx, jobs...); err != nil {
		return f, err
	}
	f.Names = trigger.Names(deps, flows)
	return f, nil
}

// eventTrigger is the part of an event trigger the rules evaluate.
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

func (et eventTrigger) proactive() bool { return strings.EqualFold(et.posture, "proactive") }

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
	if n, ok := t["threshold"].(float64); ok && n >= 0 && n < 1<<31-1 {
		et.threshold = int(n)
	}
	if w, ok := t["within"].(float64); ok && w > 0 && w < 1e9 {
		et.within = time.Duration(w * float64(time.Second))
	}
	return et, true
}

// triggerEventFilter asks Prefect for the events a trigger looks at: its
// expect and after names (wildcards as prefixes), match as resource labels,
// match_related as related labels. Newest first: when more than
// maxMatchingEvents match, the recent windows are the ones that matter.
func triggerEventFilter(et eventTrigger, occurred prefect.Where) prefect.Where {
	f := prefect.Where{"occurred": occurred, "order": "DESC"}
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
			f["event"] = prefect.EventPrefix(append(prefixes, exact...)...)
		} else {
			f["event"] = prefect.EventName(exact...)
		}
	}
	if len(et.match) > 0 {
		f["resource"] = prefect.Where{"labels": et.match}
	}
	if len(et.matchRelated) > 0 {
		var rel []any
		for _, m := range et.matchRelated {
			rel = append(rel, prefect.Where{"labels": m})
		}
		f["related"] = rel
	}
	return f
}
