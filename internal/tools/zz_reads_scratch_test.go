package tools_test

import (
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func TestReadsScratch(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"get_server_status", map[string]any{}},
		{"get_variables", map[string]any{}},
		{"get_variables", map[string]any{"name": "etl_config"}},
		{"get_variables", map[string]any{"name": "config"}},
		{"get_run_state_history", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "patient-badger")}},
		{"get_run_state_history", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "still-heron")}},
		{"get_task_run_logs", map[string]any{"task_run_id": prefecttest.DemoID("task_run", "crimson-falcon/validate")}},
		{"count_events", map[string]any{"countable": "event"}},
		{"count_events", map[string]any{"countable": "time"}},
		{"count_events", map[string]any{"countable": "day", "since": "-3d"}},
		{"count_events", map[string]any{"countable": "resource", "resource_id": "prefect.flow-run.*"}},
		{"get_work_queues", map[string]any{}},
		{"search", map[string]any{"query": "etl"}},
		{"search", map[string]any{"query": "default"}},
		{"search", map[string]any{"query": "report", "kinds": []any{"bogus"}}},
		{"count_events", map[string]any{"countable": "bogus"}},
	} {
		e.fake.ResetLog()
		text, isErr := e.call(t, c.tool, c.args)
		t.Logf("%s %v err=%v len=%d reqs=%d\n%s\n", c.tool, c.args, isErr, len(text), len(e.fake.Requests()), text)
	}
}
