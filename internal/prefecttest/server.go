// Package prefecttest is an in-memory fake of the Prefect REST API served
// over real HTTP. It validates request bodies against Prefect's OpenAPI
// document, applies Prefect's filter semantics and limits, answers with
// Prefect's error shapes, and records every request so tests can assert what
// was (and was not) called. It backs the test suites and `prefect-mcp --demo`.
package prefecttest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
)

// maxRequestBody bounds what the fake reads from a request.
const maxRequestBody = 8 << 20

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string // concrete path relative to the API root, e.g. "/flow_runs/filter"
	Query  string // raw query string
	Route  string // "METHOD /template" from the OpenAPI document, "" if unknown
	Body   []byte
	Status int // 0 when the connection was reset before a status was sent
	// Authorization identifies the credential without storing it: "none",
	// or "bearer:<hash>", "basic:<hash>", "other:<hash>"; see AuthTag.
	Authorization string
}

// Server is a running (or embeddable) fake Prefect API.
type Server struct {
	// URL is the API root clients should use, e.g. "http://127.0.0.1:PORT/api"
	// or ".../api/accounts/{a}/workspaces/{w}" with WithCloud. Empty for a
	// server made by NewHandler.
	URL string

	cfg     config
	spec    *openapi.Spec
	queries map[string]query
	routes  map[string]handlerFunc
	closing chan struct{}
	once    sync.Once
	httpSrv *httptest.Server

	dataMu sync.RWMutex
	data   *Data

	logMu    sync.Mutex
	requests []Request
	counts   map[string]int
	faults   []*faultState
}

type config struct {
	apiKey     string
	authString string
	cloud      *cloudIDs
	data       *Data
	latency    time.Duration
	faults     []Fault
	hook       func(w http.ResponseWriter, r *http.Request) bool
	clock      func() time.Time
	spec       *openapi.Spec
}

type cloudIDs struct{ account, workspace string }

// Option configures a Server.
type Option func(*config)

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

// WithLatency delays every response by d (the wait ends early when the
// client gives up or the server closes).
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithFault installs a fault from the start; see Server.AddFault.
func WithFault(f Fault) Option { return func(c *config) { c.faults = append(c.faults, f) } }

// WithFaultHook runs hook before every routed request; when it reports
// handled, the fake sends nothing more (the request is still logged).
func WithFaultHook(hook func(w http.ResponseWriter, r *http.Request) (handled bool)) Option {
	return func(c *config) { c.hook = hook }
}

// WithClock sets the clock used for Prefect's time defaults (event windows,
// history). Defaults to the seeded data's AsOf, or time.Now when it has none.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithSpec shares an already loaded OpenAPI document (loading it is the
// most expensive part of New).
func WithSpec(spec *openapi.Spec) Option { return func(c *config) { c.spec = spec } }

// New starts a fake Prefect API on 127.0.0.1 with a random port.
func New(opts ...Option) *Server {
	s := NewHandler(opts...)
	s.httpSrv = httptest.NewServer(s.Handler())
	s.URL = s.httpSrv.URL + s.apiPrefix()
	return s
}

// NewHandler builds the fake without listening; serve Handler() yourself.
// It panics if the embedded OpenAPI document cannot be loaded.
func NewHandler(opts ...Option) *Server {
	var cfg config
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.clock == nil {
		cfg.clock = time.Now
		if cfg.data != nil && !cfg.data.AsOf.IsZero() {
			asOf := cfg.data.AsOf
			cfg.clock = func() time.Time { return asOf }
		}
	}
	spec := cfg.spec
	if spec == nil {
		var err error
		if spec, err = openapi.Load(); err != nil {
			panic(fmt.Sprintf("prefecttest: loading the OpenAPI document: %v", err))
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
		counts:  map[string]int{},
	}
	s.routes = s.routeTable()
	for _, f := range cfg.faults {
		s.AddFault(f)
	}
	return s
}

// apiPrefix is the path of the API root.
func (s *Server) apiPrefix() string {
	if c := s.cfg.cloud; c != nil {
		return "/api/accounts/" + c.account + "/workspaces/" + c.workspace
	}
	return "/api"
}

// Handler serves the whole fake (API under /api).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close stops the server, releasing stalled requests first.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		if s.httpSrv != nil {
			s.httpSrv.Close()
		}
	})
}

// Put stores objects (deep copies) in collection, replacing objects with the
// same id. It panics on an unknown collection.
func (s *Server) Put(collection string, objs ...map[string]any) {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	s.data.Add(collection, objs...)
}

