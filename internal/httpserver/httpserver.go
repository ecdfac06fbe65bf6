// Package httpserver serves an MCP server over Streamable HTTP with the
// hardening a network-facing deployment needs: DNS-rebinding and cross-origin
// protection, request size and time limits, health and readiness probes,
// Prometheus metrics, a structured access log and graceful shutdown.
package httpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultPath              = "/mcp"
	DefaultMaxBodyBytes      = 1 << 20 // 1 MiB
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyReadTimeout   = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 25 * time.Second
	DefaultSessionTimeout    = 30 * time.Minute
	// DefaultMaxConnections: an idle keep-alive connection costs about 16 KiB
	// of Go heap and stack (1,000 measured), so 1024 take about 16 MiB, well
	// inside the default 80 MiB memory limit. Descriptors: Go raises the soft
	// RLIMIT_NOFILE (often 1024) to the hard limit at start (systemd's
	// default 524288; deploy/systemd sets 4096), so the cap binds first;
	// where the hard limit is 1024 too, Accept fails with EMFILE a few
	// connections earlier and net/http retries it.
	DefaultMaxConnections = 1024
	// DefaultMaxStreamsPerClient: one event stream per session, for several
	// assistants or tabs of one user.
	DefaultMaxStreamsPerClient = 8
)

// Options configures a Server. Zero values take the defaults above.
type Options struct {
	// Addr is the host:port ListenAndServe binds. It also names the bind host
	// that the Host header check accepts on non-loopback connections.
	Addr string
	// Path is where the MCP endpoint is mounted (default "/mcp").
	Path string
	// Stateless serves every request with a throw-away session, so any replica
	// can answer any request. Stateful mode keeps sessions in memory.
	Stateless bool
	// SessionTimeout closes idle stateful sessions (default 30m; ignored when
	// Stateless).
	SessionTimeout time.Duration
	// AllowedOrigins lists browser origins ("https://app.example.com") that may
	// call the MCP endpoint; "*" allows any. Same-host origins are always allowed.
	AllowedOrigins []string
	// AllowedHosts lists Host header values ("mcp.example.com" or with a port)
	// accepted besides loopback names (on loopback connections) and the bind
	// address, on any connection: a reverse proxy on the same host that
	// forwards the public Host needs its name here. "*" disables the check
	// (for deployments behind a proxy that validates Host).
	AllowedHosts []string
	// MaxBodyBytes limits a request body (default 1 MiB); larger bodies get 413.
	MaxBodyBytes int64
	// MaxHeaderBytes limits the request line and headers (default 64 KiB).
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds reading request headers (default 10s).
	ReadHeaderTimeout time.Duration
	// BodyReadTimeout bounds reading any request body (default 30s), which
	// stops slow-body clients without cutting long response streams.
	BodyReadTimeout time.Duration
	// WriteTimeout bounds each write of an answer, and the final flush after
	// the handler returns (default 30s): a client that stops reading cannot
	// hold its connection. Per write, not per request, so an answer may come
	// late and an event stream may stay open.
	WriteTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections (default 120s).
	IdleTimeout time.Duration
	// MaxConnections caps the connections open at once (default 1024); at
	// the cap, new connections wait for one to close (see limitListener).
	// Enforced by Serve and ListenAndServe, not by Handler.
	MaxConnections int
	// MaxStreamsPerClient caps the long-lived event streams one client holds
	// at once (default 8): a stateful session's GET stream, a 2026-07-28
	// subscriptions/listen. More are answered 429. A client is the
	// authenticated principal (Wrap's sdk TokenInfo.UserID), else the
	// credential headers the request sends.
	MaxStreamsPerClient int
	// ShutdownTimeout bounds the wait for in-flight requests once the serving
	// context is cancelled; remaining connections are then closed (default 25s).
	ShutdownTimeout time.Duration
	// Logger receives the access log and server errors; nil discards them.
	Logger *slog.Logger
	// Ready backs /readyz; nil means always ready. See NotReady for choosing
	// the reason shown to callers. Its result is reused for ReadyCacheTTL.
	Ready func(ctx context.Context) error
	// Now is the clock of the readiness cache and of the rate-limited
	// warnings; nil means time.Now.
	Now func() time.Time
	// Wrap, if set, wraps the MCP endpoint only (for inbound authentication).
	// It runs after the Host/Origin checks and before the body is read.
	Wrap func(http.Handler) http.Handler
	// Extra routes, keyed by http.ServeMux pattern, served as-is without Wrap.
	Extra map[string]http.Handler
	// Metrics, when set, is used instead of a new registry, so callers can
	// hand the same Observer to the Prefect client before the server exists.
	Metrics *Metrics
}

