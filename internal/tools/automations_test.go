package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// automationObj builds an automation as Prefect 3.8 serves it (see
// automations_filter.json in the reference samples).
func automationObj(name string, enabled bool, trigger map[string]any, actions ...any) map[string]any {
	return map[string]any{
		"name": name, "description": "", "enabled": enabled, "tags": []any{}, "trigger": trigger,
		"actions": actions, "actions_on_trigger": []any{}, "actions_on_resolve": []any{},
		"id":      prefecttest.DemoID("automation", name),
		"created": "2026-11-20T10:00:00.000000Z", "updated": "2026-11-20T10:00:00.000000Z",
	}
}

func eventTrigger(name, posture string, expect []any, threshold int, within float64) map[string]any {
	return map[string]any{
		"type": "event", "id": prefecttest.DemoID("trigger", name), "match": map[string]any{"prefect.resource.id": "prefect.flow-run.*"},
		"match_related": map[string]any{}, "after": []any{}, "expect": expect, "for_each": []any{},
		"posture": posture, "threshold": threshold, "within": within,
	}
}

func TestGetAutomations(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_automations", nil)
	byName := map[string]map[string]any{}
	var names []string
	for _, r := range rows(t, out, "automations") {
		byName[r["name"].(string)] = r
		names = append(names, r["name"].(string))
	}
	if fmt.Sprint(names) != "[backfill-on-sync-failure cancel-long-runs nightly-report-missing pause-etl-after-3-failures]" {
		t.Fatalf("automations %v", names)
	}
	cases := []struct{ name, kind, trigger, actions string }{
		{"pause-etl-after-3-failures", "reactive",
			"reactive: ≥3 × prefect.flow-run.Failed related to deployment etl-hourly within 10 min",
			"[pause-deployment etl-hourly (" + prefecttest.DemoID("deployment", "etl-hourly") + ")]"},
		{"nightly-report-missing", "proactive",
			"proactive: fewer than 1 × prefect.flow-run.Completed related to deployment nightly within 26 h", "[do-nothing]"},
		{"backfill-on-sync-failure", "reactive", "reactive: each prefect.flow-run.Crashed",
			`[run-deployment backfill (` + prefecttest.DemoID("deployment", "backfill") + `) with parameters {"batch_size":"500"}]`},
		{"cancel-long-runs", "proactive",
			"proactive: fewer than 1 × prefect.flow-run.Completed or prefect.flow-run.Failed after prefect.flow-run.Running per prefect.resource.id within 2 h",
			"[cancel-flow-run (the triggering flow run)]"},
	}
	for _, tc := range cases {
		r := byName[tc.name]
		if r["trigger_kind"] != tc.kind || r["trigger"] != tc.trigger || fmt.Sprint(r["actions"]) != tc.actions || r["enabled"] != true {
			t.Errorf("%s:\n got %v | %v | %v\nwant %v | %v | %v", tc.name, r["trigger_kind"], r["trigger"], r["actions"], tc.kind, tc.trigger, tc.actions)
		}
		if r["trigger_definition"] != nil {
			t.Errorf("%s: list rows carry the full definition", tc.name)
		}
	}
	if byName["pause-etl-after-3-failures"]["description"] != "Pause etl-hourly when 3 of its runs fail within 10 minutes" {
		t.Errorf("description %v", byName["pause-etl-after-3-failures"]["description"])
	}
	// One automations request, one deployments request for the names.
	if e.fake.Count("POST /automations/filter") != 1 || e.fake.Count("POST /deployments/filter") != 1 || len(e.fake.Requests()) != 2 {
		t.Errorf("requests %v", e.fake.Requests())
	}
	noWrites(t, e.fake)
}

