package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func route(t testing.TB, s *Spec, method, path string) Route {
	t.Helper()
	r, ok := s.Match(method, path)
	if !ok {
		t.Fatalf("no route for %s %s", method, path)
	}
	return r
}

func asValidationError(t testing.TB, err error) *ValidationError {
	t.Helper()
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("got error %v (%T), want *ValidationError", err, err)
	}
	return verr
}

func TestValidateBodyAcceptsCapturedRequests(t *testing.T) {
	raw, err := os.ReadFile("../prefecttest/testdata/samples/_index.json")
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	if len(index) < 30 {
		t.Fatalf("only %d captured requests", len(index))
	}
	s := mustSpec(t)
	for name, req := range index {
		u, err := url.Parse(req.Path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := strings.TrimPrefix(u.EscapedPath(), "/api")
		r := route(t, s, req.Method, path)
		var body []byte
		if string(req.Body) != "null" {
			body = req.Body
		}
		if err := s.ValidateBody(r, body); err != nil {
			t.Errorf("%s: %s %s %s: %v", name, r.Method, r.Path, body, err)
		}
	}
}

func TestValidateBodyAccepts(t *testing.T) {
	tests := []struct {
		name, method, path, body string
	}{
		{"empty body, nothing required", "POST", "/flow_runs/filter", ""},
		{"null body", "POST", "/flow_runs/filter", "null"},
		{"empty object", "POST", "/flow_runs/filter", "{}"},
		{"null parameters mean defaults", "POST", "/flow_runs/filter", `{"sort": null, "limit": null, "offset": null}`},
		{"unknown top-level parameter is ignored", "POST", "/flow_runs/filter", `{"foo": 1}`},
		{"limit has no maximum", "POST", "/flow_runs/filter", `{"limit": 100000}`},
		{"numeric string for an integer", "POST", "/flow_runs/filter", `{"limit": "10"}`},
		{"integral float for an integer", "POST", "/flow_runs/filter", `{"limit": 10.0}`},
		{"boolean string", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"is_null_": "true"}}}`},
		{"date-time with microseconds and Z", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"after_": "2026-11-26T07:40:06.559062Z"}}}`},
		{"date-time with offset", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"after_": "2026-11-26T07:40:06+00:00"}}}`},
		{"naive date-time without seconds", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"before_": "2026-11-26 07:40"}}}`},
		{"date only", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"after_": "2026-11-26"}}}`},
		{"unix timestamp", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"after_": 1764142806}}}`},
		{"uuid without hyphens, upper case", "POST", "/flow_runs/filter", `{"flow_runs": {"id": {"any_": ["8F4E3F305AD84F3BA0B42B9B9D5B6C11"]}}}`},
		{"uuid urn", "POST", "/flow_runs/filter", `{"flow_runs": {"id": {"any_": ["urn:uuid:8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11"]}}}`},
		{"null filter criteria", "POST", "/flow_runs/filter", `{"flow_runs": {"id": null, "state": {"type": null}}}`},
		{"nested filters", "POST", "/task_runs/filter", `{"flow_runs": {"operator": "or_", "tags": {"all_": ["a"]}}, "task_runs": {"state": {"name": {"any_": ["Late"]}}}}`},
		{"events limit at its maximum", "POST", "/events/filter", `{"limit": 50}`},
		{"route without a body ignores one", "GET", "/flow_runs/83c673e2-1276-45ba-97ff-d88b3621bc73", `not even json`},
		{"single-model body", "PATCH", "/flow_runs/83c673e2-1276-45ba-97ff-d88b3621bc73/labels", `{"a": "b"}`},
		{"optional string body", "POST", "/templates/validate", ""},
	}
	s := mustSpec(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.ValidateBody(route(t, s, tt.method, tt.path), []byte(tt.body)); err != nil {
				t.Errorf("ValidateBody(%s) = %v", tt.body, err)
			}
		})
	}
}

