package tools_test

import (
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func TestScratchMine(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"get_task_runs", map[string]any{"filter": map[string]any{"flow_run_id": map[string]any{"any_": []any{prefecttest.DemoID("flow_run", "gentle-lynx")}}}}},
		{"get_task_runs", map[string]any{"limit": 5}},
		{"read_events", map[string]any{}},
		{"read_events", map[string]any{"event_type_prefix": "prefect.automation", "occurred_after": "-2h"}},
		{"get_automations", map[string]any{}},
		{"get_automations", map[string]any{"filter": map[string]any{"id": map[string]any{"any_": []any{prefecttest.DemoID("automation", "backfill-on-sync-failure")}}}}},
		{"get_artifacts", map[string]any{}},
		{"get_artifacts", map[string]any{"key": "etl-report"}},
	} {
		text, isErr := e.call(t, c.tool, c.args)
		t.Logf("%s %v err=%v len=%d\n%s\n", c.tool, c.args, isErr, len(text), text)
	}
}

func TestScratchMine2(t *testing.T) {
	e := newEnv(t)
	TestGetTaskRunsSizeAndRequests(t)
	_ = e
}
