package tools_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// artifactObj builds an artifact as Prefect 3.8 serves it (see
// artifacts_filter.json in the reference samples).
func artifactObj(name, key, typ string, data any, flowRun string, created time.Time) map[string]any {
	at := created.UTC().Format("2006-01-02T15:04:05.000000Z")
	var k any
	if key != "" {
		k = key
	}
	return map[string]any{
		"id": prefecttest.DemoID("artifact", name), "created": at, "updated": at, "key": k, "type": typ,
		"description": "test " + name, "data": data, "metadata_": nil, "flow_run_id": flowRun, "task_run_id": nil,
	}
}

func TestGetArtifactsOfEachType(t *testing.T) {
	e := newEnv(t)
	otter := prefecttest.DemoID("flow_run", "amber-otter")
	// A result artifact only points at stored data: it is left out.
	e.fake.Put(prefecttest.Artifacts, artifactObj("result", "", "result", map[string]any{"storage_key": "/tmp/x", "serializer": map[string]any{"type": "pickle"}}, otter, now.Add(-2*time.Hour)))

	out := e.ok(t, "get_artifacts", map[string]any{"flow_run_id": otter})
	byType := map[string]map[string]any{}
	for _, a := range rows(t, out, "artifacts") {
		byType[a["type"].(string)] = a
		if a["flow_run_id"] != otter || a["created"] != ts(-2*time.Hour) {
			t.Errorf("artifact %v", a)
		}
	}
	if len(byType) != 3 || out["count"] != 3.0 {
		t.Fatalf("types %v", out)
	}
	md := byType["markdown"]
	if md["key"] != "etl-report" || md["description"] != "Summary of the last ETL run" ||
		md["content"] != "# ETL report\n\nLoaded **500** rows into `analytics.events`." || md["id"] != prefecttest.DemoID("artifact", "etl-report/markdown") {
		t.Errorf("markdown %v", md)
	}
	table := byType["table"]["content"].(map[string]any)
	if fmt.Sprint(table["columns"]) != "[table rows]" || table["row_count"] != 2.0 || fmt.Sprint(table["rows"]) != "[[events 500] [users 42]]" || table["note"] != nil {
		t.Errorf("table %v", table)
	}
	if byType["link"]["content"] != "https://dashboards.example.com/etl" || byType["link"]["key"] != "dashboard" {
		t.Errorf("link %v", byType["link"])
	}
	out = e.ok(t, "get_artifacts", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "swift-ibis")})
	if a := rows(t, out, "artifacts"); len(a) != 1 || a[0]["type"] != "progress" || a[0]["content"] != "62.5%" || a[0]["key"] != nil {
		t.Errorf("progress %v", a)
	}
	if e.fake.Count("POST /artifacts/filter") != 2 || len(e.fake.Requests()) != 2 {
		t.Errorf("requests %v", e.fake.Requests())
	}
	// Newest first across the workspace without arguments.
	out = e.ok(t, "get_artifacts", nil)
	if a := rows(t, out, "artifacts"); len(a) != 4 || a[0]["type"] != "progress" {
		t.Errorf("all artifacts %v", a)
	}
	noWrites(t, e.fake)
}

func TestGetArtifactsLatestByKey(t *testing.T) {
	e := newEnv(t)
	heron := prefecttest.DemoID("flow_run", "brisk-heron")
	e.fake.Put(prefecttest.Artifacts, artifactObj("etl-report-v2", "etl-report", "markdown", "# ETL report\n\nLoaded **7** rows.", heron, now.Add(-time.Hour)))
	e.fake.ResetLog()
	out := e.ok(t, "get_artifacts", map[string]any{"key": "etl-report"})
	a := rows(t, out, "artifacts")
	if len(a) != 1 || a[0]["id"] != prefecttest.DemoID("artifact", "etl-report-v2") || a[0]["flow_run_id"] != heron ||
		a[0]["content"] != "# ETL report\n\nLoaded **7** rows." || !strings.Contains(out["note"].(string), "latest") {
		t.Errorf("latest etl-report: %v", out)
	}
	if e.fake.Count("POST /artifacts/latest/filter") != 1 || e.fake.Count("POST /artifacts/filter") != 0 {
		t.Errorf("requests %v", e.fake.Requests())
	}
	// With a flow run, the versions that run created.
	out = e.ok(t, "get_artifacts", map[string]any{"key": "etl-report", "flow_run_id": prefecttest.DemoID("flow_run", "amber-otter")})
	if a := rows(t, out, "artifacts"); len(a) != 1 || a[0]["content"] != "# ETL report\n\nLoaded **500** rows into `analytics.events`." || out["note"] != nil {
		t.Errorf("key in a run: %v", out)
	}
}