func TestGetAutomationsFilters(t *testing.T) {
	e := newEnv(t)
	compound := map[string]any{
		"type": "compound", "id": prefecttest.DemoID("trigger", "compound"), "require": "any", "within": 3600.0,
		"triggers": []any{
			eventTrigger("c1", "Reactive", []any{"prefect.flow-run.Crashed"}, 1, 0),
			eventTrigger("c2", "Reactive", []any{"prefect.flow-run.Failed"}, 5, 300),
		},
	}
	e.fake.Put(prefecttest.Automations, automationObj("crash-or-failures", false, compound,
		map[string]any{"type": "pause-work-pool", "source": "selected", "work_pool_id": prefecttest.DemoID("work_pool", prefecttest.DemoKubernetesPool)}))

	out := e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"enabled": map[string]any{"eq_": false}}})
	r := rows(t, out, "automations")
	if len(r) != 1 || r[0]["name"] != "crash-or-failures" || r[0]["enabled"] != false || r[0]["trigger_kind"] != "compound" ||
		r[0]["trigger"] != "compound: any of 2 [reactive: each prefect.flow-run.Crashed; reactive: ≥5 × prefect.flow-run.Failed within 5 min] within 1 h" ||
		fmt.Sprint(r[0]["actions"]) != "[pause-work-pool "+prefecttest.DemoID("work_pool", prefecttest.DemoKubernetesPool)+"]" {
		t.Errorf("disabled automations: %v", r)
	}
	// enabled is applied here: offsets count the automations checked (by
	// name), so the page stops after nightly-report-missing, the fourth.
	out = e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"enabled": map[string]any{"eq_": true}}, "limit": 2, "offset": 1})
	if r := rows(t, out, "automations"); len(r) != 2 || r[0]["name"] != "cancel-long-runs" || r[1]["name"] != "nightly-report-missing" ||
		out["truncated"] != true || out["next_offset"] != 4.0 || out["scanned"] != 3.0 || !strings.Contains(out["note"].(string), "continue with offset 4") {
		t.Errorf("enabled page: %v", out)
	}
	out = e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"enabled": map[string]any{"eq_": true}}, "limit": 2, "offset": 4})
	if r := rows(t, out, "automations"); len(r) != 1 || r[0]["name"] != "pause-etl-after-3-failures" || out["truncated"] != nil || out["note"] != nil {
		t.Errorf("enabled, last page: %v", out)
	}
	out = e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"name": map[string]any{"any_": []string{"nightly-report-missing"}}}})
	if r := rows(t, out, "automations"); len(r) != 1 || r[0]["name"] != "nightly-report-missing" {
		t.Errorf("by name: %v", out)
	}

	// Selected by id: the full definitions come along.
	id := prefecttest.DemoID("automation", "pause-etl-after-3-failures")
	out = e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []string{strings.ToUpper(id)}}}})
	d := rows(t, out, "automations")
	if len(d) != 1 || d[0]["id"] != id {
		t.Fatalf("by id: %v", out)
	}
	trig, _ := d[0]["trigger_definition"].(map[string]any)
	acts, _ := d[0]["action_definitions"].([]any)
	if trig["threshold"] != 3.0 || trig["within"] != 600.0 || fmt.Sprint(trig["expect"]) != "[prefect.flow-run.Failed]" ||
		len(acts) != 1 || acts[0].(map[string]any)["type"] != "pause-deployment" || d[0]["created"] != ts(-15*24*time.Hour) ||
		d[0]["trigger"] != "reactive: ≥3 × prefect.flow-run.Failed related to deployment etl-hourly within 10 min" {
		t.Errorf("detail: %v", d[0])
	}
	msg := e.fail(t, "get_automations", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []string{prefecttest.DemoID("automation", "nope")}}}})
	if !strings.Contains(msg, "no automation has id") {
		t.Errorf("unknown id: %s", msg)
	}
	// Ids are read one GET each, in one round; enabled applies to them.
	e.fake.ResetLog()
	disabled := prefecttest.DemoID("automation", "crash-or-failures")
	out = e.ok(t, "get_automations", map[string]any{"filter": map[string]any{
		"id": map[string]any{"any_": []string{disabled, id, prefecttest.DemoID("automation", "nope")}}}})
	if r := rows(t, out, "automations"); len(r) != 2 || r[0]["name"] != "crash-or-failures" || r[1]["name"] != "pause-etl-after-3-failures" ||
		e.fake.Count("GET /automations/{id}") != 3 || e.fake.Count("POST /automations/filter") != 0 {
		t.Errorf("by ids: %v; requests %v", out, e.fake.Requests())
	}
	// The most ids a call takes: 20 GETs, unknown ones dropped.
	e.fake.ResetLog()
	out = e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": append(manyIDs(19), id)}}})
	if r := rows(t, out, "automations"); len(r) != 1 || r[0]["id"] != id || e.fake.Count("GET /automations/{id}") != 20 {
		t.Errorf("20 ids: %v; %d GETs", out, e.fake.Count("GET /automations/{id}"))
	}
	out = e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []string{disabled}}, "enabled": map[string]any{"eq_": true}}})
	if r := rows(t, out, "automations"); len(r) != 0 {
		t.Errorf("a disabled automation selected by id with enabled true: %v", out)
	}
	noWrites(t, e.fake)
}

