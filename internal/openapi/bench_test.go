package openapi

import "testing"

// BenchmarkParse is the one-off cost of the first use of a Spec: indexing
// the embedded document (Load itself defers it).
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstValidation is the one-off cost paid by the first validation of a
// fresh Spec: decoding the document for the compiler and compiling FlowRunFilter.
func BenchmarkFirstValidation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s, err := Load()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.ValidateComponent("FlowRunFilter", map[string]any{}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkFilter() map[string]any {
	return map[string]any{
		"state": map[string]any{
			"type":     map[string]any{"any_": []any{"FAILED", "CRASHED"}},
			"operator": "or_",
		},
		"id":         map[string]any{"any_": []any{"8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11"}},
		"start_time": map[string]any{"after_": "2026-11-26T07:40:06.559062Z"},
		"tags":       map[string]any{"all_": []any{"prod"}},
	}
}

func BenchmarkValidateComponent(b *testing.B) {
	s, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	valid := benchmarkFilter()
	invalid := benchmarkFilter()
	invalid["state"].(map[string]any)["tipe"] = "FAILED"
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.ValidateComponent("FlowRunFilter", valid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("invalid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.ValidateComponent("FlowRunFilter", invalid); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

func BenchmarkValidateBody(b *testing.B) {
	s, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	r := Route{Method: "POST", Path: "/flow_runs/filter"}
	body := []byte(`{"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}, "sort": "START_TIME_DESC", "limit": 200}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.ValidateBody(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	s, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Match("POST", "/work_pools/my%20pool/queues/filter"); !ok {
			b.Fatal("no match")
		}
	}
}
