package tools_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

func TestGetFlowRunsListsNewestFirstWithNames(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_flow_runs", map[string]any{
		"filter": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"FAILED"}}}},
	})
	runs := rows(t, out, "flow_runs")
	if len(runs) == 0 {
		t.Fatal("no failed runs in the demo workspace")
	}
	var falcon map[string]any
	for _, r := range runs {
		if r["state"] != "Failed" {
			t.Errorf("run %v has state %v, want Failed", r["name"], r["state"])
		}
		if r["name"] == "crimson-falcon" {
			falcon = r
		}
	}
	if falcon == nil {
		t.Fatalf("crimson-falcon missing from %v", runs)
	}
	if falcon["flow"] != "always-fails" {
		t.Errorf("flow name = %v, want always-fails", falcon["flow"])
	}
	for _, key := range []string{"parameters", "state_history"} {
		if _, ok := falcon[key]; ok {
			t.Errorf("list row carries detail field %q", key)
		}
	}
	// One filter call plus one call each for flow and deployment names,
	// whatever the number of rows.
	if n := len(e.fake.Requests()); n > 3 {
		t.Errorf("made %d upstream requests, want at most 3", n)
	}
	noWrites(t, e.fake)
}

func TestGetFlowRunsLateShowsStateName(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_flow_runs", map[string]any{
		"filter": map[string]any{"state": map[string]any{"name": map[string]any{"any_": []string{"Late"}}}},
	})
	runs := rows(t, out, "flow_runs")
	if len(runs) != 3 {
		t.Fatalf("got %d late runs, want the demo's 3", len(runs))
	}
	for _, r := range runs {
		if r["state"] != "Late (SCHEDULED)" {
			t.Errorf("state = %v, want Late (SCHEDULED)", r["state"])
		}
	}
}

func TestGetFlowRunsDetailForSelectedIDs(t *testing.T) {
	e := newEnv(t)
	badger, ibis := prefecttest.DemoID("flow_run", "patient-badger"), prefecttest.DemoID("flow_run", "swift-ibis")
	out := e.ok(t, "get_flow_runs", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []string{badger, ibis}}}})
	runs := rows(t, out, "flow_runs")
	if len(runs) != 2 {
		t.Fatalf("got %d runs, want 2", len(runs))
	}
	byName := map[string]map[string]any{}
	for _, r := range runs {
		byName[r["name"].(string)] = r
	}
	r := byName["patient-badger"]
	hist, ok := r["state_history"].([]any)
	if !ok || len(hist) < 3 {
		t.Fatalf("state_history = %v, want the retry timeline", r["state_history"])
	}
	if r["retries"] != "2 of 2 retries used" {
		t.Errorf("retries = %v", r["retries"])
	}
	if pool, ok := byName["swift-ibis"]["work_pool_summary"].(map[string]any); !ok || pool["status"] != "READY" {
		t.Errorf("swift-ibis work_pool_summary = %v", byName["swift-ibis"]["work_pool_summary"])
	}
	if _, ok := byName["swift-ibis"]["deployment_summary"]; !ok {
		t.Errorf("no deployment_summary for a deployment run: %v", byName["swift-ibis"])
	}
}

func TestGetFlowRunsPaging(t *testing.T) {
	e := newEnv(t)
	first := e.ok(t, "get_flow_runs", map[string]any{"limit": 5})
	if first["truncated"] != true || first["next_offset"] != float64(5) {
		t.Fatalf("first page trailer = %v/%v, want truncated with next_offset 5", first["truncated"], first["next_offset"])
	}
	second := e.ok(t, "get_flow_runs", map[string]any{"limit": 5, "offset": 5})
	a, b := rows(t, first, "flow_runs"), rows(t, second, "flow_runs")
	for _, x := range a {
		for _, y := range b {
			if x["id"] == y["id"] {
				t.Fatalf("run %v on both pages", x["name"])
			}
		}
	}
}

func TestBadInputIsAToolError(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		tool string
		args map[string]any
		want []string
	}{
		{"get_flow_runs", map[string]any{"filter": map[string]any{"state": map[string]any{"tipe": 1}}}, []string{`"tipe"`, "allowed: name, operator, type"}},
		{"get_flow_runs", map[string]any{"filter": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"BROKEN"}}}}}, []string{"BROKEN", "COMPLETED"}},
		{"get_flow_runs", map[string]any{"limit": 500}, []string{"limit"}},
		{"get_flow_runs", map[string]any{"offset": -1}, []string{"offset"}},
		{"get_flows", map[string]any{"filter": map[string]any{"nme": map[string]any{}}}, []string{`"nme"`, "name"}},
		{"get_flow_run_logs", map[string]any{"flow_run_id": ""}, []string{"flow_run_id is required"}},
		{"get_flow_run_logs", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "crimson-falcon"), "level": "loud"}, []string{"level"}},
		{"get_flow_runs", map[string]any{"workspace_id": "x"}, []string{"OAuth"}},
	}
	for _, tc := range cases {
		t.Run(tc.tool, func(t *testing.T) {
			before := len(e.fake.Requests())
			msg := e.fail(t, tc.tool, tc.args)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if after := len(e.fake.Requests()); after != before {
				t.Errorf("bad input reached Prefect (%d requests)", after-before)
			}
		})
	}
}