// Server is a hardened Streamable HTTP front end for an MCP server.
// A Server serves once: after its context is cancelled it stays draining.
type Server struct {
	opts    Options
	logger  *slog.Logger
	metrics *Metrics
	handler http.Handler

	readyTimeout time.Duration
	ready        readyCache

	streams   *streamCounter
	limitWarn rateLimited // "connection limit reached"

	drainOnce sync.Once
	draining  chan struct{} // closed when graceful shutdown begins

	// onShutdownStart, if set, runs after the listener is closed and before
	// in-flight requests are awaited; tests use it to observe ordering.
	onShutdownStart func()
}

// New builds a Server. getServer is called for each MCP request (the SDK may
// call it more than once per request), so it should return a shared server or
// be cheap.
func New(getServer func(*http.Request) *mcp.Server, opts Options) (*Server, error) {
	if getServer == nil {
		return nil, errors.New("httpserver: getServer is nil")
	}
	if err := applyDefaults(&opts); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:     opts,
		logger:   logger,
		metrics:  cmp.Or(opts.Metrics, NewMetrics()),
		draining: make(chan struct{}),
		streams:  newStreamCounter(opts.MaxStreamsPerClient),

		readyTimeout: readyTimeout,
	}

	origins, err := newOriginPolicy(opts.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	hosts, err := newHostPolicy(opts.Addr, opts.AllowedHosts)
	if err != nil {
		return nil, err
	}

	streamable := mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{
		Stateless:           opts.Stateless,
		SessionTimeout:      opts.SessionTimeout,
		MaxRequestBodyBytes: opts.MaxBodyBytes,
		Logger:              logger,
		// A 2026-07-28 call whose client went away stops its upstream work.
		PropagateRequestCancellation: true,
		// hostPolicy checks loopback connections too, honouring AllowedHosts.
		DisableLocalhostProtection: true,
	})
	var endpoint http.Handler = s.limitStreams(s.endStreamsOnDrain(streamable))
	if opts.Stateless {
		endpoint = carryRequestContext(endpoint) // see CancelWithRequest
	}
	endpoint = readBody(opts.MaxBodyBytes, opts.BodyReadTimeout, endpoint)
	if opts.Wrap != nil {
		endpoint = opts.Wrap(endpoint)
		if endpoint == nil {
			return nil, errors.New("httpserver: Wrap returned a nil handler")
		}
	}
	endpoint = rejectDeclaredOversize(opts.MaxBodyBytes, endpoint)
	endpoint = origins.protect(endpoint)
	endpoint = hosts.protect(endpoint)

	type route struct {
		pattern string
		handler http.Handler
	}
	mux := http.NewServeMux()
	routes := []route{
		{opts.Path, endpoint},
		{"GET /healthz", http.HandlerFunc(serveHealthz)},
		// /readyz calls Prefect, so a rebinding page must not reach it either.
		{"GET /readyz", hosts.protect(http.HandlerFunc(s.serveReadyz))},
		{"GET /metrics", s.metrics.Handler()},
	}
	for pattern, h := range opts.Extra {
		if h == nil {
			return nil, fmt.Errorf("httpserver: extra route %q has a nil handler", pattern)
		}
		routes = append(routes, route{pattern, h})
	}
	for _, r := range routes {
		if err := register(mux, r.pattern, r.handler); err != nil {
			return nil, err
		}
	}
	s.handler = boundWrites(opts.WriteTimeout, boundBody(opts.BodyReadTimeout, s.observe(mux)))
	return s, nil
}

