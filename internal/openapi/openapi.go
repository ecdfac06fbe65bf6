// Package openapi embeds Prefect's OpenAPI document and answers questions about it:
// which routes exist, which template a concrete path matches, and whether a request
// body or a filter value is valid — with errors shaped like Prefect's own 422 answers
// (pydantic v2 via FastAPI) and summaries a model can act on.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed prefect-openapi.json
var documentBytes []byte

// Schemas are given to the compiler as separate resources: one per component, with
// "#/components/schemas/X" references rewritten to the component's URL, and one per
// inline request body. Compiling a schema then decodes only what it references.
const (
	componentURLPrefix  = "file:///components/"
	inlineBodyURLPrefix = "file:///bodies/"
)

// Route is one operation of the document; Path is the template, e.g. "/flow_runs/{id}".
type Route struct {
	Method string
	Path   string
}

func (r Route) String() string { return r.Method + " " + r.Path }

// document is the parsed index. It is safe for concurrent use; schemas are compiled
// on first use and cached.
type document struct {
	routes       []Route
	templates    map[routeShape][]routeTemplate
	bodies       map[Route]requestBody
	components   map[string][]byte // raw schemas, slices of documentBytes
	inlineBodies map[string][]byte // resource URL -> raw inline body schema

	compileMu sync.Mutex // guards compiler, which is not safe for concurrent use
	compiler  *jsonschema.Compiler
	compiled  sync.Map // schema URL -> *jsonschema.Schema
	resources sync.Map // resource URL -> decoded schema, for describing errors
}

// requestBody describes how FastAPI reads a route's body.
type requestBody struct {
	schemaURL string
	required  bool
	// embedded bodies (a "Body_*" component) are several top-level parameters:
	// FastAPI treats a null or absent parameter as its default.
	embedded bool
	params   []string // embedded parameters, sorted
}

// routeShape narrows Match to templates with the right method and segment count.
type routeShape struct {
	method   string
	segments int
}

type routeTemplate struct {
	route    Route
	segments []string // literal segments; unused where params[i]
	params   []bool
}

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// Spec is Prefect's OpenAPI document, embedded. It is parsed on first use,
// since start-up (initialize, tools/list) never needs it; share one *Spec.
// Safe for concurrent use.
type Spec struct {
	once sync.Once
	doc  *document
}

// Load returns the embedded document. The error is kept for callers that
// load other documents one day; the embedded one is checked by tests and a
// failure to parse it is a build defect, reported by a panic on first use.
func Load() (*Spec, error) { return &Spec{}, nil }

func (s *Spec) document() *document {
	s.once.Do(func() {
		d, err := parse()
		if err != nil {
			panic(err)
		}
		s.doc = d
	})
	return s.doc
}

// Routes returns every method and path of the document, sorted.
func (s *Spec) Routes() []Route { return s.document().Routes() }

// Match maps a concrete path to its route template.
func (s *Spec) Match(method, path string) (Route, bool) { return s.document().Match(method, path) }

// Component returns a component schema as written in the document.
func (s *Spec) Component(name string) (json.RawMessage, bool) { return s.document().Component(name) }

// ValidateComponent validates v against components.schemas[name].
func (s *Spec) ValidateComponent(name string, v any) error {
	return s.document().ValidateComponent(name, v)
}

// ValidateBody validates a request body the way Prefect (FastAPI) reads it.
func (s *Spec) ValidateBody(r Route, body []byte) error { return s.document().ValidateBody(r, body) }

