package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ValidateComponent validates a decoded JSON value (map[string]any, []any, string,
// float64 or json.Number, bool, nil; other Go values are converted through JSON)
// against components.schemas[name]. A mismatch is a *ValidationError whose Loc
// starts at the component's root.
func (s *document) ValidateComponent(name string, v any) error {
	if _, ok := s.components[name]; !ok {
		return fmt.Errorf("openapi: unknown component schema %q", name)
	}
	sch, err := s.schema(componentURL(name))
	if err != nil {
		return err
	}
	v, err = normalizeJSON(v)
	if err != nil {
		return fmt.Errorf("openapi: value for %s is not JSON: %w", name, err)
	}
	return s.check(sch, v, name, nil, false)
}

// ValidateBody validates a raw request body the way FastAPI reads it for route r:
// an empty body stands for "no body"; for routes whose body is several top-level
// parameters (a "Body_*" schema) a null parameter means its default. Routes without
// a request body accept anything, as FastAPI ignores it. Locs start with "body".
func (s *document) ValidateBody(r Route, body []byte) error {
	rb, ok := s.bodies[r]
	if !ok {
		if _, found := slices.BinarySearchFunc(s.routes, r, compareRoutes); !found {
			return fmt.Errorf("openapi: unknown route %s", r)
		}
		return nil
	}
	subject := "request body of " + r.String()
	value, present, problem := decodeBody(body)
	if problem != nil {
		return &ValidationError{Subject: subject, Details: []Detail{*problem}}
	}
	if rb.embedded {
		return s.validateEmbedded(rb, value, subject)
	}
	if !present || value == nil {
		if rb.required {
			return &ValidationError{Subject: subject, Details: []Detail{{
				Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil,
			}}}
		}
		return nil
	}
	sch, err := s.schema(rb.schemaURL)
	if err != nil {
		return err
	}
	return s.check(sch, value, subject, []any{"body"}, false)
}

func (s *document) validateEmbedded(rb requestBody, value any, subject string) error {
	params := map[string]any{}
	switch v := value.(type) {
	case nil:
	case map[string]any:
		for k, pv := range v {
			// FastAPI reads a null parameter as absent, i.e. its default.
			if pv == nil && slices.Contains(rb.params, k) {
				continue
			}
			params[k] = pv
		}
	default:
		// FastAPI cannot look parameters up in a non-object and reports each missing.
		details := make([]Detail, 0, len(rb.params))
		for _, p := range rb.params {
			details = append(details, Detail{Type: "missing", Loc: []any{"body", p}, Msg: "Field required", Input: nil})
		}
		return &ValidationError{Subject: subject, Details: details}
	}
	sch, err := s.schema(rb.schemaURL)
	if err != nil {
		return err
	}
	return s.check(sch, params, subject, []any{"body"}, true)
}

// decodeBody parses a body as Python's json.loads would accept it, reporting
// failures like FastAPI's json_invalid error.
func decodeBody(body []byte) (value any, present bool, problem *Detail) {
	if len(body) == 0 {
		return nil, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil {
		return nil, true, jsonInvalid(body, errorPosition(body, err), pythonJSONReason(err))
	}
	end := int(dec.InputOffset())
	rest := bytes.TrimLeft(body[end:], " \t\r\n")
	if len(rest) > 0 {
		return nil, true, jsonInvalid(body, len(body)-len(rest), "Extra data")
	}
	return value, true, nil
}

// errorPosition is the byte offset of the offending byte of a JSON syntax error.
func errorPosition(body []byte, err error) int {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) && syntax.Offset > 0 && int(syntax.Offset) <= len(body) {
		return int(syntax.Offset) - 1
	}
	return len(body)
}

func jsonInvalid(body []byte, pos int, reason string) *Detail {
	return &Detail{
		Type:  "json_invalid",
		Loc:   []any{"body", utf8.RuneCount(body[:pos])},
		Msg:   "JSON decode error",
		Input: map[string]any{},
		Ctx:   map[string]any{"error": reason},
	}
}

// pythonJSONReason maps Go's JSON syntax errors to the wording of Python's json module.
func pythonJSONReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "after top-level value"):
		return "Extra data"
	case strings.Contains(msg, "looking for beginning of object key string"):
		return "Expecting property name enclosed in double quotes"
	case strings.Contains(msg, "after object key:value pair"), strings.Contains(msg, "after array element"):
		return "Expecting ',' delimiter"
	case strings.Contains(msg, "after object key"):
		return "Expecting ':' delimiter"
	case strings.Contains(msg, "in string"):
		return "Invalid control character"
	}
	return "Expecting value"
}

