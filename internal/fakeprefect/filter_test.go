package fakeprefect

import (
	"encoding/json"
	"errors"
	"math"
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

// TestMarshalIsEncodingJSON: the fake's answers are byte for byte what
// encoding/json writes, for every object of the demo and of the large
// workspace (a sample) and for the values that differ between encoders.
func TestMarshalIsEncodingJSON(t *testing.T) {
	var values []any
	for _, d := range []*Data{Demo(largeNow), largeFake(t).data} {
		for _, c := range CollectionNames() {
			recs := d.all(c)
			for i := 0; i < len(recs); i += 1 + len(recs)/500 {
				values = append(values, recs[i].whole())
			}
		}
	}
	values = append(values,
		"<a href='x'>&amp;</a>", "line\u2028sep\u2029", "bad \xff utf-8", "ctl \x00\x01\x1f\t\n\"\\", "é ✓ 👋",
		0.0, math.Copysign(0, -1), 0.1, 1e20, 1e21, 1e-6, 1e-7, 123456789012345678.0, 3.0, -2.5e-10, 42, int64(-7), true, nil,
		map[string]any{"b": 1, "a": []any{nil, map[string]any{}, []any{}}, "é": "x", "A": 2},
		[]map[string]any{{"z": 1, "y": "2"}}, []any{})
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("marshal(%.80v):\n%.300s\nencoding/json:\n%.300s", v, got, want)
		}
	}
}
