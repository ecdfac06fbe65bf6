// Package prefecttest runs the fake Prefect API (package fakeprefect) for
// tests: on a real loopback listener, with a log of every request so tests
// can assert what was (and was not) called, a write detector and fault
// injection. The engine knows nothing of this package.
package prefecttest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/fakeprefect"
	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
)

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

// Server is a running (or embeddable) fake Prefect API with a request log.
type Server struct {
	// URL is the API root clients should use, e.g. "http://127.0.0.1:PORT/api"
	// or ".../api/accounts/{a}/workspaces/{w}" with WithCloud. Empty for a
	// server made by NewHandler.
	URL string

	engine  *fakeprefect.Server
	hook    func(w http.ResponseWriter, r *http.Request) bool
	closing chan struct{}
	once    sync.Once
	httpSrv *httptest.Server

	logMu    sync.Mutex
	requests []Request
	counts   map[string]int
	faults   []*faultState
}

type config struct {
	engine []fakeprefect.Option
	faults []Fault
	hook   func(w http.ResponseWriter, r *http.Request) bool
}

// Option configures a Server.
type Option func(*config)

func engine(o fakeprefect.Option) Option {
	return func(c *config) { c.engine = append(c.engine, o) }
}

// WithAPIKey requires "Authorization: Bearer <key>" on every request (as
// Prefect Cloud does); anything else gets 401.
func WithAPIKey(key string) Option { return engine(fakeprefect.WithAPIKey(key)) }

// WithAuthString requires HTTP Basic credentials "user:pass" as a self-hosted
// server with PREFECT_SERVER_API_AUTH_STRING does; GET /health and /ready
// stay open.
func WithAuthString(userPass string) Option { return engine(fakeprefect.WithAuthString(userPass)) }

// WithCloud serves the workspace API under
// /api/accounts/{account}/workspaces/{workspace} and the account-level Cloud
// endpoints (/api/me/, /api/accounts/{account}, ...).
func WithCloud(accountID, workspaceID string) Option {
	return engine(fakeprefect.WithCloud(accountID, workspaceID))
}

// WithData seeds the server with a copy of data.
func WithData(d *Data) Option { return engine(fakeprefect.WithData(d)) }

// WithLatency delays every response by d, requests in parallel (the wait
// ends early when the client gives up or the server closes).
func WithLatency(d time.Duration) Option { return engine(fakeprefect.WithLatency(d)) }

// WithSerial serves one request at a time, each taking serviceTime, as a
// single Prefect process on SQLite does; see fakeprefect.WithSerial.
func WithSerial(serviceTime time.Duration) Option { return engine(fakeprefect.WithSerial(serviceTime)) }

// WithClock sets the clock used for Prefect's time defaults (event windows,
// history). Without it the clock stands still at the seeded data's AsOf
// (a fixed epoch when nothing is seeded): fixtures never read the wall
// clock.
func WithClock(now func() time.Time) Option { return engine(fakeprefect.WithClock(now)) }

// WithSpec shares an already loaded OpenAPI document (loading it is the
// most expensive part of New).
func WithSpec(spec *openapi.Spec) Option { return engine(fakeprefect.WithSpec(spec)) }

// WithFault installs a fault from the start; see Server.AddFault.
func WithFault(f Fault) Option { return func(c *config) { c.faults = append(c.faults, f) } }

// WithFaultHook runs hook before every routed request; when it reports
// handled, the fake sends nothing more (the request is still logged).
func WithFaultHook(hook func(w http.ResponseWriter, r *http.Request) (handled bool)) Option {
	return func(c *config) { c.hook = hook }
}

// New starts a fake Prefect API on 127.0.0.1 with a random port.
func New(opts ...Option) *Server {
	s := NewHandler(opts...)
	s.httpSrv = httptest.NewServer(s.Handler())
	s.URL = s.httpSrv.URL + s.engine.APIPrefix()
	return s
}

// NewHandler builds the fake without listening; serve Handler() yourself.
// It panics without a clock (WithClock or Data.AsOf) or if the embedded
// OpenAPI document cannot be loaded.
func NewHandler(opts ...Option) *Server {
	var cfg config
	for _, opt := range opts {
		opt(&cfg)
	}
	s := &Server{hook: cfg.hook, closing: make(chan struct{}), counts: map[string]int{}}
	s.engine = fakeprefect.NewHandler(append(cfg.engine, fakeprefect.WithIntercept(s.intercept))...)
	for _, f := range cfg.faults {
		s.AddFault(f)
	}
	return s
}

// Handler serves the whole fake (API under /api), logging every request.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close stops the server, releasing stalled requests first.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.engine.Close()
		if s.httpSrv != nil {
			s.httpSrv.Close()
		}
	})
}

// Put stores objects (deep copies) in collection, replacing objects with the
// same id. It panics on an unknown collection.
func (s *Server) Put(collection string, objs ...map[string]any) { s.engine.Put(collection, objs...) }

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
		if fakeprefect.IsWrite(r.Method, r.Route) {
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
	body, _ := io.ReadAll(io.LimitReader(r.Body, fakeprefect.MaxRequestBody))
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{ResponseWriter: w}
	entry := Request{
		Method:        r.Method,
		Query:         r.URL.RawQuery,
		Body:          body,
		Authorization: AuthTag(r.Header.Get("Authorization")),
	}
	entry.Path, entry.Route = s.engine.Route(r.Method, r.URL.EscapedPath())
	defer func() {
		entry.Status = rec.status
		s.logMu.Lock()
		s.requests = append(s.requests, entry)
		if entry.Route != "" {
			s.counts[entry.Route]++
		}
		s.logMu.Unlock()
	}()
	s.engine.ServeHTTP(rec, r)
}

// intercept runs the faults and the fault hook for the engine.
func (s *Server) intercept(w http.ResponseWriter, r *http.Request, route string) bool {
	return s.injectFault(w, r, route) || (s.hook != nil && s.hook(w, r))
}