// check validates v and translates the library's error tree into pydantic details.
func (s *document) check(sch *jsonschema.Schema, v any, subject string, prefix []any, embeddedRoot bool) error {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("openapi: validate %s: %w", subject, err)
	}
	t := translator{spec: s, root: v, prefix: prefix, embeddedRoot: embeddedRoot}
	details := t.details(verr)
	if len(details) == 0 {
		// Only problems pydantic's lax mode would have coerced away.
		return nil
	}
	slices.SortStableFunc(details, func(a, b Detail) int { return compareLocs(a.Loc, b.Loc) })
	return &ValidationError{Subject: subject, Details: details}
}

func compareLocs(a, b []any) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ai, aIsInt := a[i].(int)
		bi, bIsInt := b[i].(int)
		switch {
		case aIsInt && bIsInt:
			if ai != bi {
				return ai - bi
			}
		case aIsInt != bIsInt:
			if aIsInt {
				return -1
			}
			return 1
		default:
			if c := strings.Compare(fmt.Sprint(a[i]), fmt.Sprint(b[i])); c != 0 {
				return c
			}
		}
	}
	return len(a) - len(b)
}

// schema compiles (once) and returns the schema at a resource URL.
func (s *document) schema(schemaURL string) (*jsonschema.Schema, error) {
	if sch, ok := s.compiled.Load(schemaURL); ok {
		return sch.(*jsonschema.Schema), nil
	}
	s.compileMu.Lock()
	defer s.compileMu.Unlock()
	if sch, ok := s.compiled.Load(schemaURL); ok {
		return sch.(*jsonschema.Schema), nil
	}
	sch, err := s.compiler.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("openapi: compile schema %s: %w", schemaURL, err)
	}
	s.compiled.Store(schemaURL, sch)
	return sch, nil
}

// resourceLoader serves components and inline bodies to the compiler, which asks
// for each resource once, while compileMu is held.
type resourceLoader struct{ s *document }

func (l resourceLoader) Load(resourceURL string) (any, error) {
	var raw []byte
	if escaped, ok := strings.CutPrefix(resourceURL, componentURLPrefix); ok {
		if name, err := url.PathUnescape(escaped); err == nil {
			raw = l.s.components[name]
		}
	} else {
		raw = l.s.inlineBodies[resourceURL]
	}
	if raw == nil {
		return nil, fmt.Errorf("openapi: no schema resource %s", resourceURL)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	rewriteRefs(doc)
	l.s.resources.Store(resourceURL, doc)
	return doc, nil
}

// rewriteRefs points document-relative component references at component resources.
func rewriteRefs(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if ref, ok := e.(string); ok && k == "$ref" {
				if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
					x[k] = componentURL(name)
				}
				continue
			}
			rewriteRefs(e)
		}
	case []any:
		for _, e := range x {
			rewriteRefs(e)
		}
	}
}

func stringFormat(problem func(string) string) func(any) error {
	return func(v any) error {
		str, ok := v.(string)
		if !ok {
			return nil
		}
		if p := problem(str); p != "" {
			return formatError(p)
		}
		return nil
	}
}

// normalizeJSON returns v if it is already made of decoded-JSON types, else v
// round-tripped through encoding/json.
func normalizeJSON(v any) (any, error) {
	if isDecodedJSON(v) {
		return v, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func isDecodedJSON(v any) bool {
	switch x := v.(type) {
	case nil, bool, string, json.Number:
		return true
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case []any:
		for _, e := range x {
			if !isDecodedJSON(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !isDecodedJSON(e) {
				return false
			}
		}
		return true
	}
	return false
}
