package diagnosis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

const (
	autoID    = "8a10ac02-60ed-4991-bdb5-b31ed4ba0596"
	autoDepID = "e5e9817e-b2a0-4638-82a6-02525d5a0973"
)

func automation(t *testing.T, enabled bool, trig string, actions ...string) prefect.Automation {
	t.Helper()
	a := prefect.Automation{ID: autoID, Name: "watch-etl", Enabled: enabled}
	if err := json.Unmarshal([]byte(trig), &a.Trigger); err != nil {
		t.Fatal(err)
	}
	for _, s := range actions {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		a.Actions = append(a.Actions, m)
	}
	return a
}

// flowRunEvent is a flow-run state event of run (related to autoDepID, or dep).
func flowRunEvent(name, run string, ago time.Duration, dep ...string) prefect.Event {
	d := autoDepID
	if len(dep) > 0 {
		d = dep[0]
	}
	return prefect.Event{Event: name, Occurred: at(-ago),
		Resource: map[string]string{"prefect.resource.id": "prefect.flow-run." + run, "prefect.resource.name": run},
		Related:  []map[string]string{{"prefect.resource.id": "prefect.deployment." + d, "prefect.resource.role": "deployment"}}}
}

// ownEvent is one of the automation's own events, as Prefect 3.8 emits it
// (payloads as captured from a real server).
func ownEvent(name string, ago time.Duration, payload map[string]any) prefect.Event {
	return prefect.Event{Event: name, Occurred: at(-ago), Payload: payload,
		Resource: map[string]string{"prefect.resource.id": "prefect.automation." + autoID, "prefect.resource.name": "watch-etl"}}
}

func triggered(ago time.Duration) prefect.Event {
	return ownEvent(eventTriggered, ago, map[string]any{"triggering_event": map[string]any{
		"event": "prefect.flow-run.Failed", "resource": map[string]any{"prefect.resource.name": "brave-otter"}}})
}

func autoFacts(a prefect.Automation, matching []prefect.Event, own ...prefect.Event) AutomationFacts {
	return AutomationFacts{Automation: a, Names: map[string]string{"prefect.deployment." + autoDepID: "etl-hourly"},
		Matching: matching, Own: own, Since: at(-24 * time.Hour), Now: t0}
}

const (
	failed3in10 = `{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Failed"],"match":{"prefect.resource.id":"prefect.flow-run.*"},"match_related":{"prefect.resource.id":"prefect.deployment.` + autoDepID + `"},"threshold":3,"within":600}`
	pauseAction = `{"type":"pause-deployment","source":"selected","deployment_id":"` + autoDepID + `"}`
	runAction   = `{"type":"run-deployment","source":"selected","deployment_id":"` + autoDepID + `","parameters":{"batch_size":"500"}}`
)

