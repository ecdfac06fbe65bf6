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
