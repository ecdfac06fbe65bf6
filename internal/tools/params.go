package tools

import (
	"context"
	"reflect"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Paging limits shared by list tools; Prefect itself serves at most 200 rows.
const (
	defaultLimit = 50
	maxLimit     = apiMaxLimit
)

// checkUUID validates an id argument before any upstream call.
func checkUUID(name, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", badInput("%s is required", name)
	}
	if !prefect.IsUUID(v) {
		return "", badInput("%s %q is not a UUID (expected the form 1f2e3d4c-0000-4000-8000-000000000000)", name, clip(v, 80))
	}
	return strings.ToLower(v), nil
}

// pageArgs normalises limit and offset against their bounds.
func pageArgs(limit, offset, def, max int) (int, int, error) {
	if limit == 0 {
		limit = def
	}
	if limit < 1 || limit > max {
		return 0, 0, badInput("limit must be between 1 and %d (got %d)", max, limit)
	}
	if offset < 0 {
		return 0, 0, badInput("offset must be 0 or more (got %d)", offset)
	}
	return limit, offset, nil
}

// checkFilter validates a Prefect filter object against Prefect's own schema
// before any call, so the model gets the allowed keys instead of a 422.
func (c *call) checkFilter(component string, f map[string]any) error {
	if len(f) == 0 {
		return nil
	}
	if err := c.deps.Spec.ValidateComponent(component, f); err != nil {
		return badInput("invalid filter (a Prefect %s): %v", component, err)
	}
	return nil
}

// schemaFor infers the input schema of In and lets a tool tighten it
// (bounds, enums) so clients can validate before calling.
func schemaFor[In any](tweak func(s *jsonschema.Schema)) *jsonschema.Schema {
	s, err := jsonschema.For[In](nil)
	if err != nil {
		panic("tools: input schema: " + err.Error()) // programmer error at start-up
	}
	for _, p := range s.Properties {
		// map[string]any infers an explicit "additionalProperties": true,
		// which JSON Schema assumes anyway; dropping it trims every filter.
		if p.Type == "object" && p.AdditionalProperties != nil && reflect.ValueOf(*p.AdditionalProperties).IsZero() {
			p.AdditionalProperties = nil
		}
	}
	if tweak != nil {
		tweak(s)
	}
	return s
}

// bound sets an integer property's range. Defaults stay in the description:
// the SDK's default filling panics on a call whose arguments are absent.
func bound(s *jsonschema.Schema, prop string, min, max int) {
	p, ok := s.Properties[prop]
	if !ok {
		panic("tools: no property " + prop)
	}
	lo, hi := float64(min), float64(max)
	p.Minimum, p.Maximum = &lo, &hi
}

// listQuery is one page of a Prefect `POST /…/filter` read.
type listQuery struct {
	path      string         // e.g. "/flow_runs/filter"
	key       string         // body key of the filter, e.g. "flow_runs"
	component string         // OpenAPI filter component, e.g. "FlowRunFilter"
	sort      string         // Prefect sort enum; "" for the server's default
	filter    map[string]any // the caller's filter, validated before the read
	// siblings are the body's other filters (flows, deployments, …),
	// validated before the read too.
	siblings bodyFilters
	limit    int
	offset   int
}

// fetchPage validates the filter and reads one page: the shared shape of
// the filter-based list tools.
func fetchPage[T any](ctx context.Context, c *call, q listQuery) (rows []T, more bool, err error) {
	if err := c.checkFilter(q.component, q.filter); err != nil {
		return nil, false, err
	}
	if err := c.checkFilters(q.siblings); err != nil {
		return nil, false, err
	}
	body := prefect.Body{}
	for key, f := range q.siblings {
		body[key] = f
	}
	if q.sort != "" {
		body["sort"] = q.sort
	}
	if len(q.filter) > 0 {
		body[q.key] = q.filter
	}
	return postPage[T](ctx, c, q.path, body, q.limit, q.offset)
}
