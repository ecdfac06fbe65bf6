package trigger

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

func decodeTrigger(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSummary(t *testing.T) {
	names := map[string]string{"prefect.deployment.d1": "etl-hourly", "prefect.flow.f1": "etl-pipeline"}
	cases := []struct{ name, trigger, want string }{
		{"reactive threshold per resource",
			`{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Failed"],"match":{"prefect.resource.id":"prefect.flow-run.*"},"for_each":["prefect.resource.id"],"threshold":3,"within":600}`,
			"reactive: ≥3 × prefect.flow-run.Failed per prefect.resource.id within 10 min"},
		{"reactive each event, named related deployment",
			`{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Crashed"],"match":{"prefect.resource.id":"prefect.flow-run.*"},"match_related":{"prefect.resource.id":"prefect.deployment.d1"},"threshold":1,"within":0}`,
			"reactive: each prefect.flow-run.Crashed related to deployment etl-hourly"},
		{"proactive with a real match",
			`{"type":"event","posture":"Proactive","expect":["prefect.flow-run.Completed"],"match":{"prefect.resource.name":"nightly-*"},"threshold":1,"within":3600}`,
			`proactive: fewer than 1 × prefect.flow-run.Completed matching {"prefect.resource.name":"nightly-*"} within 1 h`},
		{"proactive after, any event, unknown related id",
			`{"type":"event","posture":"Proactive","after":["prefect.flow-run.Pending"],"match_related":[{"prefect.resource.id":["prefect.flow.f1","prefect.flow.f2"]},{"prefect.resource.role":"tag","prefect.resource.id":"prefect.tag.etl"}],"within":90}`,
			`proactive: fewer than 1 × any event after prefect.flow-run.Pending related to flow etl-pipeline or prefect.flow.f2 and {"prefect.resource.id":"prefect.tag.etl","prefect.resource.role":"tag"} within 90 s`},
		{"compound",
			`{"type":"compound","require":"all","within":7200,"triggers":[{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Failed"],"threshold":2,"within":60},{"type":"event","posture":"Proactive","expect":["prefect.worker.heartbeat"],"within":86400}]}`,
			"compound: all of 2 [reactive: ≥2 × prefect.flow-run.Failed within 1 min; proactive: fewer than 1 × prefect.worker.heartbeat within 1 d] within 2 h"},
		{"compound requiring a number",
			`{"type":"compound","require":1,"within":null,"triggers":[{"type":"event","posture":"Reactive","expect":["a"]},{"type":"event","posture":"Reactive","expect":["b"]}]}`,
			"compound: 1 of 2 [reactive: each a; reactive: each b]"},
		{"sequence",
			`{"type":"sequence","within":300,"triggers":[{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Pending"]},{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Crashed"]}]}`,
			"sequence: in order [reactive: each prefect.flow-run.Pending → reactive: each prefect.flow-run.Crashed] within 5 min"},
		{"metric (Prefect Cloud)",
			`{"type":"metric","posture":"Metric","metric":{"name":"lateness","operator":">","threshold":300,"range":3600,"firing_for":300},"match":{"prefect.resource.id":"prefect.flow-run.*"},"match_related":{"prefect.resource.id":"prefect.deployment.d1"}}`,
			`metric: lateness > 300 over 1 h for 5 min matching {"prefect.resource.id":"prefect.flow-run.*"} related to deployment etl-hourly`},
		{"unknown type", `{"type":"webhook"}`, "webhook trigger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summary(decodeTrigger(t, tc.trigger), names); got != tc.want {
				t.Errorf("Summary =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestSummaryIsBounded(t *testing.T) {
	// Nested compounds stop at a depth; long event lists are cut.
	inner := `{"type":"event","posture":"Reactive","expect":["` + strings.Repeat("x", 400) + `","y"]}`
	nested := inner
	for range 6 {
		nested = `{"type":"compound","require":"any","within":60,"triggers":[` + nested + `,` + inner + `]}`
	}
	got := Summary(decodeTrigger(t, nested), nil)
	if len(got) > SummaryBudget+40 || !strings.Contains(got, "more chars cut") {
		t.Errorf("summary of %d bytes is not bounded: %q", len(got), got)
	}
	if !strings.Contains(Summary(decodeTrigger(t, `{"type":"compound","triggers":[{"type":"compound","triggers":[{"type":"compound","triggers":[{"type":"event"}]}]}]}`), nil), "[…]") {
		t.Error("depth limit not marked")
	}
	if Summary(nil, nil) != "reactive: each any event" {
		t.Errorf("nil trigger: %q", Summary(nil, nil))
	}
}

func TestAction(t *testing.T) {
	names := map[string]string{"prefect.deployment.d1": "backfill"}
	cases := []struct{ action, want string }{
		{`{"type":"run-deployment","source":"selected","deployment_id":"d1","parameters":{"batch_size":"500"},"job_variables":null}`,
			`run-deployment backfill (d1) with parameters {"batch_size":"500"}`},
		{`{"type":"run-deployment","source":"inferred"}`, "run-deployment (the deployment of the triggering event)"},
		{`{"type":"pause-deployment","source":"selected","deployment_id":"d2"}`, "pause-deployment d2"},
		{`{"type":"pause-work-pool","source":"selected","work_pool_id":"p1"}`, "pause-work-pool p1"},
		{`{"type":"resume-automation","source":"inferred"}`, "resume-automation (the triggering automation)"},
		{`{"type":"cancel-flow-run"}`, "cancel-flow-run (the triggering flow run)"},
		{`{"type":"change-flow-run-state","state":"FAILED","name":"TimedOut"}`, "change-flow-run-state (the triggering flow run) to TimedOut (FAILED)"},
		{`{"type":"send-notification","block_document_id":"b1","subject":"Run failed","body":"secret-ish text"}`, `send-notification subject "Run failed"`},
		{`{"type":"do-nothing"}`, "do-nothing"},
		{`{}`, "unknown action"},
	}
	for _, tc := range cases {
		var a map[string]any
		if err := json.Unmarshal([]byte(tc.action), &a); err != nil {
			t.Fatal(err)
		}
		if got := Action(a, names); got != tc.want {
			t.Errorf("Action(%s) = %q, want %q", tc.action, got, tc.want)
		}
	}
}

func TestRefsAndKind(t *testing.T) {
	const d1, d2, f1 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
	a := prefect.Automation{
		Trigger:          decodeTrigger(t, `{"type":"compound","triggers":[{"type":"event","posture":"Reactive","match_related":{"prefect.resource.id":["prefect.deployment.`+d1+`","prefect.flow.`+f1+`"]}},{"type":"event","match_related":[{"prefect.resource.id":"prefect.deployment.not-a-uuid"}]}]}`),
		Actions:          []map[string]any{decodeTrigger(t, `{"type":"run-deployment","source":"selected","deployment_id":"`+d2+`"}`)},
		ActionsOnResolve: []map[string]any{decodeTrigger(t, `{"type":"pause-deployment","source":"selected","deployment_id":"`+d1+`"}`)},
	}
	deps, flows := Refs(a)
	slices.Sort(deps)
	if !slices.Equal(deps, []string{d1, d2}) || !slices.Equal(flows, []string{f1}) {
		t.Errorf("Refs = %v, %v", deps, flows)
	}
	names := Names(map[string]string{d2: "backfill"}, map[string]string{f1: "etl"})
	if got := Action(a.Actions[0], names); got != "run-deployment backfill ("+d2+")" {
		t.Errorf("Action with Names = %q", got)
	}
	for trig, want := range map[string]string{
		`{"type":"event","posture":"Proactive"}`: "proactive",
		`{"posture":"Reactive"}`:                 "reactive",
		`{"type":"compound"}`:                    "compound",
		`{"type":"metric","posture":"Metric"}`:   "metric",
	} {
		if got := Kind(decodeTrigger(t, trig)); got != want {
			t.Errorf("Kind(%s) = %q, want %q", trig, got, want)
		}
	}
}