func applyDefaults(opts *Options) error {
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if !strings.HasPrefix(opts.Path, "/") || strings.ContainsAny(opts.Path, " {}") {
		return fmt.Errorf("httpserver: path %q must start with / and contain no spaces or wildcards", opts.Path)
	}
	if opts.MaxBodyBytes < 0 || opts.MaxHeaderBytes < 0 || opts.ReadHeaderTimeout < 0 ||
		opts.BodyReadTimeout < 0 || opts.WriteTimeout < 0 || opts.IdleTimeout < 0 || opts.ShutdownTimeout < 0 || opts.SessionTimeout < 0 ||
		opts.MaxConnections < 0 || opts.MaxStreamsPerClient < 0 {
		return errors.New("httpserver: limits and timeouts must not be negative")
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxHeaderBytes == 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.ReadHeaderTimeout == 0 {
		opts.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if opts.BodyReadTimeout == 0 {
		opts.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.MaxConnections == 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.MaxStreamsPerClient == 0 {
		opts.MaxStreamsPerClient = DefaultMaxStreamsPerClient
	}
	if opts.Stateless {
		opts.SessionTimeout = 0
	} else if opts.SessionTimeout == 0 {
		opts.SessionTimeout = DefaultSessionTimeout
	}
	return nil
}

// register adds a route, turning ServeMux's panic on a bad or conflicting
// pattern into an error.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("httpserver: route %q: %v", pattern, r)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// Handler returns the complete HTTP handler: MCP endpoint, ops endpoints,
// extra routes, access log and HTTP metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Metrics returns the server's metrics; pass it down as an Observer.
func (s *Server) Metrics() *Metrics { return s.metrics }

// ListenAndServe listens on Options.Addr and serves until ctx is cancelled.
func (s *Server) ListenAndServe(ctx context.Context) error {
	addr := s.opts.Addr
	if addr == "" {
		return errors.New("httpserver: Options.Addr is empty")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("httpserver: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully: the
// listener closes at once, in-flight requests get ShutdownTimeout to finish,
// and remaining connections are then closed. It returns nil after a clean
// shutdown. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ln = s.limitConnections(ln)
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		// Handlers outlive ctx on purpose: in-flight calls finish during shutdown.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(s.startDraining)
	if s.onShutdownStart != nil {
		srv.RegisterOnShutdown(s.onShutdownStart)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	s.logger.Info("serving MCP over HTTP", "addr", ln.Addr().String(), "path", s.opts.Path, "stateless", s.opts.Stateless)

	select {
	case err := <-serveErr:
		s.startDraining()
		return fmt.Errorf("httpserver: serve: %w", err)
	case <-ctx.Done():
	}

	s.logger.Info("shutting down", "timeout", s.opts.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	if shutdownErr != nil {
		closeErr := srv.Close()
		<-serveErr
		return errors.Join(
			fmt.Errorf("httpserver: in-flight requests did not finish within %s; connections closed: %w", s.opts.ShutdownTimeout, shutdownErr),
			closeErr)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("httpserver: serve: %w", err)
	}
	s.logger.Info("shut down cleanly")
	return nil
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

func (s *Server) startDraining() {
	s.drainOnce.Do(func() { close(s.draining) })
}

func (s *Server) isDraining() bool {
	select {
	case <-s.draining:
		return true
	default:
		return false
	}
}

// endStreamsOnDrain ends long-lived event streams when shutdown begins, so
// they do not hold shutdown until its timeout: a stateful session's GET
// stream and a 2026-07-28 subscriptions/listen POST. Calls are left to finish.
func (s *Server) endStreamsOnDrain(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isEventStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-s.draining:
				cancel()
			case <-ctx.Done():
			}
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func isEventStream(r *http.Request) bool {
	if r.Method == http.MethodGet {
		return true
	}
	info := requestInfoFrom(r.Context())
	return r.Method == http.MethodPost && info != nil && info.mcpMethod == "subscriptions/listen"
}