func TestValidateBodyRejects(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		wantType                 string
		wantLoc                  []any
		wantMsg                  string // substring of the detail's msg
	}{
		{"bad sort", "POST", "/flow_runs/filter", `{"sort": "NEWEST"}`, "enum", []any{"body", "sort"}, "Input should be 'ID_DESC', 'START_TIME_ASC'"},
		{"sort of wrong type", "POST", "/flow_runs/filter", `{"sort": 3}`, "enum", []any{"body", "sort"}, "or 'END_TIME_DESC'"},
		{"unknown filter key", "POST", "/flow_runs/filter", `{"flow_runs": {"state": {"tipe": {"any_": ["FAILED"]}}}}`, "extra_forbidden", []any{"body", "flow_runs", "state", "tipe"}, "Extra inputs are not permitted"},
		{"bad state type", "POST", "/flow_runs/filter", `{"flow_runs": {"state": {"type": {"any_": ["FAILD"]}}}}`, "enum", []any{"body", "flow_runs", "state", "type", "any_", 0}, "'SCHEDULED'"},
		{"bad operator", "POST", "/flow_runs/filter", `{"flow_runs": {"operator": "xor_"}}`, "enum", []any{"body", "flow_runs", "operator"}, "Input should be 'and_' or 'or_'"},
		{"bad uuid", "POST", "/flow_runs/filter", `{"flow_runs": {"id": {"any_": ["8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11", "nope"]}}}`, "uuid_parsing", []any{"body", "flow_runs", "id", "any_", 1}, "Input should be a valid UUID, invalid character"},
		{"uuid of wrong type", "POST", "/logs/filter", `{"logs": {"flow_run_id": {"any_": [7]}}}`, "uuid_type", []any{"body", "logs", "flow_run_id", "any_", 0}, "UUID input should be a string"},
		{"bad date-time", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"after_": "yesterday"}}}`, "datetime_from_date_parsing", []any{"body", "flow_runs", "start_time", "after_"}, "Input should be a valid datetime or date, input is too short"},
		{"impossible month", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"after_": "2026-13-01T00:00:00Z"}}}`, "datetime_from_date_parsing", nil, "month value is outside expected range of 1-12"},
		{"bad time", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"after_": "2026-01-01T25:00:00Z"}}}`, "datetime_from_date_parsing", nil, "unexpected extra characters at the end of the input"},
		{"list expected", "POST", "/flow_runs/filter", `{"flow_runs": {"name": {"any_": "x"}}}`, "list_type", []any{"body", "flow_runs", "name", "any_"}, "Input should be a valid list"},
		{"filter is not an object", "POST", "/flow_runs/filter", `{"flow_runs": []}`, "model_type", []any{"body", "flow_runs"}, "Input should be a valid dictionary or instance of FlowRunFilter"},
		{"fractional limit", "POST", "/flow_runs/filter", `{"limit": 5.5}`, "int_from_float", []any{"body", "limit"}, "fractional part"},
		{"word for limit", "POST", "/flow_runs/filter", `{"limit": "ten"}`, "int_parsing", []any{"body", "limit"}, "unable to parse string as an integer"},
		{"negative offset", "POST", "/flow_runs/filter", `{"offset": -1}`, "greater_than_equal", []any{"body", "offset"}, "Input should be greater than or equal to 0"},
		{"events limit above 50", "POST", "/events/filter", `{"limit": 51}`, "less_than_equal", []any{"body", "limit"}, "Input should be less than or equal to 50"},
		{"log level word", "POST", "/logs/filter", `{"logs": {"level": {"ge_": "high"}}}`, "int_parsing", []any{"body", "logs", "level", "ge_"}, ""},
		{"boolean word", "POST", "/flow_runs/filter", `{"flow_runs": {"start_time": {"is_null_": "maybe"}}}`, "bool_parsing", []any{"body", "flow_runs", "start_time", "is_null_"}, "unable to interpret input"},
		{"string expected", "POST", "/flow_runs/filter", `{"flow_runs": {"name": {"like_": 5}}}`, "string_type", []any{"body", "flow_runs", "name", "like_"}, "Input should be a valid string"},
		{"required parameter absent", "POST", "/flow_runs/83c673e2-1276-45ba-97ff-d88b3621bc73/set_state", `{}`, "missing", []any{"body", "state"}, "Field required"},
		{"required parameter null", "POST", "/flow_runs/83c673e2-1276-45ba-97ff-d88b3621bc73/set_state", `{"state": null}`, "missing", []any{"body", "state"}, "Field required"},
		{"required body empty", "POST", "/flow_runs/", "", "missing", []any{"body"}, "Field required"},
		{"model body missing field", "POST", "/flow_runs/", `{}`, "missing", []any{"body", "flow_id"}, "Field required"},
		{"model body extra field", "POST", "/flow_runs/", `{"flow_id": "8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11", "colour": 1}`, "extra_forbidden", []any{"body", "colour"}, ""},
		{"dict body", "PATCH", "/flow_runs/83c673e2-1276-45ba-97ff-d88b3621bc73/labels", `[]`, "dict_type", []any{"body"}, "Input should be a valid dictionary"},
		{"array body for parameters", "POST", "/flow_runs/filter", `[1]`, "missing", []any{"body", "deployments"}, "Field required"},
		{"invalid JSON", "POST", "/flow_runs/filter", `{"limit": }`, "json_invalid", []any{"body", 10}, "JSON decode error"},
		{"trailing data", "POST", "/flow_runs/filter", `{} {}`, "json_invalid", []any{"body", 3}, "JSON decode error"},
		{"whitespace is not an empty body", "POST", "/flow_runs/filter", ` `, "json_invalid", []any{"body", 1}, "JSON decode error"},
	}
	s := mustSpec(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ValidateBody(route(t, s, tt.method, tt.path), []byte(tt.body))
			verr := asValidationError(t, err)
			d := verr.Details[0]
			if d.Type != tt.wantType || (tt.wantLoc != nil && !reflect.DeepEqual(d.Loc, tt.wantLoc)) || !strings.Contains(d.Msg, tt.wantMsg) {
				t.Errorf("first detail = %+v\nwant type %s, loc %v, msg containing %q", d, tt.wantType, tt.wantLoc, tt.wantMsg)
			}
			if d.Loc[0] != "body" {
				t.Errorf("loc %v does not start with body", d.Loc)
			}
		})
	}
}

func TestValidateBodyUnknownRoute(t *testing.T) {
	err := mustSpec(t).ValidateBody(Route{Method: "POST", Path: "/nope"}, []byte("{}"))
	var verr *ValidationError
	if err == nil || errors.As(err, &verr) {
		t.Errorf("got %v, want a plain error for an unknown route", err)
	}
}

func TestEveryRequestBodySchemaCompiles(t *testing.T) {
	s := mustSpec(t)
	for _, r := range s.Routes() {
		if _, ok := s.document().bodies[r]; !ok {
			continue
		}
		err := s.ValidateBody(r, []byte("{}"))
		var verr *ValidationError
		if err != nil && !errors.As(err, &verr) {
			t.Errorf("%s: %v", r, err)
		}
	}
}

func TestValidateComponentSummary(t *testing.T) {
	tests := []struct {
		name      string
		component string
		value     any
		want      []string // substrings of Error()
	}{
		{
			"unknown key names the path and the allowed keys", "FlowRunFilter",
			map[string]any{"state": map[string]any{"tipe": map[string]any{"any_": []any{"FAILED"}}}},
			[]string{`invalid FlowRunFilter: unknown key "tipe" at state; allowed: name, operator, type`},
		},
		{
			"unknown key at the top level", "FlowRunFilter",
			map[string]any{"status": "FAILED"},
			[]string{`unknown key "status"; allowed: created_by, deployment_id,`, "work_queue_name"},
		},
		{
			"bad enum value lists the allowed values", "FlowRunFilter",
			map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"FAILED", "BROKEN"}}}},
			[]string{`invalid value "BROKEN" at state.type.any_[1]; allowed: SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED, CANCELLING`},
		},
		{
			"bad uuid", "FlowRunFilter",
			map[string]any{"id": map[string]any{"any_": []any{"abc"}}},
			[]string{`invalid UUID "abc" at id.any_[0] (invalid length: expected length 32 for simple format, found 3)`},
		},
		{
			"bad date-time suggests a format", "FlowRunFilter",
			map[string]any{"start_time": map[string]any{"after_": "last week"}},
			[]string{`invalid date-time "last week" at start_time.after_`, "RFC 3339"},
		},
		{
			"wrong type", "FlowRunFilter",
			map[string]any{"tags": map[string]any{"all_": "prod"}},
			[]string{`tags.all_: input should be a valid list, got "prod"`},
		},
		{
			"enum component", "FlowRunSort", "NEWEST",
			[]string{`invalid FlowRunSort: invalid value "NEWEST"; allowed: ID_DESC,`},
		},
		{
			"typed Go values are converted through JSON", "FlowRunFilter",
			map[string]any{"id": map[string][]string{"any_": {"nope"}}},
			[]string{`invalid UUID "nope" at id.any_[0]`},
		},
	}
	s := mustSpec(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ValidateComponent(tt.component, tt.value)
			verr := asValidationError(t, err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Error() = %q\nwant it to contain %q", err.Error(), w)
				}
			}
			if verr.Summary() != err.Error() {
				t.Errorf("Summary() and Error() differ")
			}
			if loc := verr.Details[0].Loc; len(loc) > 0 && loc[0] == "body" {
				t.Errorf("component loc %v starts with body", verr.Details[0].Loc)
			}
		})
	}
}

func TestValidateComponentAccepts(t *testing.T) {
	tests := []struct {
		component string
		value     any
	}{
		{"FlowRunFilter", map[string]any{}},
		{"FlowRunFilter", nil},
		{"FlowRunFilter", map[string]any{"state": map[string]any{"type": map[string]any{"any_": []any{"FAILED", "CRASHED"}}, "operator": "or_"}}},
		{"FlowRunFilter", map[string]any{"id": map[string]any{"any_": []string{"8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11"}}}},
		{"LogFilter", map[string]any{"level": map[string]any{"ge_": 40}}},
		{"EventFilter", map[string]any{"event": map[string]any{"prefix": []any{"prefect.flow-run."}}, "occurred": map[string]any{"since": "2026-01-01T00:00:00Z"}}},
		{"FlowRunSort", "START_TIME_DESC"},
	}
	s := mustSpec(t)
	for _, tt := range tests {
		if tt.component == "FlowRunFilter" && tt.value == nil {
			// FlowRunFilter is an object schema: null is not a filter.
			if err := s.ValidateComponent(tt.component, tt.value); err == nil {
				t.Errorf("ValidateComponent(%s, nil) accepted null", tt.component)
			}
			continue
		}
		if err := s.ValidateComponent(tt.component, tt.value); err != nil {
			t.Errorf("ValidateComponent(%s, %v) = %v", tt.component, tt.value, err)
		}
	}
}

func TestValidateComponentErrors(t *testing.T) {
	s := mustSpec(t)
	var verr *ValidationError
	if err := s.ValidateComponent("NoSuchSchema", map[string]any{}); err == nil || errors.As(err, &verr) {
		t.Errorf("unknown component: got %v, want a plain error", err)
	}
	if err := s.ValidateComponent("FlowRunFilter", map[string]any{"x": func() {}}); err == nil || errors.As(err, &verr) {
		t.Errorf("non-JSON value: got %v, want a plain error", err)
	}
}

func TestSummaryIsBounded(t *testing.T) {
	ids := make([]any, 40)
	for i := range ids {
		ids[i] = fmt.Sprintf("not-a-uuid-%d", i)
	}
	err := mustSpec(t).ValidateComponent("FlowRunFilter", map[string]any{"id": map[string]any{"any_": ids}})
	verr := asValidationError(t, err)
	if len(verr.Details) != 40 {
		t.Errorf("got %d details, want 40", len(verr.Details))
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid FlowRunFilter (40 errors):") || !strings.HasSuffix(msg, "- and 35 more") || strings.Count(msg, "\n") != 6 {
		t.Errorf("Error() = %q", msg)
	}
	if !strings.Contains(msg, "id.any_[0]") || strings.Contains(msg, "id.any_[5]") {
		t.Errorf("Error() should report the first five in order: %q", msg)
	}
}

func TestPrefectResponse(t *testing.T) {
	s := mustSpec(t)
	body := `{"sort": "NEWEST", "limit": 10}`
	err := s.ValidateBody(route(t, s, "POST", "/flow_runs/filter"), []byte(body))
	var requestBody any
	if err := json.Unmarshal([]byte(body), &requestBody); err != nil {
		t.Fatal(err)
	}
	got, jerr := json.Marshal(asValidationError(t, err).PrefectResponse(requestBody))
	if jerr != nil {
		t.Fatal(jerr)
	}
	const expected = `'ID_DESC', 'START_TIME_ASC', 'START_TIME_DESC', 'EXPECTED_START_TIME_ASC', 'EXPECTED_START_TIME_DESC', 'NAME_ASC', 'NAME_DESC', 'NEXT_SCHEDULED_START_TIME_ASC' or 'END_TIME_DESC'`
	want := `{"exception_detail":[{"type":"enum","loc":["body","sort"],"msg":"Input should be ` + expected + `","input":"NEWEST","ctx":{"expected":"` + expected + `"}}],` +
		`"exception_message":"Invalid request received.","request_body":{"limit":10,"sort":"NEWEST"}}`
	if string(got) != want {
		t.Errorf("PrefectResponse JSON =\n%s\nwant\n%s", got, want)
	}
}

func TestConcurrentValidation(t *testing.T) {
	s := mustSpec(t)
	components := []string{"FlowRunFilter", "TaskRunFilter", "LogFilter", "DeploymentFilter"}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(components))
	for range 4 {
		for _, c := range components {
			wg.Go(func() {
				err := s.ValidateComponent(c, map[string]any{"bogus": 1})
				var verr *ValidationError
				if !errors.As(err, &verr) || verr.Details[0].Type != "extra_forbidden" {
					errs <- fmt.Errorf("%s: %v", c, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSummaryOfHandMadeDetails(t *testing.T) {
	tests := []struct {
		detail Detail
		want   string
	}{
		{Detail{Type: "extra_forbidden", Msg: "Extra inputs are not permitted"}, "top level: extra inputs are not permitted, got null"},
		{Detail{Type: "missing", Loc: []any{"body"}, Msg: "Field required"}, "a request body is required"},
		{Detail{Type: "uuid_parsing", Loc: []any{"path", "id"}, Msg: "Input should be a valid UUID, x", Input: "x", Ctx: map[string]any{"error": "x"}}, `invalid UUID "x" at path.id (x)`},
		{Detail{Type: "greater_than_equal", Loc: []any{"query", "limit"}, Msg: "Input should be greater than or equal to 0", Input: -1}, "query.limit: input should be greater than or equal to 0, got -1"},
	}
	for _, tt := range tests {
		err := &ValidationError{Subject: "request", Details: []Detail{tt.detail}}
		if got, want := err.Error(), "invalid request: "+tt.want; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	}
}