// TestAutomationRules: every cause diagnose_automation gives, from facts
// alone.
func TestAutomationRules(t *testing.T) {
	validation := "Error creating flow run: Validation failed for field 'batch_size'. Failure reason: '500' is not of type 'integer'"
	cases := []struct {
		name     string
		f        AutomationFacts
		cause    string
		want     []string // in the conclusion
		evidence string   // in the encoded answer
		step     string   // in the next steps
		ruledOut string
	}{
		{name: "disabled wins over everything", cause: AutoDisabled, want: []string{`Automation "watch-etl" is disabled`}, step: "prefect automation resume " + autoID,
			evidence: `"enabled":false`, ruledOut: "events never seen: 3 event(s)",
			f: autoFacts(automation(t, false, failed3in10, pauseAction),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Failed", "r1", 3*time.Minute), flowRunEvent("prefect.flow-run.Failed", "r2", 2*time.Minute), flowRunEvent("prefect.flow-run.Failed", "r3", time.Minute)})},
		{name: "action failed validation", cause: AutoActionFailed,
			want:     []string{"fired 1 time(s) in the last 24 h", "its run-deployment action failed: " + validation + "."},
			evidence: `"action":"run-deployment etl-hourly (` + autoDepID + `) with parameters {\"batch_size\":\"500\"}"`, step: "parameter schema with get_deployments", ruledOut: "disabled: it is enabled",
			f: autoFacts(automation(t, true, `{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Crashed"],"threshold":1,"within":0}`, runAction),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Crashed", "r1", 30*time.Minute)},
				ownEvent(eventActionFailed, 29*time.Minute, map[string]any{"action_index": 0.0, "action_type": "run-deployment", "status_code": 409.0,
					"reason": "Validation error occurred for 'run-deployment' - " + validation, "validation_error": validation}),
				triggered(29*time.Minute+58*time.Second))},
		{name: "action failed, target gone, grouped", cause: AutoActionFailed, want: []string{"its pause-deployment action failed: Deployment not found."},
			evidence: `"times":2`, step: "no longer exists",
			f: autoFacts(automation(t, true, `{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Failed"]}`, pauseAction), nil,
				ownEvent(eventActionFailed, time.Minute, map[string]any{"action_index": 0.0, "action_type": "pause-deployment", "reason": "Deployment not found", "status_code": 404.0}),
				ownEvent(eventActionFailed, 2*time.Minute, map[string]any{"action_index": 0.0, "action_type": "pause-deployment", "reason": "Deployment not found", "status_code": 404.0}),
				triggered(3*time.Minute))},
		{name: "fired and its actions ran", cause: AutoFired, want: []string{"fired 2 time(s) in the last 24 h (last at 2026-03-02T11:50:00Z)", "1 executed, none failed"},
			evidence: `"last_triggering_event":"prefect.flow-run.Failed brave-otter"`, step: "objects its actions target", ruledOut: "failed actions: its 1 action run(s) in the window succeeded",
			f: autoFacts(automation(t, true, failed3in10, pauseAction), nil,
				ownEvent(eventActionExecuted, 10*time.Minute-time.Second, nil), triggered(10*time.Minute), ownEvent(eventResolved, time.Hour, nil), triggered(2*time.Hour))},
		{name: "not an event trigger", cause: AutoNotEventTrigger, want: []string{"has a compound trigger and has not fired in the last 24 h"}, step: "read_events",
			evidence: `"trigger":"compound: all of 2 [`,
			f:        autoFacts(automation(t, true, `{"type":"compound","require":"all","within":3600,"triggers":[{"type":"event","posture":"Reactive","expect":["a"]},{"type":"event","posture":"Reactive","expect":["b"]}]}`), nil)},
		{name: "trigger's event never seen", cause: AutoNoEvents, want: []string{"needs 3 prefect.flow-run.Failed event(s) within 10 min", "none matched its trigger in the 24 h"},
			evidence: `"best_window":{"count":0}`, step: "event_type_prefix",
			f: autoFacts(automation(t, true, failed3in10, pauseAction), nil)},
		// The server's filter is looser than the trigger: events of another
		// deployment come back and are not counted.
		{name: "only other deployments' events", cause: AutoNoEvents, want: []string{"none matched"}, evidence: `"matching_events":0`,
			f: autoFacts(automation(t, true, failed3in10, pauseAction),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Failed", "r1", time.Minute, "0f0f0f0f-0000-4000-8000-000000000000")})},
		{name: "reactive after: expected events before the after event do not count", cause: AutoNoEvents, want: []string{"none matched"}, evidence: `"after_events":1`,
			f: autoFacts(automation(t, true, `{"type":"event","posture":"Reactive","after":["prefect.flow-run.Pending"],"expect":["prefect.flow-run.Failed"],"for_each":["prefect.resource.id"],"within":600}`),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Failed", "r1", 5*time.Minute), flowRunEvent("prefect.flow-run.Pending", "r1", 4*time.Minute)})},
		{name: "proactive after: the after event never came", cause: AutoNoEvents, want: []string{"it waits for prefect.flow-run.Pending first, and none was seen in the 24 h"},
			f: autoFacts(automation(t, true, `{"type":"event","posture":"Proactive","after":["prefect.flow-run.Pending"],"expect":["prefect.flow-run.Running"],"for_each":["prefect.resource.id"],"within":90}`), nil)},
		{name: "threshold not reached within the window", cause: AutoBelowThreshold,
			want:     []string{"needs 3 prefect.flow-run.Failed event(s) within 10 min", "at most 2 was seen in any such window (3 matching in the 24 h)"},
			evidence: `"best_window":{"count":2,"from":"2026-03-02T11:40:00Z","to":"2026-03-02T11:45:00Z"}`, step: "Lower the threshold", ruledOut: "3 event(s) matched",
			f: autoFacts(automation(t, true, failed3in10, pauseAction),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Failed", "r3", 15*time.Minute), flowRunEvent("prefect.flow-run.Failed", "r2", 20*time.Minute), flowRunEvent("prefect.flow-run.Failed", "r1", 40*time.Minute)})},
		{name: "threshold not reached per for_each bucket", cause: AutoBelowThreshold, want: []string{"for the same prefect.resource.id", "at most 2 was seen"},
			evidence: `"for_each_key":"prefect.flow-run.a (a)"`,
			f: autoFacts(automation(t, true, `{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Failed"],"for_each":["prefect.resource.id"],"threshold":3,"within":600}`),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Failed", "b", time.Minute), flowRunEvent("prefect.flow-run.Failed", "a", 2*time.Minute),
					flowRunEvent("prefect.flow-run.Failed", "b", 3*time.Minute), flowRunEvent("prefect.flow-run.Failed", "a", 4*time.Minute)})},
		{name: "proactive: expected events missing in the latest window", cause: AutoProactiveQuiet,
			want:     []string{"expects at least 1 prefect.flow-run.Completed event(s) within 1 h and only 0 arrived, so it should fire"},
			evidence: `"best_window":{"count":0,"from":"2026-03-02T11:00:00Z","to":"2026-03-02T12:00:00Z"}`, step: "PREFECT_API_SERVICES_TRIGGERS_ENABLED",
			f: autoFacts(automation(t, true, `{"type":"event","posture":"Proactive","expect":["prefect.flow-run.Completed"],"threshold":1,"within":3600}`),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Completed", "r1", 3*time.Hour)})},
		{name: "proactive after: one run never got its expected event", cause: AutoProactiveQuiet, want: []string{"only 0 arrived"},
			evidence: `"for_each_key":"prefect.flow-run.r2 (r2)"`,
			f: autoFacts(automation(t, true, `{"type":"event","posture":"Proactive","after":["prefect.flow-run.Pending"],"expect":["prefect.flow-run.Running"],"for_each":["prefect.resource.id"],"within":90}`),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Pending", "r1", time.Hour), flowRunEvent("prefect.flow-run.Running", "r1", time.Hour-30*time.Second),
					flowRunEvent("prefect.flow-run.Pending", "r2", 30*time.Minute)})},
		{name: "proactive: expected events arriving, within the window", cause: AutoProactiveOK, want: []string{"they are arriving (1 in the latest window), so it correctly stays quiet"},
			ruledOut: "1 event(s) matched",
			f: autoFacts(automation(t, true, `{"type":"event","posture":"Proactive","expect":["prefect.flow-run.Completed"],"threshold":1,"within":3600}`),
				[]prefect.Event{flowRunEvent("prefect.flow-run.Completed", "r1", 10*time.Minute)})},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := DiagnoseAutomation(tc.f)
			FitAutomation(&d)
			b, _ := json.Marshal(d)
			t.Logf("%s", b)
			seen[d.Cause] = true
			if d.Cause != tc.cause {
				t.Fatalf("cause = %s, want %s: %s", d.Cause, tc.cause, d.Conclusion)
			}
			for _, w := range tc.want {
				if !strings.Contains(d.Conclusion, w) {
					t.Errorf("conclusion lacks %q:\n%s", w, d.Conclusion)
				}
			}
			if !strings.Contains(string(b), tc.evidence) {
				t.Errorf("answer lacks %s", tc.evidence)
			}
			if s := strings.Join(d.NextSteps, " "); !strings.Contains(s, tc.step) {
				t.Errorf("next steps lack %q: %s", tc.step, s)
			}
			if s := strings.Join(d.RuledOut, " | "); !strings.Contains(s, tc.ruledOut) {
				t.Errorf("ruled_out lacks %q: %s", tc.ruledOut, s)
			}
			if len(b) > Budget {
				t.Errorf("%d bytes, budget %d", len(b), Budget)
			}
		})
	}
	for _, c := range []string{AutoDisabled, AutoActionFailed, AutoFired, AutoNotEventTrigger, AutoNoEvents, AutoProactiveQuiet, AutoProactiveOK, AutoBelowThreshold} {
		if !seen[c] {
			t.Errorf("no row gives cause %s", c)
		}
	}
}

// The rules do not change the facts they read (the matching events are
// filtered and sorted on a copy).
func TestAutomationRulesLeaveFacts(t *testing.T) {
	f := autoFacts(automation(t, true, failed3in10), []prefect.Event{
		flowRunEvent("prefect.flow-run.Failed", "r2", time.Minute, "0f0f0f0f-0000-4000-8000-000000000000"), flowRunEvent("prefect.flow-run.Failed", "r1", 2*time.Minute)})
	DiagnoseAutomation(f)
	if len(f.Matching) != 2 || f.Matching[0].Resource["prefect.resource.name"] != "r2" {
		t.Errorf("facts changed: %v", f.Matching)
	}
}

// Pushed past the budget (many long actions, long failure reasons, a long
// trigger), the answer is cut to Budget and says how many actions it left out.
func TestFitAutomation(t *testing.T) {
	var actions []string
	for i := range 40 {
		actions = append(actions, fmt.Sprintf(`{"type":"send-notification","subject":"%d %s"}`, i, strings.Repeat("s", 70)))
	}
	trig := `{"type":"event","posture":"Reactive","expect":["` + strings.Repeat("x.", 400) + `"],"threshold":3,"within":600}`
	long := strings.Repeat("a very long reason ", 30)
	var own []prefect.Event
	for i := range 3 {
		own = append(own, ownEvent(eventActionFailed, time.Duration(i+1)*time.Minute, map[string]any{"action_index": float64(i), "action_type": "send-notification", "reason": long + fmt.Sprint(i), "validation_error": long}))
	}
	d := DiagnoseAutomation(autoFacts(automation(t, true, trig, actions...), nil, append(own, triggered(time.Hour))...))
	before, _ := json.Marshal(d)
	FitAutomation(&d)
	after, _ := json.Marshal(d)
	t.Logf("%d bytes → %d bytes", len(before), len(after))
	if len(before) <= Budget || len(after) > Budget {
		t.Fatalf("%d bytes before, %d after: the test must push past the budget and the fit bring it back", len(before), len(after))
	}
	if d.Cause != AutoActionFailed || !strings.Contains(strings.Join(d.Automation.Actions, " "), "…and 35 more actions") {
		t.Errorf("cut answer lost its verdict or the count of cut actions: %s", after)
	}
}

// fakeAPI answers the facts' reads from memory and counts them.
type fakeAPI struct {
	auto     prefect.Automation
	events   int // events matching any filter, served in pages of 50
	requests []string
}

func (f *fakeAPI) Get(_ context.Context, path string, q url.Values, out any) error {
	f.requests = append(f.requests, "GET "+path)
	if path == prefect.EventsNextPath {
		off, err := strconv.Atoi(q.Get("page-token"))
		if err != nil {
			return err
		}
		*out.(*prefect.EventPage) = f.page(off)
		return nil
	}
	*out.(*prefect.Automation) = f.auto
	return nil
}

func (f *fakeAPI) Post(_ context.Context, path string, _, out any) error {
	f.requests = append(f.requests, "POST "+path)
	if path == "/events/filter" {
		*out.(*prefect.EventPage) = f.page(0)
	}
	return nil
}

func (f *fakeAPI) page(off int) prefect.EventPage {
	p := prefect.EventPage{Total: f.events}
	for i := off; i < min(off+prefect.EventsMaxPage, f.events); i++ {
		p.Events = append(p.Events, flowRunEvent("prefect.flow-run.Failed", fmt.Sprint("r", i), time.Duration(i)*time.Second))
	}
	if off+prefect.EventsMaxPage < f.events {
		p.NextPage = fmt.Sprintf("http://prefect/api/events/filter/next?page-token=%d", off+prefect.EventsMaxPage)
	}
	return p
}

// The reads stop at their caps whatever the number of events: 1 + 2 + 4
// pages (+1 for the names) however many events match.
func TestGatherAutomationBounded(t *testing.T) {
	for _, n := range []int{0, 10, 10_000} {
		api := &fakeAPI{auto: automation(t, true, failed3in10, pauseAction), events: n}
		f, err := GatherAutomation(context.Background(), api, autoID, 24, t0)
		if err != nil {
			t.Fatal(err)
		}
		want := 4 // automation, own events, deployment names, matching events
		if n > prefect.EventsMaxPage {
			want = 1 + 2 + 1 + 4
		}
		if len(api.requests) != want || len(f.Matching) > maxMatchingEvents || len(f.Own) > maxAutomationEvents || f.MatchingMore != (n > maxMatchingEvents) {
			t.Errorf("%d events: %d requests (want %d), %d matching, %d own, more %v", n, len(api.requests), want, len(f.Matching), len(f.Own), f.MatchingMore)
		}
		if !f.Since.Equal(t0.Add(-24 * time.Hour)) {
			t.Errorf("since = %v", f.Since)
		}
	}
	// A long within widens the window to two of them, at most a week.
	week := automation(t, true, `{"type":"event","posture":"Reactive","expect":["a"],"within":864000}`)
	if got := automationWindow(week, 1, t0); !got.Equal(t0.Add(-MaxAutomationHours * time.Hour)) {
		t.Errorf("window of a 10-day within = %v", got)
	}
}
