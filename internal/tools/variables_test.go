package tools_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func TestGetVariables(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_variables", nil)
	size := resultSize(t, out)
	t.Logf("get_variables: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 6<<10 {
		t.Errorf("result is %d bytes, budget 6 KB", size)
	}
	vars := rows(t, out, "variables")
	if len(vars) != 2 || vars[0]["name"] != "environment" || vars[1]["name"] != "etl_config" {
		t.Fatalf("variables %v", vars)
	}
	for _, v := range vars {
		if _, ok := v["value"]; ok {
			t.Errorf("a listed variable carries its value: %v", v)
		}
	}
	if vars[0]["id"] != prefecttest.DemoID("variable", "environment") || vars[0]["created"] != ts(-10*24*time.Hour) {
		t.Errorf("environment row %v", vars[0])
	}
	if e.fake.Count("POST /variables/filter") != 1 || len(e.fake.Requests()) != 1 {
		t.Errorf("requests %v", e.fake.Requests())
	}

	e.fake.ResetLog()
	page := e.ok(t, "get_variables", map[string]any{"limit": 1})
	if len(rows(t, page, "variables")) != 1 || page["truncated"] != true || page["next_offset"] != 1.0 {
		t.Errorf("limit 1: %v", page)
	}
	page2 := e.ok(t, "get_variables", map[string]any{"limit": 1, "offset": 1})
	if v := rows(t, page2, "variables"); len(v) != 1 || v[0]["name"] != "etl_config" || page2["truncated"] != nil {
		t.Errorf("offset 1: %v", page2)
	}
	noWrites(t, e.fake)
}

func TestGetVariableByName(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("x", 5000)
	e.fake.Put(prefecttest.Variables, map[string]any{
		"id": "0b7e3a52-4c1d-4e8f-9a6b-2c3d4e5f6a7b", "created": "2026-11-20T00:00:00Z", "updated": "2026-11-20T00:00:00Z",
		"name": "big_blob", "value": big, "tags": []any{"bulk"},
	})
	cases := []struct {
		name  string
		value string // JSON of the value in the result
	}{
		{"etl_config", `{"batch_size":500,"retries":3}`},
		{"environment", `"production"`},
	}
	for _, tc := range cases {
		e.fake.ResetLog()
		out := e.ok(t, "get_variables", map[string]any{"name": tc.name})
		v := out["variable"].(map[string]any)
		got, _ := json.Marshal(v["value"])
		if v["name"] != tc.name || string(got) != tc.value {
			t.Errorf("%s: %v", tc.name, v)
		}
		if !strings.Contains(out["note"].(string), "sensitive") {
			t.Errorf("%s: note %v", tc.name, out["note"])
		}
		if e.fake.Count("GET /variables/name/{name}") != 1 || len(e.fake.Requests()) != 1 {
			t.Errorf("%s: requests %v", tc.name, e.fake.Requests())
		}
	}

	out := e.ok(t, "get_variables", map[string]any{"name": "big_blob"})
	size := resultSize(t, out)
	t.Logf("get_variables(name=big_blob): %d bytes for a 5000-byte value", size)
	v := out["variable"].(map[string]any)
	s, _ := v["value"].(string)
	if !strings.HasPrefix(s, `"xxx`) || !strings.Contains(s, "more chars cut") || size > 3<<10 {
		t.Errorf("big value not cut to 2 KB: %d bytes, %.60q", size, s)
	}

	e.fake.ResetLog()
	msg := e.fail(t, "get_variables", map[string]any{"name": "config"})
	if !strings.Contains(msg, "config was not found") || !strings.Contains(msg, "etl_config") {
		t.Errorf("near miss: %s", msg)
	}
	if len(e.fake.Requests()) != 2 {
		t.Errorf("near miss: %d requests, want 2", len(e.fake.Requests()))
	}
	if msg := e.fail(t, "get_variables", map[string]any{"name": "nothing-like-it"}); !strings.Contains(msg, "get_variables") {
		t.Errorf("miss: %s", msg)
	}
	if msg := e.fail(t, "get_variables", map[string]any{"limit": 500}); !strings.Contains(msg, "limit") {
		t.Errorf("limit 500: %s", msg)
	}
	for _, r := range e.fake.Requests() {
		if strings.Contains(r.Path, "block_documents") {
			t.Errorf("read a block document: %v", r.Path)
		}
	}
	noWrites(t, e.fake)
}
