package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/httpserver"
	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

const defaultCloudAPIURL = "https://api.prefect.cloud/api"

// serveHTTP runs the Streamable HTTP transport: one shared MCP server whose
// tools resolve each call's Prefect from that request's headers (or the
// server's own settings), so replicas hold no per-tenant state.
func serveHTTP(ctx context.Context, o Options, sys System, logger *slog.Logger, settled func()) error {
	metrics := httpserver.NewMetrics()
	a, err := build(o, sys, logger, metrics)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.startTracing(sys, logger); err != nil {
		return err
	}
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))

	hopts := httpserver.Options{
		Addr:                addr,
		Path:                o.Path,
		Stateless:           !o.Stateful,
		AllowedOrigins:      o.AllowedOrigins,
		AllowedHosts:        o.AllowedHosts,
		MaxConnections:      o.MaxConnections,
		MaxStreamsPerClient: o.MaxStreamsPerClient,
		ShutdownTimeout:     o.ShutdownTimeout,
		Logger:              logger,
		Metrics:             metrics,
	}
	inbound, err := inboundAuth(ctx, o, sys, a, &hopts, logger)
	if err != nil {
		return err
	}
	a.watchReload(ctx) // after inboundAuth, which may add a reload hook
	// Settings broken at start may hold credentials once fixed.
	holdsCredentials := (a.server != nil && a.server.Kind != target.Demo) || a.settingsErr() != nil
	if err := httpserver.RefuseUnauthenticated(addr, holdsCredentials, inbound, o.AllowUnauthenticated); err != nil {
		return err
	}
	if o.CloudOAuth && o.Locked {
		return errors.New("--locked pins one configured workspace; it cannot be combined with --cloud-oauth")
	}
	if o.Locked {
		if err := a.settingsErr(); err != nil {
			return fmt.Errorf("--locked pins the server's own Prefect API: %w", err)
		}
		if err := checkLocked(a.server); err != nil {
			return err
		}
		inner := hopts.Wrap
		hopts.Wrap = func(next http.Handler) http.Handler {
			if inner != nil {
				next = inner(next)
			}
			return refusePrefectHeaders(next)
		}
	}
	if !o.CloudOAuth {
		a.deps.Resolver = ownSettingsFirst{next: headersResolver(o, a), a: a}
		if !o.Locked {
			inner := hopts.Wrap
			hopts.Wrap = func(next http.Handler) http.Handler {
				if inner != nil {
					next = inner(next)
				}
				return checkPrefectHeaders(next)
			}
		}
	}
	a.deps.Slots = tools.NewSlots(o.MaxConcurrentCalls)
	// Tenants may bring any kind of Prefect unless the target is pinned.
	if o.Locked && a.server != nil {
		a.sel.Kind, a.sel.KindKnown = a.server.Kind, true
	}
	a.sel.OAuth = o.CloudOAuth
	if a.server != nil {
		hopts.Ready = func(ctx context.Context) error {
			srv := a.own()
			if srv == nil {
				return nil
			}
			if err := srv.Client.Get(ctx, "/health", nil, nil); err != nil {
				return httpserver.NotReady("the configured Prefect API does not answer /health", err)
			}
			return nil
		}
	}

	var mcpServer *mcp.Server
	hs, err := httpserver.New(func(*http.Request) *mcp.Server { return mcpServer }, hopts)
	if err != nil {
		return err
	}
	mcpServer = server.New(server.Config{
		Version: version(), Deps: a.deps, Selection: a.sel, Logger: logger,
		Middleware: []mcp.Middleware{hs.Metrics().MCPMiddleware(), httpserver.CancelWithRequest},
	})
	logger.Info("serving MCP over Streamable HTTP", "addr", addr, "path", o.Path, "stateless", !o.Stateful, "version", version())
	settled()
	err = hs.ListenAndServe(ctx)
	if errors.Is(err, context.Canceled) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// headersResolver resolves each HTTP call from its X-Prefect-* headers. The
// SSRF allowlist is the operator's list, else Prefect Cloud and the server's
// own API as configured now: a settings reload moves it.
func headersResolver(o Options, a *app) *target.Headers {
	h := &target.Headers{Builder: a.builder, Server: a.own, Locked: o.Locked}
	if len(o.AllowedAPIURLs) > 0 {
		h.Allowed = func() []string { return o.AllowedAPIURLs }
		return h
	}
	cloud := defaultCloudAPIURL
	if a.settings != nil && a.settings.CloudAPIURL != "" {
		cloud = a.settings.CloudAPIURL
	}
	h.Allowed = func() []string {
		out := []string{cloud}
		if own := a.own(); own != nil && own.Kind != target.Demo {
			out = append(out, own.APIURL)
		}
		return out
	}
	return h
}

// ownSettingsFirst answers a call that would use the server's own Prefect
// (it names no X-Prefect-Api-Url) with the problem in the server's settings,
// not with "nothing configured".
type ownSettingsFirst struct {
	next target.Resolver
	a    *app
}

func (r ownSettingsFirst) Resolve(ctx context.Context, req target.Request) (*target.Target, error) {
	if req.Header.Get(target.HeaderAPIURL) == "" {
		if err := r.a.settingsErr(); err != nil && r.a.own() == nil {
			return nil, target.SettingsError(err)
		}
	}
	return r.next.Resolve(ctx, req)
}

// checkLocked enforces locked mode's pinned target: HTTPS (loopback may use
// HTTP) and no credentials inside the URL.
func checkLocked(t *target.Target) error {
	if t == nil {
		return errors.New("--locked pins the server's own Prefect API, but none is configured: set PREFECT_API_URL")
	}
	if t.Kind == target.Demo {
		return nil
	}
	if !target.IsLoopbackURL(t.APIURL) && !httpsURL(t.APIURL) {
		return fmt.Errorf("--locked requires an https:// Prefect API URL (plain http is allowed only for loopback)")
	}
	return nil
}

func httpsURL(u string) bool { return len(u) > 8 && u[:8] == "https://" }

// checkPrefectHeaders answers 400, before MCP, to a request whose X-Prefect-*
// headers are ambiguous: one sent twice (a gateway's pinning header must not
// be overridden by the client's), or one this server does not know.
func checkPrefectHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := target.ReadHeaders(r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refusePrefectHeaders answers 403 to any request that tries to choose the
// Prefect target in locked mode, before it reaches MCP.
func refusePrefectHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name := range r.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-prefect-") {
				http.Error(w, "this server is locked to one Prefect API: X-Prefect-* headers are refused", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