func TestGetArtifactsBounded(t *testing.T) {
	e := newEnv(t)
	run := prefecttest.DemoID("flow_run", "patient-badger")
	start := now.Add(-time.Hour)
	// Written by hand: Python keeps the column order, json.Marshal of a map would sort it.
	var table []string
	for i := range 500 {
		table = append(table, fmt.Sprintf(`{"region": "region-%03d", "orders": %d, "revenue": %g, "currency": "EUR", "late": %t}`, i, i*3, float64(i)*10.5, i%7 == 0))
	}
	tableJSON := "[" + strings.Join(table, ", ") + "]"
	columns := `{"day": ["mon", "tue", "wed"], "runs": [3, 5, 8]}`
	md := "# Report\n\n" + strings.Repeat("| region | orders | revenue |\n", 400) + "\nTOTAL: 42"
	e.fake.Put(prefecttest.Artifacts,
		artifactObj("big-md", "big-md", "markdown", md, run, start),
		artifactObj("big-table", "big-table", "table", tableJSON, run, start.Add(time.Second)),
		artifactObj("columns", "by-day", "table", columns, run, start.Add(2*time.Second)),
		artifactObj("list-rows", "", "table", `[["a", 1], ["b", 2]]`, run, start.Add(3*time.Second)),
		artifactObj("bad-table", "", "table", `not json`, run, start.Add(4*time.Second)),
		artifactObj("image", "", "image", "https://example.com/chart.png", run, start.Add(5*time.Second)),
	)
	for i := range 30 {
		e.fake.Put(prefecttest.Artifacts, artifactObj(fmt.Sprintf("md-%d", i), "daily", "markdown", md, run, start.Add(-time.Duration(i+1)*time.Minute)))
	}
	text, isErr := e.call(t, "get_artifacts", map[string]any{"flow_run_id": run, "limit": 6})
	if isErr {
		t.Fatal(text)
	}
	t.Logf("get_artifacts, 6 artifacts incl. a 12 KB markdown and a 500-row table: %d bytes", len(text))
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	byKey := map[string]map[string]any{}
	for _, a := range rows(t, out, "artifacts") {
		byKey[a["id"].(string)] = a
		b, _ := json.Marshal(a["content"])
		if len(b) > 1800 {
			t.Errorf("%v content is %d bytes", a["key"], len(b))
		}
	}
	get := func(name string) map[string]any { return byKey[prefecttest.DemoID("artifact", name)] }
	if c := get("big-md")["content"].(string); !strings.HasPrefix(c, "# Report\n\n| region") || !strings.Contains(c, "more chars cut]") {
		t.Errorf("markdown not cut: %d bytes", len(c))
	}
	big := get("big-table")["content"].(map[string]any)
	first, _ := big["rows"].([]any)
	if fmt.Sprint(big["columns"]) != "[region orders revenue currency late]" || big["row_count"] != 500.0 || len(first) < 10 ||
		fmt.Sprint(first[0]) != "[region-000 0 0 EUR true]" || !strings.HasPrefix(big["note"].(string), fmt.Sprintf("first %d of 500 rows", len(first))) {
		t.Errorf("big table summary: %v", big)
	}
	if c := get("columns")["content"].(map[string]any); fmt.Sprint(c["columns"]) != "[day runs]" || fmt.Sprint(c["rows"]) != "[[mon 3] [tue 5] [wed 8]]" {
		t.Errorf("column table: %v", c)
	}
	if c := get("list-rows")["content"].(map[string]any); c["columns"] != nil || fmt.Sprint(c["rows"]) != "[[a 1] [b 2]]" {
		t.Errorf("list table: %v", c)
	}
	if get("bad-table")["content"] != "not json" || get("image")["content"] != "https://example.com/chart.png" {
		t.Errorf("bad table / image: %v %v", get("bad-table"), get("image"))
	}
	// 100 large artifacts stay within the result budget and page.
	e.fake.ResetLog()
	text, _ = e.call(t, "get_artifacts", map[string]any{"flow_run_id": run, "limit": 100})
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("get_artifacts, limit 100 over 36 artifacts (31 of 12 KB markdown): %d bytes, count %v, next_offset %v", len(text), out["count"], out["next_offset"])
	if len(text) > 50<<10 || out["truncated"] != true || out["next_offset"] != out["count"] || len(e.fake.Requests()) != 1 {
		t.Errorf("budget: %d bytes, truncated %v, next_offset %v, %d requests", len(text), out["truncated"], out["next_offset"], len(e.fake.Requests()))
	}
}

func TestGetArtifactsBadInput(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"limit": 101}, []string{"limit"}},
		{map[string]any{"key": "  "}, []string{"key is blank"}},
	}
	for _, tc := range cases {
		before := len(e.fake.Requests())
		msg := e.fail(t, "get_artifacts", tc.args)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: error %q does not mention %q", tc.args, msg, w)
			}
		}
		if len(e.fake.Requests()) != before {
			t.Errorf("%v: bad input reached Prefect", tc.args)
		}
	}
	msg := e.fail(t, "get_artifacts", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "no-such-run")})
	if !strings.Contains(msg, "was not found") {
		t.Errorf("unknown run: %s", msg)
	}
	// A name is looked up (one request), and an unknown one says so.
	if msg := e.fail(t, "get_artifacts", map[string]any{"flow_run_id": "no-such-run"}); !strings.Contains(msg, "no flow run is named") {
		t.Errorf("unknown run name: %s", msg)
	}
}
