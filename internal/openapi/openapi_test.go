package openapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func mustSpec(tb testing.TB) *Spec {
	tb.Helper()
	s, err := Load()
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return s
}

func TestRoutesListEveryOperation(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody json.RawMessage `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(documentBytes, &doc); err != nil {
		t.Fatal(err)
	}
	var want, withBody []Route
	for path, item := range doc.Paths {
		for method, op := range item {
			if !httpMethods[method] {
				continue
			}
			r := Route{Method: strings.ToUpper(method), Path: path}
			want = append(want, r)
			if op.RequestBody != nil {
				withBody = append(withBody, r)
			}
		}
	}
	slices.SortFunc(want, compareRoutes)

	s := mustSpec(t)
	got := s.Routes()
	if len(got) != 187 || len(want) != 187 {
		t.Errorf("got %d routes, document has %d operations; want 187", len(got), len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Routes() differs from the document's operations")
	}
	for _, r := range withBody {
		if _, ok := s.document().bodies[r]; !ok {
			t.Errorf("%s: request body not recorded", r)
		}
	}
	if len(s.document().bodies) != len(withBody) {
		t.Errorf("recorded %d request bodies, document has %d", len(s.document().bodies), len(withBody))
	}
	got[0].Path = "/mutated"
	if s.Routes()[0].Path == "/mutated" {
		t.Error("Routes() exposes the Spec's own slice")
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		method, path string
		want         string // "" means no match
	}{
		{"POST", "/flow_runs/filter", "POST /flow_runs/filter"},
		{"post", "/flow_runs/filter", "POST /flow_runs/filter"},
		{"GET", "/flow_runs/8f4e3f30-5ad8-4f3b-a0b4-2b9b9d5b6c11", "GET /flow_runs/{id}"},
		{"GET", "/flow_runs/filter", "GET /flow_runs/{id}"}, // no GET /flow_runs/filter: the param route takes it, as in Starlette
		{"POST", "/flow_runs/", "POST /flow_runs/"},
		{"POST", "/flow_runs", ""},
		{"POST", "/flow_runs/filter/", ""},
		{"GET", "/flow_run_states/", "GET /flow_run_states/"},
		{"GET", "/flow_run_states", ""},
		{"GET", "/flow_run_states/83c673e2-1276-45ba-97ff-d88b3621bc73", "GET /flow_run_states/{id}"},
		{"POST", "/work_pools/local-process-pool/queues/filter", "POST /work_pools/{work_pool_name}/queues/filter"},
		{"POST", "/work_pools/my%20pool/queues/filter", "POST /work_pools/{work_pool_name}/queues/filter"},
		{"POST", "/work_pools/filter", "POST /work_pools/filter"},
		{"GET", "/work_pools/my%20pool", "GET /work_pools/{name}"},
		{"GET", "/work_pools/a%2Fb", ""}, // decoded before splitting, like Starlette
		{"GET", "/work_pools/bad%zzescape", ""},
		{"DELETE", "/work_pools/p/workers/w", "DELETE /work_pools/{work_pool_name}/workers/{name}"},
		{"GET", "/deployments/name/my-flow/my-deployment", "GET /deployments/name/{flow_name}/{deployment_name}"},
		{"GET", "/variables/name/x", "GET /variables/name/{name}"},
		{"GET", "/variables/name", "GET /variables/{id}"},
		{"POST", "/events", "POST /events"},
		{"POST", "/events/count-by/event", "POST /events/count-by/{countable}"},
		{"GET", "/events/filter/next", "GET /events/filter/next"},
		{"POST", "/v2/concurrency_limits/filter", "POST /v2/concurrency_limits/filter"},
		{"GET", "/v2/concurrency_limits/tag:x", "GET /v2/concurrency_limits/{id_or_name}"},
		{"GET", "/work_queues/name/status", "GET /work_queues/name/{name}"}, // literal "name" beats {id}
		{"GET", "/work_queues/abc/status", "GET /work_queues/{id}/status"},
		{"GET", "/health", "GET /health"},
		{"POST", "/health", ""},
		{"POST", "/flow_runs//filter", ""},
		{"GET", "/api/flow_runs/x", ""},
		{"GET", "flow_runs/x", ""},
		{"GET", "", ""},
		{"GET", "/", ""},
		{"GET", "/nope", ""},
	}
	s := mustSpec(t)
	for _, tt := range tests {
		got, ok := s.Match(tt.method, tt.path)
		if tt.want == "" {
			if ok {
				t.Errorf("Match(%q, %q) = %v, want no match", tt.method, tt.path, got)
			}
			continue
		}
		if !ok || got.String() != tt.want {
			t.Errorf("Match(%q, %q) = %v, %v; want %s", tt.method, tt.path, got, ok, tt.want)
		}
	}
}

func TestMatchFindsEveryTemplate(t *testing.T) {
	s := mustSpec(t)
	for _, r := range s.Routes() {
		concrete := strings.NewReplacer("{", "x", "}", "").Replace(r.Path)
		got, ok := s.Match(r.Method, concrete)
		if !ok {
			t.Errorf("Match(%s %s) found nothing for template %s", r.Method, concrete, r.Path)
			continue
		}
		if !strings.Contains(r.Path, "{") && got != r {
			t.Errorf("Match(%s %s) = %v, want the literal route", r.Method, concrete, got)
		}
	}
}

func TestComponentsMatchDocument(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(documentBytes, &doc); err != nil {
		t.Fatal(err)
	}
	s := mustSpec(t)
	if len(doc.Components.Schemas) != 397 || len(s.document().components) != len(doc.Components.Schemas) {
		t.Errorf("Spec has %d components, document %d; want 397", len(s.document().components), len(doc.Components.Schemas))
	}
	for name, want := range doc.Components.Schemas {
		raw, ok := s.Component(name)
		var got any
		if !ok || json.Unmarshal(raw, &got) != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Component(%q) = %.80s, %v; differs from the document", name, raw, ok)
		}
	}
}

func TestEveryComponentCompiles(t *testing.T) {
	s := mustSpec(t)
	for name := range s.document().components {
		err := s.ValidateComponent(name, map[string]any{})
		var verr *ValidationError
		if err != nil && !errors.As(err, &verr) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestComponent(t *testing.T) {
	s := mustSpec(t)
	raw, ok := s.Component("FlowRunFilter")
	if !ok {
		t.Fatal("FlowRunFilter not found")
	}
	var schema struct {
		Title                string         `json:"title"`
		AdditionalProperties *bool          `json:"additionalProperties"`
		Properties           map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Title != "FlowRunFilter" || schema.AdditionalProperties == nil || *schema.AdditionalProperties || schema.Properties["state"] == nil {
		t.Errorf("unexpected FlowRunFilter schema: %s", raw)
	}
	raw[0] = 'X'
	if again, _ := s.Component("FlowRunFilter"); again[0] != '{' {
		t.Error("Component exposes the Spec's own bytes")
	}
	if _, ok := s.Component("NoSuchSchema"); ok {
		t.Error("Component(NoSuchSchema) reported found")
	}
}
