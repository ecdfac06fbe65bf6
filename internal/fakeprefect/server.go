// Package fakeprefect is an in-memory Prefect 3.8 REST API: Prefect's routes,
// filter semantics, limits, error shapes and authentication, with every
// request body validated against Prefect's OpenAPI document, over the seeded
// workspaces Demo and Large. It is read-only (writes get 403) and keeps no
// per-request state, so `prefect-mcp --demo` can serve it for as long as it
// runs. The test wrapper (package prefecttest) adds the listener, the request
// log and fault injection on top through WithIntercept.
package fakeprefect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
)

// MaxRequestBody bounds what the fake reads from a request.
const MaxRequestBody = 8 << 20

// ServiceTime is how long a single Prefect server process on SQLite takes
// per request (4-12 ms measured on Prefect 3.8); pass it to WithSerial.
const ServiceTime = 8 * time.Millisecond

// Server is the fake Prefect API as an http.Handler; the API is served under
// /api (or the Prefect Cloud workspace path with WithCloud).
type Server struct {
	cfg     config
	spec    *openapi.Spec
	queries map[string]query
	routes  map[string]handlerFunc
	closing chan struct{}
	once    sync.Once
	serial  chan struct{} // one token when requests are served one at a time

	dataMu sync.RWMutex
	data   *Data

	writeMu    sync.Mutex
	writes     int
	firstWrite string
}

type config struct {
	apiKey     string
	authString string
	cloud      *cloudIDs
	data       *Data
	latency    time.Duration
	serial     bool
	service    time.Duration
	intercept  Intercept
	clock      func() time.Time
	spec       *openapi.Spec
}

type cloudIDs struct{ account, workspace string }

// Option configures a Server.
type Option func(*config)

// Intercept sees every authorized request to a known route ("METHOD
// /template") before the fake answers it; when it reports handled, the fake
// sends nothing more. The test wrapper injects faults through it.
type Intercept func(w http.ResponseWriter, r *http.Request, route string) (handled bool)

// WithAPIKey requires "Authorization: Bearer <key>" on every request (as
// Prefect Cloud does); anything else gets 401.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithAuthString requires HTTP Basic credentials "user:pass" as a self-hosted
// server with PREFECT_SERVER_API_AUTH_STRING does; GET /health and /ready
// stay open.
func WithAuthString(userPass string) Option { return func(c *config) { c.authString = userPass } }

// WithCloud serves the workspace API under
// /api/accounts/{account}/workspaces/{workspace} and the account-level Cloud
// endpoints (/api/me/, /api/accounts/{account}, ...).
func WithCloud(accountID, workspaceID string) Option {
	return func(c *config) { c.cloud = &cloudIDs{account: accountID, workspace: workspaceID} }
}

// WithData seeds the server with a copy of data.
func WithData(d *Data) Option { return func(c *config) { c.data = d } }

// WithLatency delays every response by d, requests in parallel (the wait
// ends early when the client gives up or the server closes).
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithSerial serves one request at a time, each taking at least
// serviceTime, as a single Prefect process on SQLite does (ServiceTime is
// the measured figure). A request waiting for its turn or in service ends
// when its client gives up or the server closes.
func WithSerial(serviceTime time.Duration) Option {
	return func(c *config) { c.serial, c.service = true, serviceTime }
}

// WithIntercept installs f; see Intercept.
func WithIntercept(f Intercept) Option { return func(c *config) { c.intercept = f } }

// WithClock sets the clock used for Prefect's time defaults (event windows,
// history). Without it the clock stands still at the seeded data's AsOf (at a
// fixed epoch when nothing is seeded); the fake never reads the wall clock by
// itself (--demo passes time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithSpec shares an already loaded OpenAPI document (loading it is the
// most expensive part of NewHandler).
func WithSpec(spec *openapi.Spec) Option { return func(c *config) { c.spec = spec } }

// epoch is the clock of a fake seeded with nothing and given no clock: a
// fixed instant, so even a bare fake never reads the wall clock.
func epoch() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// NewHandler builds the fake; serve it (or Handler()) yourself. It panics
// when seeded data has no AsOf and no clock is given, or if the embedded
// OpenAPI document cannot be loaded.
func NewHandler(opts ...Option) *Server {
	var cfg config
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.clock == nil {
		asOf := epoch()
		if cfg.data != nil {
			if asOf = cfg.data.AsOf; asOf.IsZero() {
				panic("fakeprefect: seeded data without a time: set Data.AsOf or pass WithClock")
			}
		}
		cfg.clock = func() time.Time { return asOf }
	}
	spec := cfg.spec
	if spec == nil {
		var err error
		if spec, err = openapi.Load(); err != nil {
			panic(fmt.Sprintf("fakeprefect: loading the OpenAPI document: %v", err))
		}
	}
	data := NewData()
	if cfg.data != nil {
		data = cfg.data.clone()
	}
	s := &Server{
		cfg:     cfg,
		spec:    spec,
		queries: queries(),
		closing: make(chan struct{}),
		data:    data,
	}
	if cfg.serial {
		s.serial = make(chan struct{}, 1)
	}
	s.routes = s.routeTable()
	return s
}

