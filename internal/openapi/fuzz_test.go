package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func FuzzValidateComponent(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `1e400`, `{"state":{"tipe":1}}`,
		`{"id":{"any_":["abc","8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11"]}}`,
		`{"state":{"type":{"any_":["FAILED","X",null]}},"operator":"or_"}`,
		`{"start_time":{"after_":"2026-11-26T07:40:06Z","before_":12,"is_null_":"yes"}}`,
		`{"tags":{"all_":"a","is_null_":[]},"name":{"like_":{"x":[1,2]}}}`,
	} {
		f.Add([]byte(seed))
	}
	s, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		err := s.ValidateComponent("FlowRunFilter", v)
		if err == nil {
			return
		}
		var verr *ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("non-validation error: %v", err)
		}
		if len(verr.Details) == 0 {
			t.Fatal("ValidationError without details")
		}
		if _, err := json.Marshal(verr.PrefectResponse(v)); err != nil {
			t.Fatalf("PrefectResponse does not marshal: %v", err)
		}
		if msg := verr.Summary(); strings.Count(msg, "\n") > maxSummarizedDetails+1 {
			t.Fatalf("summary too long: %q", msg)
		}
	})
}

func FuzzValidateBody(f *testing.F) {
	for _, seed := range []string{
		``, ` `, `null`, `[1]`, `{"sort":"NEWEST","limit":"5","offset":-1}`,
		`{"flow_runs":{"id":{"any_":["x"]}},"task_runs":[],"deployments":{"bogus":1}}`,
		`{"limit": }`, `{} {}`, `"\u00e9`,
	} {
		f.Add([]byte(seed))
	}
	s, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	r := Route{Method: "POST", Path: "/flow_runs/filter"}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := s.ValidateBody(r, body)
		if err == nil {
			return
		}
		var verr *ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("non-validation error: %v", err)
		}
		for _, d := range verr.Details {
			if len(d.Loc) == 0 || d.Loc[0] != "body" {
				t.Fatalf("detail loc %v does not start with body", d.Loc)
			}
		}
		_ = verr.Error()
	})
}

func FuzzDateTimeProblem(f *testing.F) {
	for _, seed := range []string{"2026-11-26T07:40:06.559062Z", "2026-11-26", "x", "2026-11-26T07:40:06+0", "1.", "-"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		problem := dateTimeProblem(s)
		// A well-formed date prefix never yields a complaint about the date itself.
		if len(s) >= 10 && dateProblem(s[:10]) == "" && problem != "" && problem != "unexpected extra characters at the end of the input" {
			t.Fatalf("dateTimeProblem(%q) = %q", s, problem)
		}
		_ = uuidProblem(s)
		_ = durationProblem(s)
	})
}