func TestGetFlows(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_flows", map[string]any{"filter": map[string]any{"name": map[string]any{"like_": "flow"}}})
	var names []string
	for _, r := range rows(t, out, "flows") {
		names = append(names, r["name"].(string))
	}
	if got := strings.Join(names, ","); got != "child-flow,parent-flow" {
		t.Errorf("flows = %s, want child-flow,parent-flow (sorted by name)", got)
	}
}

func TestGetFlowRunLogs(t *testing.T) {
	e := newEnv(t)
	falcon := prefecttest.DemoID("flow_run", "crimson-falcon")

	t.Run("errors only, tail", func(t *testing.T) {
		out := e.ok(t, "get_flow_run_logs", map[string]any{"flow_run_id": falcon, "level": "error", "tail": true})
		lines := out["lines"].([]any)
		if len(lines) == 0 {
			t.Fatal("no error lines")
		}
		joined := fmt.Sprint(lines...)
		if !strings.Contains(joined, "Traceback") || !strings.Contains(joined, "ERROR") {
			t.Errorf("error lines lack the traceback: %s", joined)
		}
		if strings.Contains(joined, " INFO ") {
			t.Errorf("INFO lines despite level=error: %s", joined)
		}
	})

	t.Run("pages past Prefect's 200-row cap", func(t *testing.T) {
		var logs []map[string]any
		base := now.Add(-time.Hour)
		for i := range 450 {
			logs = append(logs, map[string]any{
				"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "created": base.Format(time.RFC3339Nano),
				"updated": base.Format(time.RFC3339Nano), "name": "prefect.flow_runs", "level": 20,
				"message":   fmt.Sprintf("line %03d", i),
				"timestamp": base.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano), "flow_run_id": falcon, "task_run_id": nil,
			})
		}
		e.fake.Put("logs", logs...)
		e.fake.ResetLog()
		out := e.ok(t, "get_flow_run_logs", map[string]any{"flow_run_id": falcon, "limit": 1000})
		lines := out["lines"].([]any)
		if len(lines) < 450 {
			t.Fatalf("got %d lines, want all of them (at least 450)", len(lines))
		}
		if out["truncated"] == true {
			t.Errorf("truncated although every line was returned")
		}
		if n := e.fake.Count("POST /logs/filter"); n < 3 {
			t.Errorf("made %d /logs/filter calls, want paging in 200s", n)
		}
		out = e.ok(t, "get_flow_run_logs", map[string]any{"flow_run_id": falcon, "limit": 10})
		if out["truncated"] != true || out["next_offset"] != float64(10) {
			t.Errorf("limit 10: truncated=%v next_offset=%v", out["truncated"], out["next_offset"])
		}
	})

	t.Run("by name", func(t *testing.T) {
		out := e.ok(t, "get_flow_run_logs", map[string]any{"flow_run_id": "crimson-falcon", "limit": 1})
		if out["flow_run_id"] != falcon {
			t.Errorf("resolved to %v, want %s", out["flow_run_id"], falcon)
		}
		msg := e.fail(t, "get_flow_run_logs", map[string]any{"flow_run_id": "no-such-run"})
		if !strings.Contains(msg, "no flow run is named") {
			t.Errorf("unknown name: %s", msg)
		}
	})

	t.Run("unknown run", func(t *testing.T) {
		msg := e.fail(t, "get_flow_run_logs", map[string]any{"flow_run_id": "11111111-2222-4333-8444-555555555555"})
		if !strings.Contains(msg, "not found") {
			t.Errorf("error = %q, want not found", msg)
		}
	})
}

