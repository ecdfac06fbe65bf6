package tools_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// TestFlowRunsSizeBudget: 50 flow runs must fit in 18 KB (the official
// server's answer is 178 KB), with the decision-relevant fields kept.
func TestFlowRunsSizeBudget(t *testing.T) {
	data := prefecttest.Demo(now)
	var template map[string]any
	for _, r := range data.Objects(prefecttest.FlowRuns) {
		if r["name"] == "crimson-falcon" {
			template = r
		}
	}
	if template == nil {
		t.Fatal("demo lacks crimson-falcon")
	}
	for i := range 60 {
		r := maps.Clone(template)
		r["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		r["name"] = fmt.Sprintf("generated-run-%02d", i)
		data.Add(prefecttest.FlowRuns, r)
	}
	e := newEnv(t, prefecttest.WithData(data))
	out := e.ok(t, "get_flow_runs", map[string]any{"limit": 50})
	b, _ := json.Marshal(out)
	runs := rows(t, out, "flow_runs")
	t.Logf("get_flow_runs, %d runs: %d bytes (%d per row)", len(runs), len(b), len(b)/len(runs))
	if len(runs) != 50 || len(b) > 18<<10 {
		t.Fatalf("%d runs in %d bytes; budget 50 runs in 18 KB", len(runs), len(b))
	}
	for _, key := range []string{"id", "name", "flow", "state", "deployment"} {
		if runs[0][key] == nil {
			t.Errorf("rows lack %q: %v", key, runs[0])
		}
	}
}

// TestDeploymentActivitySizeBudget: get_deployment_activity's default call
// fits in 12 KB on the large workspace, with truncation signalled.
func TestDeploymentActivitySizeBudget(t *testing.T) {
	e := newEnv(t, prefecttest.WithData(prefecttest.Large(now)))
	text, isErr := e.call(t, "get_deployment_activity", nil)
	if isErr {
		t.Fatal(text)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("get_deployment_activity: %d rows in %d bytes", len(rows(t, out, "deployments")), len(text))
	if len(text) > 12<<10 {
		t.Errorf("%d bytes, budget 12 KB", len(text))
	}
	if out["truncated"] != true || out["next_offset"] != 20.0 {
		t.Errorf("the large workspace has more than one page: truncated %v, next_offset %v", out["truncated"], out["next_offset"])
	}
}

// largeBudgets are the result budgets on the large workspace: every list
// tool's default call, and the 50-row pages of the widest rows. rows names
// the result's list; keys are fields every row must keep; oneOf are groups
// of which every row needs at least one (a run's time).
var largeBudgets = []struct {
	tool   string
	args   map[string]any
	budget int // bytes
	rows   string
	keys   []string
	oneOf  []string
}{
	{"get_flow_runs", nil, 12_000, "flow_runs", []string{"id", "name", "flow", "state"}, []string{"start", "expected_start"}},
	{"get_flow_runs", map[string]any{"limit": 50}, 18_000, "flow_runs", []string{"id", "name", "flow", "state"}, []string{"start", "expected_start"}},
	// A page of failures: 50 messages, each the exception cut to 80 bytes.
	{"get_flow_runs", map[string]any{"limit": 50, "state": []string{"Failed", "Crashed"}}, 18_000, "flow_runs", []string{"id", "name", "flow", "state", "message", "start"}, nil},
	// Rows are grouped under their flow run (its name and id said once).
	{"get_task_runs", nil, 8_000, "flow_runs", []string{"id", "name", "flow_run", "flow_run_id", "state"}, []string{"start", "expected_start"}},
	{"get_task_runs", map[string]any{"limit": 50}, 8_000, "flow_runs", []string{"id", "name", "flow_run", "flow_run_id", "state"}, []string{"start", "expected_start"}},
	// Not 8 KB: 50 failures of 50 flow runs carry 50 task-run ids, 50
	// flow-run names and ids and 50 messages (each the exception cut to 80
	// bytes), ~340 bytes a row; fewer bytes would drop what failed or the
	// ids a model calls other tools with.
	{"get_task_runs", map[string]any{"limit": 50, "state": []string{"Failed"}}, 17_000, "flow_runs", []string{"id", "name", "flow_run", "flow_run_id", "state", "message"}, nil},
	// The last hour: mostly flow-run heartbeats (consecutive ones are one
	// row) and task-run state changes, each run's context said once.
	{"read_events", nil, 12_000, "events", []string{"event", "occurred"}, []string{"resource", "resources"}},
	{"read_events", map[string]any{"limit": 50}, 10_000, "events", []string{"event", "occurred"}, []string{"resource", "resources"}},
	{"read_events", map[string]any{"limit": 50, "event_type_prefix": "prefect.flow-run.", "occurred_after": "-24h"}, 10_000, "events", []string{"event", "occurred"}, []string{"resource", "resources"}},
	{"get_deployments", nil, 12_000, "deployments", []string{"id", "name", "flow", "status", "work_pool"}, nil},
	{"get_flows", nil, 12_000, "flows", []string{"id", "name"}, nil},
	{"get_work_pools", nil, 12_000, "work_pools", []string{"name", "status"}, nil},
	{"get_work_queues", nil, 12_000, "work_queues", []string{"name"}, nil},
	{"get_variables", nil, 12_000, "variables", []string{"name"}, nil},
	{"get_artifacts", nil, 12_000, "artifacts", []string{"id"}, nil},
	{"get_concurrency_limits", nil, 12_000, "limits", []string{"name"}, nil},
	{"count_events", nil, 12_000, "", nil, nil},
	{"search", map[string]any{"query": "etl"}, 12_000, "results", []string{"kind", "name"}, nil},
	{"get_flow_run_logs", map[string]any{"flow_run_id": largeLogsRun}, 12_000, "lines", nil, nil},
}

// largeLogsRun is the flow run of the large workspace given a long log in
// TestLargeWorkspaceResultBudgets.
const largeLogsRun = "crimson-falcon"

// TestLargeWorkspaceResultBudgets holds every list tool's default result,
// and the 50-row pages of flow runs, task runs and events, to their byte
// budgets on the large workspace (realistic names, tags, parameters and
// state messages), with the rows' decision-relevant fields kept and a
// cut page saying so (truncated, next_offset).
func TestLargeWorkspaceResultBudgets(t *testing.T) {
	data := prefecttest.Large(now)
	addLongLog(data, prefecttest.DemoID("flow_run", largeLogsRun), 400)
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Prefect Cloud's UI links are twice as long as a local server's.
	for _, cloud := range []bool{false, true} {
		fake, creds := fakeWorkspace(t, cloud, clock, prefecttest.WithData(data))
		deps, tgt := staticDeps(t, hc, creds, nil)
		e := connect(t, fake, deps, tools.Selection{Kind: tgt.Kind, KindKnown: true})
		for _, c := range largeBudgets {
			t.Run(fmt.Sprintf("%s/%s%s", tgt.Kind, c.tool, argsJSON(c.args)), func(t *testing.T) {
				text, isErr := e.call(t, c.tool, c.args)
				if isErr {
					t.Fatalf("%s(%s) failed: %s", c.tool, argsJSON(c.args), text)
				}
				var out map[string]any
				if err := json.Unmarshal([]byte(text), &out); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
				var list []any
				if c.rows != "" {
					var ok bool
					if list, ok = out[c.rows].([]any); !ok {
						t.Fatalf("no %q list in %.300s", c.rows, text)
					}
				}
				if c.tool == "get_task_runs" { // grouped by flow run
					list = nil
					for _, r := range taskRunRows(t, out) {
						list = append(list, r)
					}
				}
				n := len(list)
				{
					for i, v := range list {
						row, _ := v.(map[string]any)
						for _, k := range c.keys {
							if s, isStr := row[k].(string); row[k] == nil || isStr && s == "" {
								t.Errorf("row %d lacks %q: %v", i, k, row)
							}
						}
						if len(c.oneOf) > 0 && !slices.ContainsFunc(c.oneOf, func(k string) bool { return row[k] != nil }) {
							t.Errorf("row %d has none of %v: %v", i, c.oneOf, row)
						}
					}
				}
				t.Logf("%s(%s): %d bytes, %d rows", c.tool, argsJSON(c.args), len(text), n)
				if len(text) > c.budget {
					t.Errorf("%s(%s) is %d bytes (%d rows); budget %d bytes", c.tool, argsJSON(c.args), len(text), n, c.budget)
				}
				// The large workspace has more than a page of each of these:
				// the page must say it was cut and where to go on.
				limit, _ := c.args["limit"].(int)
				if c.tool == "get_flow_runs" || c.tool == "get_task_runs" || c.tool == "get_deployments" || c.tool == "read_events" || c.tool == "get_flow_run_logs" {
					if out["truncated"] != true {
						t.Errorf("%d rows, more exist, but truncated is %v", n, out["truncated"])
					}
					if c.tool == "read_events" {
						n = int(out["count"].(float64)) // a heartbeats row holds several
					}
					if limit > 0 && n != limit {
						t.Errorf("%d rows for limit %d", n, limit)
					}
					if c.tool != "read_events" && out["next_offset"] != float64(n) {
						t.Errorf("next_offset %v after %d rows from offset 0", out["next_offset"], n)
					}
				}
			})
		}
	}
}

// addLongLog gives a flow run n log lines as long as a busy real flow's:
// worker and engine lines, progress lines with paths, and a traceback
// every 50 lines.
func addLongLog(data *prefecttest.Data, runID string, n int) {
	base := now.Add(-2 * time.Hour)
	for i := range n {
		msg := fmt.Sprintf("Processed batch %d/%d of s3://analytics-exports/raw/orders/2026-11-26/part-%05d.parquet: 50000 rows in 2.31s (21645 rows/s), 0 rejected", i, n, i)
		level := 20
		if i%50 == 49 {
			level = 40
			msg = "Task run failed with exception: ConnectionError(\"HTTPSConnectionPool(host='api.partner.example.com', port=443): Read timed out.\") - Retries are exhausted\nTraceback (most recent call last):\n  File \"/opt/flows/etl/load.py\", line 88, in load\n    resp = session.get(url, timeout=30)\n  File \"/usr/local/lib/python3.12/site-packages/requests/sessions.py\", line 602, in get\n    return self.request(\"GET\", url, **kwargs)\nrequests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.partner.example.com', port=443): Read timed out."
		}
		at := base.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000000Z")
		data.Add(prefecttest.Logs, map[string]any{
			"id": prefecttest.DemoID("log", fmt.Sprintf("large-budget/%d", i)), "created": at, "updated": at,
			"name": "prefect.task_runs", "level": level, "message": msg, "timestamp": at,
			"flow_run_id": runID, "task_run_id": nil,
		})
	}
}

// TestAutomationsSizeBudget: get_automations' default calls (no filter,
// enabled either way, the most automations selected by id that still
// carry their definitions) fit in 12 KB on the large workspace, with
// truncation signalled where more follow.
func TestAutomationsSizeBudget(t *testing.T) {
	e := newEnv(t, prefecttest.WithData(prefecttest.Large(now)))
	var ids []string
	for _, a := range rows(t, e.ok(t, "get_automations", map[string]any{"limit": 10, "offset": 100}), "automations") {
		ids = append(ids, a["id"].(string))
	}
	for _, tc := range []struct {
		args map[string]any
		more bool
	}{
		{nil, true},
		{map[string]any{"filter": map[string]any{"enabled": map[string]any{"eq_": true}}}, true},
		{map[string]any{"filter": map[string]any{"enabled": map[string]any{"eq_": false}}}, true},
		{map[string]any{"filter": map[string]any{"id": map[string]any{"any_": ids}}}, false},
	} {
		text, isErr := e.call(t, "get_automations", tc.args)
		if isErr {
			t.Fatalf("%v: %s", tc.args, text)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(text), &out); err != nil {
			t.Fatal(err)
		}
		t.Logf("get_automations %v: %d rows in %d bytes", tc.args, len(rows(t, out, "automations")), len(text))
		if len(text) > 12<<10 {
			t.Errorf("%v: %d bytes, budget 12 KB", tc.args, len(text))
		}
		if more := out["truncated"] == true && out["next_offset"] != nil; more != tc.more {
			t.Errorf("%v: truncated %v, next_offset %v; want more: %v", tc.args, out["truncated"], out["next_offset"], tc.more)
		}
	}
}

// TestRowMessagesClipByPageSize: a long page of runs gives each state
// message's exception (without the engine's "Flow run encountered an
// exception:" words) cut to 80 bytes, leaves out finished flow runs' tags
// and queue, and says so once with where the rest is; a page of at most 10
// keeps 300 bytes of each message as Prefect wrote it, tags and queue.
func TestRowMessagesClipByPageSize(t *testing.T) {
	e := newEnv(t, prefecttest.WithData(prefecttest.Large(now)))
	for _, c := range []struct {
		tool       string
		limit, max int
	}{{"get_flow_runs", 50, 80}, {"get_flow_runs", 10, 300}, {"get_task_runs", 50, 80}, {"get_task_runs", 10, 300}} {
		out := e.ok(t, c.tool, map[string]any{"limit": c.limit, "state": []string{"Failed"}})
		list := taskRunRows
		if c.tool == "get_flow_runs" {
			list = func(t *testing.T, out map[string]any) []map[string]any { return rows(t, out, "flow_runs") }
		}
		long := c.limit > 10
		longest, cut, prefixed, tagged := 0, false, false, false
		for _, r := range list(t, out) {
			msg, _ := r["message"].(string)
			text, _, clipped := strings.Cut(msg, "…[")
			longest, cut = max(longest, len(text)), cut || clipped
			prefixed = prefixed || strings.Contains(msg, "run encountered an exception")
			tagged = tagged || r["tags"] != nil || r["work_queue"] != nil
		}
		if longest > c.max || !cut {
			t.Errorf("%s limit %d: longest message %d bytes (budget %d), some cut: %v", c.tool, c.limit, longest, c.max, cut)
		}
		if !long && longest <= 120 {
			t.Errorf("%s limit %d: a short page clipped messages to %d bytes, as a long one", c.tool, c.limit, longest)
		}
		if prefixed == long {
			t.Errorf("%s limit %d: the engine's words kept: %v", c.tool, c.limit, prefixed)
		}
		if c.tool == "get_flow_runs" && tagged == long {
			t.Errorf("%s limit %d: finished runs' tags or queue shown: %v", c.tool, c.limit, tagged)
		}
		note, _ := out["note"].(string)
		wantNote := map[bool]string{true: "over 10 rows: messages are the exception cut to 80 chars", false: ""}[long]
		if !strings.HasPrefix(note, wantNote) || (note == "") == long || long && !strings.Contains(note, "diagnose_flow_run give all") {
			t.Errorf("%s limit %d: note %q", c.tool, c.limit, note)
		}
	}
}