// parse indexes the embedded document.
func parse() (*document, error) {
	s := &document{
		templates:    map[routeShape][]routeTemplate{},
		bodies:       map[Route]requestBody{},
		components:   map[string][]byte{},
		inlineBodies: map[string][]byte{},
	}
	var paths, components []byte
	err := eachMember(documentBytes, func(key string, value []byte) error {
		switch key {
		case "paths":
			paths = value
		case "components":
			components = value
		}
		return nil
	})
	if err != nil || paths == nil || components == nil {
		return nil, fmt.Errorf("openapi: embedded document lacks paths or components (%v)", err)
	}
	schemas, _, err := member(components, "schemas")
	if err == nil {
		err = eachMember(schemas, func(name string, schema []byte) error {
			s.components[name] = schema
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("openapi: components: %w", err)
	}
	err = eachMember(paths, func(path string, item []byte) error {
		return eachMember(item, func(method string, op []byte) error {
			if !httpMethods[method] {
				return nil
			}
			r := Route{Method: strings.ToUpper(method), Path: path}
			s.routes = append(s.routes, r)
			t := newRouteTemplate(r)
			shape := routeShape{r.Method, len(t.params)}
			s.templates[shape] = append(s.templates[shape], t)
			if err := s.addRequestBody(r, op); err != nil {
				return fmt.Errorf("%s: %w", r, err)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("openapi: paths: %w", err)
	}
	slices.SortFunc(s.routes, compareRoutes)

	s.compiler = jsonschema.NewCompiler()
	s.compiler.DefaultDraft(jsonschema.Draft2020)
	s.compiler.AssertFormat()
	s.compiler.RegisterFormat(&jsonschema.Format{Name: "uuid", Validate: stringFormat(uuidProblem)})
	s.compiler.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: stringFormat(dateTimeProblem)})
	s.compiler.RegisterFormat(&jsonschema.Format{Name: "duration", Validate: stringFormat(durationProblem)})
	// pydantic's URL rules are not RFC 3986's; leave URLs to the server.
	s.compiler.RegisterFormat(&jsonschema.Format{Name: "uri", Validate: func(any) error { return nil }})
	s.compiler.UseLoader(resourceLoader{s})
	return s, nil
}

func compareRoutes(a, b Route) int {
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return strings.Compare(a.Method, b.Method)
}

func (s *document) addRequestBody(r Route, op []byte) error {
	raw, ok, err := member(op, "requestBody")
	if err != nil || !ok {
		return err
	}
	var rb struct {
		Required bool `json:"required"`
		Content  map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	}
	if err := json.Unmarshal(raw, &rb); err != nil {
		return err
	}
	media, ok := rb.Content["application/json"]
	if !ok {
		return nil
	}
	var ref struct {
		Ref string `json:"$ref"`
	}
	if err := json.Unmarshal(media.Schema, &ref); err != nil {
		return err
	}
	body := requestBody{required: rb.Required}
	name, isComponent := strings.CutPrefix(ref.Ref, "#/components/schemas/")
	switch {
	case isComponent && strings.HasPrefix(name, "Body_"):
		props, _, err := member(s.components[name], "properties")
		if err == nil && props != nil {
			err = eachMember(props, func(param string, _ []byte) error {
				body.params = append(body.params, param)
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("body schema %s: %w", name, err)
		}
		body.embedded = true
		slices.Sort(body.params)
		fallthrough
	case isComponent:
		if _, ok := s.components[name]; !ok {
			return fmt.Errorf("body schema %s is not in components", name)
		}
		body.schemaURL = componentURL(name)
	default:
		body.schemaURL = inlineBodyURLPrefix + url.PathEscape(r.Method+" "+r.Path)
		s.inlineBodies[body.schemaURL] = media.Schema
	}
	s.bodies[r] = body
	return nil
}

func componentURL(name string) string {
	return componentURLPrefix + url.PathEscape(name)
}

func newRouteTemplate(r Route) routeTemplate {
	parts := strings.Split(r.Path, "/")[1:]
	t := routeTemplate{route: r, segments: make([]string, len(parts)), params: make([]bool, len(parts))}
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			t.params[i] = true
		} else {
			t.segments[i] = p
		}
	}
	return t
}

// Routes returns every operation in the document, sorted by path then method.
func (s *document) Routes() []Route {
	return slices.Clone(s.routes)
}

// Match finds the route template for a concrete, percent-encoded path (as in
// URL.EscapedPath, relative to the API root). Like Starlette, the path is decoded
// before it is split, a parameter matches one non-empty segment, and a trailing
// slash is significant ("/flow_run_states/" exists, "/flow_run_states" does not).
// Where templates overlap, the one with a literal segment earliest wins, so
// "/flow_runs/filter" is not "/flow_runs/{id}".
func (s *document) Match(method, path string) (Route, bool) {
	decoded, err := url.PathUnescape(path)
	if err != nil || !strings.HasPrefix(decoded, "/") {
		return Route{}, false
	}
	parts := strings.Split(decoded, "/")[1:]
	candidates := s.templates[routeShape{strings.ToUpper(method), len(parts)}]
	var best *routeTemplate
	for i := range candidates {
		t := &candidates[i]
		if !t.matches(parts) {
			continue
		}
		if best == nil || t.moreSpecificThan(best) {
			best = t
		}
	}
	if best == nil {
		return Route{}, false
	}
	return best.route, true
}

func (t *routeTemplate) matches(parts []string) bool {
	for i, p := range parts {
		if t.params[i] {
			if p == "" {
				return false
			}
		} else if p != t.segments[i] {
			return false
		}
	}
	return true
}

func (t *routeTemplate) moreSpecificThan(other *routeTemplate) bool {
	for i := range t.params {
		if t.params[i] != other.params[i] {
			return !t.params[i]
		}
	}
	return false
}

// Component returns the raw schema of components.schemas[name], as in the
// document: its references have the form "#/components/schemas/X".
func (s *document) Component(name string) (json.RawMessage, bool) {
	raw, ok := s.components[name]
	if !ok {
		return nil, false
	}
	return slices.Clone(raw), true
}