func TestGetIdentity(t *testing.T) {
	t.Run("self-hosted", func(t *testing.T) {
		e := newEnv(t)
		out := e.ok(t, "get_identity", nil)
		if out["kind"] != "self-hosted" || out["prefect_version"] != "3.8.4.dev6" {
			t.Errorf("identity = %v", out)
		}
		if !strings.HasSuffix(out["api_url"].(string), "/api") {
			t.Errorf("api_url = %v", out["api_url"])
		}
	})
	t.Run("cloud with an API key", func(t *testing.T) {
		const account, workspace = "9c1b2a3d-0000-4000-8000-000000000001", "9c1b2a3d-0000-4000-8000-000000000002"
		key := "pnu_identitycanary000000000000000000000"
		fake := prefecttest.New(prefecttest.WithCloud(account, workspace), prefecttest.WithAPIKey(key), prefecttest.WithData(prefecttest.Demo(now)))
		t.Cleanup(fake.Close)
		e := newEnvWithTarget(t, fake, target.Credentials{APIURL: fake.URL, APIKey: key})
		out := e.ok(t, "get_identity", nil)
		if out["kind"] != "cloud" || out["auth"] != "api key" {
			t.Errorf("identity = %v", out)
		}
		user, _ := out["user"].(map[string]any)
		if user["email"] != prefecttest.CloudUserEmail {
			t.Errorf("user = %v", out["user"])
		}
		if _, ok := out["account"].(map[string]any); !ok {
			t.Errorf("account missing: %v", out)
		}
		text, _ := e.call(t, "get_identity", nil)
		if strings.Contains(text, key) {
			t.Fatal("the API key appears in the result")
		}
	})
	t.Run("cloud service account: 403 on /me/ is not a failure", func(t *testing.T) {
		const account, workspace = "9c1b2a3d-0000-4000-8000-000000000001", "9c1b2a3d-0000-4000-8000-000000000002"
		key := "pnb_serviceaccount00000000000000000000"
		fake := prefecttest.New(prefecttest.WithCloud(account, workspace), prefecttest.WithAPIKey(key), clock)
		t.Cleanup(fake.Close)
		e := newEnvWithTarget(t, fake, target.Credentials{APIURL: fake.URL, APIKey: key})
		out := e.ok(t, "get_identity", nil)
		if user, _ := out["user"].(string); !strings.Contains(user, "service account") {
			t.Errorf("user = %v, want the service-account note", out["user"])
		}
		if _, ok := out["workspace"].(map[string]any); !ok {
			t.Errorf("workspace missing: %v", out)
		}
	})
}

func TestPrefectErrorsAreActionable(t *testing.T) {
	cases := []struct {
		name  string
		fault prefecttest.Fault
		want  string
	}{
		{"rate limited", prefecttest.Fault{Route: "POST /flows/filter", Status: 429, RetryAfter: "3600"}, "retry after 1h0m0s"},
		{"server error", prefecttest.Fault{Route: "POST /flows/filter", Status: 500}, "server side"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.fake.AddFault(tc.fault)
			msg := e.fail(t, "get_flows", nil)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error = %q, want it to mention %q", msg, tc.want)
			}
		})
	}
	t.Run("wrong credentials", func(t *testing.T) {
		fake := prefecttest.New(prefecttest.WithAuthString("admin:right"), clock)
		t.Cleanup(fake.Close)
		e := newEnvWithTarget(t, fake, target.Credentials{APIURL: fake.URL, AuthString: "admin:wrong-canary"})
		msg := e.fail(t, "get_flows", nil)
		if !strings.Contains(msg, "401") || !strings.Contains(msg, "PREFECT_API_AUTH_STRING") {
			t.Errorf("error = %q", msg)
		}
		if strings.Contains(msg, "wrong-canary") {
			t.Fatal("credential leaked into the error")
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		fake := prefecttest.New(clock)
		url := fake.URL
		fake.Close()
		e := newEnvWithTarget(t, fake, target.Credentials{APIURL: url})
		msg := e.fail(t, "get_flows", nil)
		if !strings.Contains(msg, "connection refused") {
			t.Errorf("error = %q", msg)
		}
	})
}

func TestNoPrefectConfigured(t *testing.T) {
	deps := &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: clockNow}
	e := connect(t, nil, deps, tools.Selection{})
	msg := e.fail(t, "get_flow_runs", nil)
	for _, want := range []string{"PREFECT_API_URL", "prefect profile use", "--demo"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %s", msg, want)
		}
	}
}

// An ambiguous run name is an error that lists the candidates with ids and
// start times, so the model can pick one.
func TestAmbiguousFlowRunName(t *testing.T) {
	data := prefecttest.Demo(now)
	var falcon map[string]any
	for _, r := range data.Objects(prefecttest.FlowRuns) {
		if r["name"] == "crimson-falcon" {
			falcon = r
		}
	}
	twin := maps.Clone(falcon)
	twin["id"] = "00000000-0000-4000-8000-000000000042"
	data.Add(prefecttest.FlowRuns, twin)
	e := newEnv(t, prefecttest.WithData(data))
	msg := e.fail(t, "diagnose_flow_run", map[string]any{"flow_run_id": "crimson-falcon"})
	for _, want := range []string{"2 flow runs are named", falcon["id"].(string), twin["id"].(string), "started"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}