// APIPrefix is the path of the API root: "/api", or the workspace path
// with WithCloud.
func (s *Server) APIPrefix() string {
	if c := s.cfg.cloud; c != nil {
		return "/api/accounts/" + c.account + "/workspaces/" + c.workspace
	}
	return "/api"
}

// Handler serves the whole fake (API under APIPrefix).
func (s *Server) Handler() http.Handler { return s }

// Close releases requests that are waiting or stalled; the fake answers
// nothing more that waits.
func (s *Server) Close() { s.once.Do(func() { close(s.closing) }) }

// Put stores objects (deep copies) in collection, replacing objects with the
// same id. It panics on an unknown collection.
func (s *Server) Put(collection string, objs ...map[string]any) {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	s.data.Add(collection, objs...)
}

// WriteAttempts reports how many requests to routes that change state on a
// real Prefect (or to unknown routes with a writing method) the fake has
// received and refused, and the first one as "METHOD path".
func (s *Server) WriteAttempts() (n int, first string) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.writes, s.firstWrite
}

func (s *Server) noteWrite(method, rel, route string) {
	if !IsWrite(method, route) {
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.writes == 0 {
		s.firstWrite = method + " " + rel
	}
	s.writes++
}

// IsWrite reports whether a request changes state on a real Prefect: a
// writing route, or an unknown route ("") with a method other than GET or
// HEAD.
func IsWrite(method, route string) bool {
	if route == "" {
		return method != http.MethodGet && method != http.MethodHead
	}
	return isWriteRoute(route)
}

// Route names a request as the fake sees it: its path relative to the API
// root (the path itself outside it) and its route, "METHOD /template" from
// the OpenAPI document or a Cloud account route, "" when unknown.
func (s *Server) Route(method, escapedPath string) (rel, route string) {
	rel, _, route = s.name(method, escapedPath)
	return rel, route
}

func (s *Server) name(method, escapedPath string) (rel string, sc scope, route string) {
	rel, sc = s.relativePath(escapedPath)
	switch sc {
	case scopeWorkspace:
		if r, ok := s.spec.Match(method, rel); ok {
			route = r.Method + " " + r.Path
		}
	case scopeAccount:
		route = s.accountRoute(rel)
	}
	return rel, sc, route
}

// isWriteRoute reports whether a route changes server state. POST is a read
// only for query endpoints; get_runs and get_scheduled_flow_runs count as a
// worker poll on a real server, so they are writes here.
func isWriteRoute(route string) bool {
	method, p, ok := strings.Cut(route, " ")
	if !ok {
		return false
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	case http.MethodPost:
		for _, suffix := range []string{"/filter", "/count", "/paginate", "/history", "/lateness", "/concurrency_status"} {
			if strings.HasSuffix(p, suffix) {
				return false
			}
		}
		return !strings.HasPrefix(p, "/events/count-by/") && !strings.HasPrefix(p, "/ui/")
	}
	return true
}

// httpError is a complete error response.
type httpError struct {
	status int
	body   any
	header http.Header
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %v", e.status, e.body) }

func detailError(status int, detail string) *httpError {
	return &httpError{status: status, body: map[string]any{"detail": detail}}
}

// call is one routed request.
type call struct {
	r       *http.Request
	route   string
	params  map[string]string
	query   url.Values
	body    map[string]any
	v       *view
	apiRoot string // absolute URL of the API root, for links
}

type handlerFunc func(c *call) (any, error)

// ServeHTTP answers one request as Prefect would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	release, ok := s.pace(r.Context())
	if !ok {
		return
	}
	defer release()
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody))
	rel, sc, route := s.name(r.Method, r.URL.EscapedPath())
	s.noteWrite(r.Method, rel, route)
	if err := s.authorize(r, rel, sc); err != nil {
		writeError(w, err)
		return
	}
	switch sc {
	case scopeNone:
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
		return
	case scopeAccount:
		s.serveAccount(w, r, route)
		return
	}
	if route == "" {
		writeError(w, s.unmatched(r.Method, rel))
		return
	}
	if s.cfg.intercept != nil && s.cfg.intercept(w, r, route) {
		return
	}
	if isWriteRoute(route) {
		writeJSON(w, http.StatusForbidden, map[string]any{
			"detail": "fakeprefect: " + route + " changes server state; the fake is read-only",
		})
		return
	}
	handler, ok := s.routes[route]
	if !ok {
		writeJSON(w, http.StatusNotImplemented, map[string]any{
			"detail": "fakeprefect: " + route + " is not implemented by the fake",
		})
		return
	}
	method, template, _ := strings.Cut(route, " ")
	c := &call{
		r:       r,
		route:   route,
		params:  pathParams(template, rel),
		query:   r.URL.Query(),
		apiRoot: requestBase(r) + s.APIPrefix(),
	}
	if err := s.decodeBody(openapi.Route{Method: method, Path: template}, r.Method, body, c); err != nil {
		writeError(w, err)
		return
	}
	s.dataMu.RLock()
	c.v = &view{data: s.data, now: s.cfg.clock()}
	payload, err := handler(c)
	var raw []byte
	if err == nil {
		raw, err = marshal(payload)
	}
	s.dataMu.RUnlock()
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
}

