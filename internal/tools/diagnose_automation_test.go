package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// The causes the demo's automations do not show, end to end through the
// fake: each automation and its events as Prefect 3.8 stores them.
func TestDiagnoseAutomationCauses(t *testing.T) {
	w := newDgWorld()
	auto := func(name string, trigger map[string]any, actions ...any) {
		w.d.Add(prefecttest.Automations, map[string]any{
			"id": dgID("automation", name), "name": name, "description": "", "enabled": true, "tags": []any{},
			"trigger": trigger, "actions": actions, "actions_on_trigger": []any{}, "actions_on_resolve": []any{},
			"created": dgAt(-48 * time.Hour), "updated": dgAt(-48 * time.Hour),
		})
	}
	event := func(id, name string, ago time.Duration, resource map[string]any, payload map[string]any) {
		w.d.Add(prefecttest.Events, map[string]any{
			"occurred": dgAt(-ago), "event": name, "resource": resource, "related": []any{}, "payload": payload,
			"id": dgID("event", id), "follows": nil, "received": dgAt(-ago),
		})
	}
	own := func(automation, name string, ago time.Duration, payload map[string]any) {
		event(automation+"/"+name, name, ago, map[string]any{"prefect.resource.id": "prefect.automation." + dgID("automation", automation),
			"prefect.resource.name": automation, "prefect.trigger-type": "event", "prefect.posture": "Reactive"}, payload)
	}
	reactive := func(expect string, threshold int) map[string]any {
		return map[string]any{"type": "event", "id": dgID("trigger", expect), "match": map[string]any{"prefect.resource.id": "prefect.flow-run.*"},
			"match_related": map[string]any{}, "after": []any{}, "expect": []any{expect}, "for_each": []any{}, "posture": "Reactive",
			"threshold": threshold, "within": 0.0}
	}
	notify := map[string]any{"type": "send-notification", "block_document_id": dgID("block", "slack"), "subject": "Run crashed", "body": "{{ event }}"}

	// Fired, and its action ran.
	auto("notify-on-crash", reactive("prefect.flow-run.Crashed", 1), notify)
	event("crash-1", "prefect.flow-run.Crashed", 40*time.Minute, map[string]any{"prefect.resource.id": "prefect.flow-run." + dgID("flow_run", "r1"), "prefect.resource.name": "r1"}, map[string]any{})
	own("notify-on-crash", "prefect.automation.triggered", 40*time.Minute-time.Second,
		map[string]any{"triggering_labels": map[string]any{}, "triggering_event": map[string]any{"event": "prefect.flow-run.Crashed", "id": dgID("event", "crash-1")}})
	own("notify-on-crash", "prefect.automation.action.triggered", 40*time.Minute-2*time.Second, map[string]any{"action_index": 0, "action_type": "send-notification"})
	own("notify-on-crash", "prefect.automation.action.executed", 40*time.Minute-3*time.Second, map[string]any{"action_index": 0, "action_type": "send-notification"})
	// Its event never came.
	auto("page-on-late", reactive("prefect.flow-run.Late", 1), notify)
	// A compound trigger.
	auto("two-signals", map[string]any{"type": "compound", "id": dgID("trigger", "compound"), "require": "all", "within": 3600.0,
		"triggers": []any{reactive("prefect.flow-run.Failed", 1), reactive("prefect.flow-run.Crashed", 1)}}, notify)
	// A proactive trigger whose expected events keep arriving.
	proactive := reactive("prefect.worker.heartbeat", 1)
	proactive["posture"], proactive["within"], proactive["match"] = "Proactive", 300.0, map[string]any{"prefect.resource.id": "prefect.worker.*"}
	auto("worker-silent", proactive, notify)
	event("beat-1", "prefect.worker.heartbeat", time.Minute, map[string]any{"prefect.resource.id": "prefect.worker.process.w1", "prefect.resource.name": "w1"}, map[string]any{})
	// Far past the answer's budget: 60 long actions.
	var many []any
	for i := range 60 {
		many = append(many, map[string]any{"type": "send-notification", "block_document_id": dgID("block", "slack"), "subject": fmt.Sprintf("%02d %s", i, strings.Repeat("s", 70)), "body": "x"})
	}
	auto("many-actions", reactive("prefect.flow-run.Cancelled", 1), many...)

	e := w.env(t)
	for _, tc := range []struct {
		automation, cause string
		want              []string
	}{
		{"notify-on-crash", "fired", []string{"fired 1 time(s) in the last 24 h", "1 executed, none failed"}},
		{"page-on-late", "no_matching_events", []string{"none matched its trigger in the 24 h"}},
		{"two-signals", "not_an_event_trigger", []string{"has a compound trigger"}},
		{"worker-silent", "proactive_expected_events_arriving", []string{"they are arriving (1 in the latest window)"}},
		{"many-actions", "no_matching_events", []string{"none matched"}},
	} {
		out, text, n := dgCall(t, e, tools.ToolDiagnoseAutomation, map[string]any{"automation_id": tc.automation})
		t.Logf("%s (%d requests, %d bytes):\n%s", tc.automation, n, len(text), text)
		if out["cause"] != tc.cause {
			t.Errorf("%s: cause = %v, want %s", tc.automation, out["cause"], tc.cause)
		}
		dgContains(t, tc.automation, dgStr(out["conclusion"]), tc.want...)
		if tc.automation == "many-actions" {
			dgContains(t, "actions cut to the budget", text, "…and 55 more actions")
		}
		// Name lookup, automation, own events, matching events (no names to read here).
		if n > 4 {
			t.Errorf("%s: %d requests, want at most 4: %v", tc.automation, n, e.fake.Requests())
		}
	}
}