func TestGetAutomationsRequestsAndSize(t *testing.T) {
	e := newEnv(t)
	for i := range 46 {
		name := fmt.Sprintf("notify-on-failure-%02d", i)
		trig := eventTrigger(name, "Reactive", []any{"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}, 2, 1800)
		trig["match_related"] = map[string]any{"prefect.resource.id": "prefect.deployment." + prefecttest.DemoID("deployment", "etl-hourly")}
		trig["for_each"] = []any{"prefect.resource.id"}
		a := automationObj(name, true, trig,
			map[string]any{"type": "send-notification", "block_document_id": prefecttest.DemoID("block", "slack"), "subject": "Prefect flow run notification", "body": "Flow run {{ flow_run.name }} failed"},
			map[string]any{"type": "run-deployment", "source": "selected", "deployment_id": prefecttest.DemoID("deployment", "backfill"), "parameters": map[string]any{}, "job_variables": map[string]any{}})
		a["description"] = "Notify the data team when etl-hourly keeps failing"
		e.fake.Put(prefecttest.Automations, a)
	}
	counts := map[int]int{}
	for _, limit := range []int{2, 50} {
		e.fake.ResetLog()
		text, isErr := e.call(t, "get_automations", map[string]any{"limit": limit})
		if isErr {
			t.Fatal(text)
		}
		counts[limit] = len(e.fake.Requests())
		t.Logf("get_automations, %d automations: %d bytes", limit, len(text))
		if limit == 50 && len(text) > 30<<10 { // ~100 B of each row is its ui_url
			t.Errorf("50 automations take %d bytes, over 30 KB", len(text))
		}
	}
	if counts[2] != 2 || counts[50] != 2 {
		t.Errorf("requests per call %v; want 2 (automations, deployment names) whatever the rows", counts)
	}
	// The enabled filter scans with one request per 200 automations.
	e.fake.ResetLog()
	e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"enabled": map[string]any{"eq_": true}}})
	if n := e.fake.Count("POST /automations/filter"); n != 1 {
		t.Errorf("enabled filter: %d automation requests", n)
	}
}

func TestGetAutomationsBadInput(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"filter": map[string]any{"enabld": true}}, []string{`"enabld"`, "allowed keys: created, enabled, id, name, operator, tags"}},
		{map[string]any{"filter": map[string]any{"name": map[string]any{"like_": "etl"}}}, []string{"like_", "any_"}},
		{map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []string{"pause-etl-after-3-failures"}}}}, []string{"not a UUID"}},
		{map[string]any{"filter": map[string]any{"id": "x"}}, []string{`{"any_":["<uuid>", ...]}`}},
		{map[string]any{"filter": map[string]any{"enabled": "yes"}}, []string{`{"eq_":true}`}},
		{map[string]any{"limit": 201}, []string{"limit"}},
		{map[string]any{"filter": map[string]any{"id": map[string]any{"any_": manyIDs(21)}}}, []string{"21 ids", "at most 20"}},
		{map[string]any{"filter": map[string]any{"id": map[string]any{"any_": manyIDs(1)}, "name": map[string]any{"any_": []string{"x"}}}}, []string{"combine it only with enabled", "name"}},
	}
	for _, tc := range cases {
		before := len(e.fake.Requests())
		msg := e.fail(t, "get_automations", tc.args)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: error %q does not mention %q", tc.args, msg, w)
			}
		}
		if len(e.fake.Requests()) != before {
			t.Errorf("%v: bad input reached Prefect", tc.args)
		}
	}
}

func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefecttest.DemoID("automation", fmt.Sprint("many-", i))
	}
	return ids
}

// TestGetAutomationsEnabledScan: with enabled, each call sends one request
// whatever the number of automations, and following next_offset visits
// every automation once.
func TestGetAutomationsEnabledScan(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	for i := range 450 {
		name := fmt.Sprintf("scan-%03d", i)
		enabled := i%7 == 0
		e.fake.Put(prefecttest.Automations, automationObj(name, enabled, eventTrigger(name, "Reactive", []any{"prefect.flow-run.Failed"}, 1, 0)))
		if !enabled {
			want[name] = true
		}
	}
	got := map[string]bool{}
	offset, calls := 0, 0
	for {
		e.fake.ResetLog()
		out := e.ok(t, "get_automations", map[string]any{"filter": map[string]any{"enabled": map[string]any{"eq_": false}}, "limit": 100, "offset": offset})
		calls++
		if n := e.fake.Count("POST /automations/filter"); n != 1 {
			t.Fatalf("call %d: %d automation requests", calls, n)
		}
		for _, r := range rows(t, out, "automations") {
			if got[r["name"].(string)] {
				t.Errorf("%s listed twice", r["name"])
			}
			got[r["name"].(string)] = true
		}
		if out["truncated"] != true {
			break
		}
		next := int(out["next_offset"].(float64))
		if next <= offset || calls > 20 {
			t.Fatalf("next_offset %d after %d", next, offset)
		}
		offset = next
	}
	if len(got) != len(want) || calls < 4 {
		t.Errorf("%d disabled automations in %d calls, want %d", len(got), calls, len(want))
	}
}
