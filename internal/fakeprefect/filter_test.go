package fakeprefect

import (
	"errors"
	"strings"
	"testing"
)

func TestUnsupportedFilterIsLoud(t *testing.T) {
	// A valid FlowRunFilter key the fake's table does not know would silently
	// match everything; instead it must fail.
	_, err := matchFilter(&view{data: NewData()}, fieldTable{}, "flow_runs", object{}, map[string]any{"flow_version": map[string]any{"any_": []any{"x"}}})
	var ue *unsupportedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "fake: unsupported filter flow_runs.flow_version") {
		t.Fatalf("err = %v", err)
	}
	_, err = applyOperator("x", "regex_", "a", "b")
	if !errors.As(err, &ue) {
		t.Fatalf("unknown operator: err = %v", err)
	}
}

// TestUnsupportedFilterIsLoudWithoutRows checks that an unsupported
// criterion still fails when the indexes leave no row to evaluate it on.
func TestUnsupportedFilterIsLoudWithoutRows(t *testing.T) {
	q := queries()["POST /flow_runs/filter"]
	table := fieldTable{}
	for k, f := range q.table {
		if k != "flow_version" { // as if the fake did not know it
			table[k] = f
		}
	}
	q.table = table
	c := &call{route: "POST /flow_runs/filter", v: &view{data: Demo(largeNow), now: largeNow}, body: map[string]any{
		"flow_runs": map[string]any{"id": map[string]any{"any_": []any{}}, "flow_version": map[string]any{"any_": []any{"x"}}},
	}}
	var ue *unsupportedError
	if _, err := q.run(c); !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an unsupported filter", err)
	}
}