// pace applies WithLatency and WithSerial: it waits for the request's turn
// and its service time, and reports false when the client or the server
// gave up first. release ends the turn.
func (s *Server) pace(ctx context.Context) (release func(), ok bool) {
	release = func() {}
	if s.serial != nil {
		select {
		case s.serial <- struct{}{}:
			release = func() { <-s.serial }
		case <-ctx.Done():
			return release, false
		case <-s.closing:
			return release, false
		}
	}
	d := s.cfg.latency
	if s.serial != nil {
		d += s.cfg.service
	}
	if !s.wait(ctx, d) {
		release()
		return func() {}, false
	}
	return release, true
}

// unmatched distinguishes a wrong method (405) from an unknown path (404).
func (s *Server) unmatched(method, rel string) error {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == method {
			continue
		}
		if _, ok := s.spec.Match(m, rel); ok {
			return &httpError{status: http.StatusMethodNotAllowed, body: map[string]any{"detail": "Method Not Allowed"}}
		}
	}
	return detailError(http.StatusNotFound, "Not Found")
}

func (s *Server) decodeBody(route openapi.Route, method string, body []byte, c *call) error {
	c.body = map[string]any{}
	if method == http.MethodGet || method == http.MethodDelete || method == http.MethodHead {
		return nil
	}
	if err := s.spec.ValidateBody(route, body); err != nil {
		return validationFailure(err, body)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	var decoded any
	if err := json.Unmarshal(body, &decoded); err != nil {
		return unprocessable(body, fieldError{typ: "json_invalid", loc: []any{"body"}, msg: "JSON decode error"})
	}
	if m, ok := decoded.(map[string]any); ok {
		c.body = m
	}
	return nil
}

type scope int

const (
	scopeNone scope = iota
	scopeWorkspace
	scopeAccount
)

// relativePath strips the API root from an escaped request path.
func (s *Server) relativePath(p string) (string, scope) {
	prefix := s.APIPrefix()
	if strings.HasPrefix(p, prefix+"/") {
		return strings.TrimPrefix(p, prefix), scopeWorkspace
	}
	if s.cfg.cloud != nil && strings.HasPrefix(p, "/api/") {
		return strings.TrimPrefix(p, "/api"), scopeAccount
	}
	return p, scopeNone
}

func (s *Server) authorize(r *http.Request, rel string, sc scope) error {
	header := r.Header.Get("Authorization")
	if s.cfg.apiKey != "" {
		scheme, cred, _ := strings.Cut(header, " ")
		if !strings.EqualFold(scheme, "bearer") || cred != s.cfg.apiKey {
			return detailError(http.StatusUnauthorized, "Invalid authentication credentials")
		}
	}
	if s.cfg.authString != "" && sc != scopeAccount {
		if r.Method == http.MethodGet && (rel == "/health" || rel == "/ready") {
			return nil
		}
		unauthorized := &httpError{status: http.StatusUnauthorized, body: map[string]any{"exception_message": "Unauthorized"}}
		scheme, cred, ok := strings.Cut(header, " ")
		if !ok || scheme != "Basic" {
			return unauthorized
		}
		decoded, err := base64.StdEncoding.DecodeString(cred)
		if err != nil || string(decoded) != s.cfg.authString {
			return unauthorized
		}
	}
	return nil
}

// wait sleeps for d unless the request or the server ends first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// pathParams pairs the segments of an OpenAPI template with a concrete path.
func pathParams(template, concrete string) map[string]string {
	params := map[string]string{}
	if decoded, err := url.PathUnescape(concrete); err == nil {
		concrete = decoded // Starlette decodes before splitting, as openapi.Match does
	}
	ts := strings.Split(template, "/")
	cs := strings.Split(concrete, "/")
	for i, seg := range ts {
		if i < len(cs) && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params[strings.Trim(seg, "{}")] = cs[i]
		}
	}
	return params
}

// marshal encodes an answer: the bytes of encoding/json (sorted keys,
// HTML escaped; TestMarshalIsEncodingJSON), in about half the time, which
// counts when 200 large-workspace rows are answered one request at a time.
func marshal(v any) ([]byte, error) { return fastjson.Marshal(v) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		status, raw = http.StatusInternalServerError, []byte(`{"exception_message":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	var ue *unsupportedError
	switch {
	case errors.As(err, &he):
		for k, vs := range he.header {
			w.Header()[k] = vs
		}
		if raw, ok := he.body.(json.RawMessage); ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(he.status)
			_, _ = w.Write(raw)
			return
		}
		writeJSON(w, he.status, he.body)
	case errors.As(err, &ue):
		writeJSON(w, http.StatusInternalServerError, map[string]any{"exception_message": ue.Error()})
	default:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"exception_message": "fakeprefect: " + err.Error()})
	}
}