// Requests returns a copy of the request log in arrival order.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return slices.Clone(s.requests)
}

// Count reports how many requests hit route, e.g. "POST /flow_runs/filter".
func (s *Server) Count(route string) int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.counts[route]
}

// Writes returns the logged requests to routes that change state on a real
// Prefect server (including the "reads that write" such as get_runs).
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if isWriteRoute(r.Route) || (r.Route == "" && r.Method != http.MethodGet && r.Method != http.MethodHead) {
			out = append(out, r)
		}
	}
	return out
}

// ResetLog clears the request log and counters.
func (s *Server) ResetLog() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.requests = nil
	s.counts = map[string]int{}
}

// AuthTag derives the Request.Authorization tag of an Authorization header.
func AuthTag(header string) string {
	if header == "" {
		return "none"
	}
	scheme, cred, _ := strings.Cut(header, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		return "bearer:" + shortHash(cred)
	case "basic":
		if decoded, err := base64.StdEncoding.DecodeString(cred); err == nil {
			return "basic:" + shortHash(string(decoded))
		}
	}
	return "other:" + shortHash(header)
}

// BearerTag is AuthTag of "Bearer <key>".
func BearerTag(key string) string { return AuthTag("Bearer " + key) }

// BasicTag is AuthTag of HTTP Basic credentials "user:pass".
func BasicTag(userPass string) string {
	return AuthTag("Basic " + base64.StdEncoding.EncodeToString([]byte(userPass)))
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
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

// recorder captures the status a handler sends.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	rec := &recorder{ResponseWriter: w}
	entry := Request{
		Method:        r.Method,
		Path:          r.URL.EscapedPath(),
		Query:         r.URL.RawQuery,
		Body:          body,
		Authorization: AuthTag(r.Header.Get("Authorization")),
	}
	defer func() {
		entry.Status = rec.status
		s.logMu.Lock()
		s.requests = append(s.requests, entry)
		if entry.Route != "" {
			s.counts[entry.Route]++
		}
		s.logMu.Unlock()
	}()
	s.serve(rec, r, body, &entry)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte, entry *Request) {
	if !s.wait(r.Context(), s.cfg.latency) {
		return
	}
	rel, scope := s.relativePath(r.URL.EscapedPath())
	if scope != scopeNone {
		entry.Path = rel
	}
	if scope == scopeWorkspace {
		// Name the route before authorizing, so a refused read is still
		// logged as that read and not as an unknown (possibly write) request.
		if route, ok := s.spec.Match(r.Method, rel); ok {
			entry.Route = route.Method + " " + route.Path
		}
	}
	if err := s.authorize(r, rel, scope); err != nil {
		writeError(w, err)
		return
	}
	switch scope {
	case scopeNone:
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
		return
	case scopeAccount:
		s.serveAccount(w, r, rel, entry)
		return
	}
	route, ok := s.spec.Match(r.Method, rel)
	if !ok {
		writeError(w, s.unmatched(r.Method, rel))
		return
	}
	entry.Route = route.Method + " " + route.Path
	if s.injectFault(w, r, entry.Route) {
		return
	}
	if s.cfg.hook != nil && s.cfg.hook(w, r) {
		return
	}
	if isWriteRoute(entry.Route) {
		writeJSON(w, http.StatusForbidden, map[string]any{
			"detail": "prefecttest: " + entry.Route + " changes server state; the fake is read-only",
		})
		return
	}
	handler, ok := s.routes[entry.Route]
	if !ok {
		writeJSON(w, http.StatusNotImplemented, map[string]any{
			"detail": "prefecttest: " + entry.Route + " is not implemented by the fake",
		})
		return
	}
	c := &call{
		r:       r,
		route:   entry.Route,
		params:  pathParams(route.Path, rel),
		query:   r.URL.Query(),
		apiRoot: requestBase(r) + s.apiPrefix(),
	}
	if err := s.decodeBody(route, r.Method, body, c); err != nil {
		writeError(w, err)
		return
	}
	s.dataMu.RLock()
	c.v = &view{data: s.data, now: s.cfg.clock()}
	payload, err := handler(c)
	var raw []byte
	if err == nil {
		raw, err = json.Marshal(payload)
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
	prefix := s.apiPrefix()
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
		writeJSON(w, http.StatusInternalServerError, map[string]any{"exception_message": "prefecttest: " + err.Error()})
	}
}
