// Package cli is the prefect-mcp command: flags, sub-commands and the
// wiring of settings, Prefect client, tools and transports.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy"
	"github.com/prefect-mcp/prefect-mcp/internal/httpserver"
	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/settings"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/telemetry"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// System is the process environment, injected so tests run the command
// in-process.
type System struct {
	Lookup  func(string) (string, bool)
	WorkDir string
	HomeDir string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Now is the clock of the tools and of --demo's workspace: tests pin
	// it, only OSSystem reads the wall clock.
	Now func() time.Time
}

// OSSystem is the real process environment.
func OSSystem() System {
	wd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	return System{Lookup: os.LookupEnv, WorkDir: wd, HomeDir: home, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now}
}

// Run executes the command and returns the process exit code.
func Run(ctx context.Context, args []string, sys System) int {
	if len(args) > 0 {
		if c, ok := findCommand(args[0]); ok {
			return c.run(ctx, args[1:], sys)
		}
		if args[0] == "help" {
			args = []string{"--help"}
		}
	}
	var o Options
	fs, specs, envErr := newFlagSet(&o, sys.Lookup, sys.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(sys.Stdout, specs)
			return 0
		}
		fmt.Fprintf(sys.Stderr, "prefect-mcp: %v\nRun prefect-mcp --help for usage.\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(sys.Stderr, "prefect-mcp: unexpected argument %q\nRun prefect-mcp --help for usage.\n", fs.Arg(0))
		return 2
	}
	if envErr == nil {
		envErr = o.validate()
	}
	if envErr != nil {
		fmt.Fprintf(sys.Stderr, "prefect-mcp: %v\n", envErr)
		return 2
	}
	logger, err := newLogger(o, sys.Stderr)
	if err != nil {
		fmt.Fprintf(sys.Stderr, "prefect-mcp: %v\n", err)
		return 2
	}
	// Tuning waits until the start-up burst (first initialize and
	// tools/list) is answered: the full GC it forces is not free.
	settled := func() { time.AfterFunc(startupSettle, func() { tuneMemory(o, sys) }) }
	if err := serve(ctx, o, sys, logger, settled); err != nil {
		logger.Error("prefect-mcp stopped", "error", err.Error())
		fmt.Fprintf(sys.Stderr, "prefect-mcp: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(o Options, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(o.LogLevel)
	if err != nil {
		return nil, err
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch o.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", o.LogFormat)
}

// app is everything a transport needs, built once at start-up.
type app struct {
	settings  *settings.Settings // nil in demo mode
	deps      *tools.Deps
	sel       tools.Selection
	server    *target.Target        // the server's own target at start-up, nil if none
	own       func() *target.Target // the server's own target now (settings reload)
	reloading *target.Reloading     // nil in demo mode
	builder   target.Builder
	client    httpClientSettings // what builder's HTTP client was made with
	closers   []func()
	onReload  []func() // run on SIGHUP besides the settings reload
}

// httpClientSettings are the settings an HTTP client is made with.
type httpClientSettings struct {
	tls     prefect.TLSOptions
	timeout time.Duration
}

func clientSettingsOf(s *settings.Settings) httpClientSettings {
	return httpClientSettings{tls: prefect.TLSOptions{InsecureSkipVerify: s.TLSInsecureSkipVerify, CAFile: s.SSLCertFile}, timeout: s.RequestTimeout}
}

// settingsErr reports why the server's own settings cannot be used, or nil.
func (a *app) settingsErr() error {
	if a.reloading == nil {
		return nil
	}
	return a.reloading.Err()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// build resolves settings and constructs the dependencies shared by every
// transport.
func build(o Options, sys System, logger *slog.Logger, obs httpserver.Observer) (*app, error) {
	if sys.Now == nil {
		return nil, errors.New("cli: System.Now is nil (OSSystem sets time.Now)")
	}
	spec, err := openapi.Load()
	if err != nil {
		return nil, fmt.Errorf("loading the embedded Prefect OpenAPI document: %w", err)
	}
	groups, err := tools.ParseGroups(o.Toolsets)
	if err != nil {
		return nil, err
	}
	a := &app{sel: tools.Selection{Groups: groups, Docs: !o.NoDocs && o.DocsURL != ""}}
	env := settings.Env{Lookup: sys.Lookup, WorkDir: sys.WorkDir, HomeDir: sys.HomeDir}
	a.client = httpClientSettings{timeout: 60 * time.Second}
	if !o.Demo {
		// Broken settings do not stop the server: it starts, lists its
		// tools and answers every call with the problem and its fix (a
		// client only sees "Connection closed" from a server that exits).
		s, err := settings.Resolve(env)
		if err != nil {
			logger.Error("the Prefect settings cannot be used; serving anyway, every tool call reports this", "error", err.Error())
		} else {
			for _, w := range s.Warnings {
				logger.Warn(w)
			}
			a.settings = s
			a.client = clientSettingsOf(s)
		}
	}
	wrap := func(rt http.RoundTripper) http.RoundTripper { return rt }
	if obs != nil {
		wrap = func(rt http.RoundTripper) http.RoundTripper { return observeTransport{next: rt, spec: spec, obs: obs} }
	}
	budget := prefect.NewBudget(int64(o.UpstreamBudgetMB) << 20) // one for the whole process
	newBuilder := func(c httpClientSettings) (target.Builder, error) {
		hc, err := prefect.NewHTTPClient(c.tls, c.timeout)
		if err != nil {
			return target.Builder{}, err
		}
		hc.Transport = wrap(hc.Transport)
		return target.Builder{HTTPClient: hc, UserAgent: "prefect-mcp/" + version(), MaxResponseBytes: int64(o.MaxResponseMB) << 20, Budget: budget,
			Observe: &prefect.Observer{Route: routeTemplate(spec), Logger: logger}}, nil
	}
	if a.builder, err = newBuilder(a.client); err != nil {
		if o.Demo || a.settings == nil {
			return nil, err
		}
		logger.Error("the Prefect TLS settings cannot be used; serving anyway, every tool call reports this", "error", err.Error())
		a.client = httpClientSettings{timeout: a.client.timeout}
		if a.builder, err = newBuilder(a.client); err != nil {
			return nil, err
		}
	}
	if o.Demo {
		t, stop, err := startDemo(a.builder, spec, sys.Now, logger)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, stop)
		a.server, a.own = t, func() *target.Target { return t }
		a.deps = &tools.Deps{Resolver: target.Static{Target: t}, Spec: spec, Now: sys.Now, Logger: logger, CallTimeout: o.CallTimeout}
		logger.Info("serving the built-in demo workspace", "api_url", t.APIURL)
		return a, a.connectDocs(o)
	}
	// A reload applies a new URL or credentials; TLS options and the
	// timeout get a new HTTP client only when they changed.
	reloading := target.NewReloading(func() (*target.Target, []string, error) {
		s, err := settings.Resolve(env)
		if err != nil {
			var se *settings.Error
			if errors.As(err, &se) {
				return nil, se.Watch, err
			}
			return nil, nil, err
		}
		if s.APIURL == "" {
			return nil, s.Files(), nil
		}
		b := a.builder
		if c := clientSettingsOf(s); c != a.client {
			if b, err = newBuilder(c); err != nil {
				return nil, s.Files(), fmt.Errorf("the TLS settings (PREFECT_API_SSL_CERT_FILE or SSL_CERT_FILE) cannot be used: %w. Fix: point the setting at a readable PEM CA bundle, or unset it", err)
			}
		}
		t, err := b.Build(target.Credentials{APIURL: s.APIURL, APIKey: s.APIKey, AuthString: s.AuthString}, s.UIURL)
		return t, s.Files(), err
	}, logger, time.Second)
	a.reloading = reloading
	a.server, a.own = reloading.Current(), reloading.Current
	switch t, err := a.server, reloading.Err(); {
	case t != nil:
		logger.Info("connected to Prefect", "api_url", t.APIURL, "kind", t.Kind.String(), "auth", string(t.Auth))
	case err != nil:
	default:
		logger.Warn("no Prefect API URL configured; tools will explain how to set one (PREFECT_API_URL, `prefect profile use`, or --demo)")
	}
	a.deps = &tools.Deps{Resolver: reloading, Spec: spec, Now: sys.Now, Logger: logger, CallTimeout: o.CallTimeout}
	return a, a.connectDocs(o)
}

// startTracing turns OpenTelemetry tracing on when the OTEL_EXPORTER_OTLP_*
// variables ask for it; closing the app flushes the spans still queued, so
// a short stdio session exports too.
func (a *app) startTracing(sys System, logger *slog.Logger) error {
	tracing, err := telemetry.Start(context.Background(), sys.Lookup, version())
	if err != nil || tracing == nil {
		return err
	}
	a.deps.Tracer = tracing.Tracer()
	a.closers = append(a.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
		defer cancel()
		if err := tracing.Shutdown(ctx); err != nil {
			logger.Warn("could not flush traces", "error", err.Error())
		}
	})
	logger.Info("exporting traces over OTLP", "protocol", tracing.Protocol())
	return nil
}

// tracingFlushTimeout bounds the export of the last spans at exit.
const tracingFlushTimeout = 5 * time.Second

// connectDocs sets up the docs proxy. It makes no network call: the remote
// docs server is reached on the first docs tool call. Its HTTP client is its
// own, since the Prefect client refuses POSTs that are not Prefect reads.
func (a *app) connectDocs(o Options) error {
	if !a.sel.Docs {
		return nil
	}
	if err := checkDocsURL(o.DocsURL); err != nil {
		return err
	}
	dc := docsproxy.New(o.DocsURL, &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}, docsproxy.DefaultTimeout)
	a.deps.Docs = dc
	a.closers = append(a.closers, func() { _ = dc.Close() })
	return nil
}

func checkDocsURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return errors.New("--docs-url must be an absolute http(s) URL without credentials or query (or turn the docs tools off with --no-docs)")
	}
	return nil
}

// watchReload re-resolves settings (and runs the other reload hooks, such
// as the static token file) on SIGHUP until ctx ends.
func (a *app) watchReload(ctx context.Context) {
	hooks := slices.Clone(a.onReload)
	if a.reloading != nil {
		hooks = append([]func(){a.reloading.Reload}, hooks...)
	}
	if len(hooks) == 0 {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				for _, reload := range hooks {
					reload()
				}
			}
		}
	}()
}

// serve runs the chosen transport. settled is called once start-up is done:
// the process hands start-up garbage (schema compilation, settings, the
// OpenAPI index) back to the OS before it idles.
func serve(ctx context.Context, o Options, sys System, logger *slog.Logger, settled func()) error {
	switch o.Transport {
	case "stdio", "":
	case "http":
		return serveHTTP(ctx, o, sys, logger, settled)
	default:
		return fmt.Errorf("--transport %q: use stdio or http", o.Transport)
	}
	if o.CloudOAuth {
		return errors.New("--cloud-oauth (PREFECT_MCP_CLOUD_ENABLED, Prefect Cloud OAuth mode) needs the HTTP transport: add --transport http")
	}
	a, err := build(o, sys, logger, nil)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.startTracing(sys, logger); err != nil {
		return err
	}
	a.watchReload(ctx)
	if a.server != nil {
		a.sel.Kind, a.sel.KindKnown = a.server.Kind, true
	}
	s := server.New(server.Config{Version: version(), Deps: a.deps, Selection: a.sel, Logger: logger})
	logger.Info("serving MCP over stdio", "version", version())
	settled()
	err = server.RunStdio(ctx, s)
	if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "EOF")) {
		return nil
	}
	return err
}

// startupSettle is how long after start memory tuning waits.
const startupSettle = 300 * time.Millisecond

// tuneMemory runs once start-up is done. It returns start-up garbage to the
// OS, then trades GC frequency for a bounded heap: a tool call allocates a
// few times its decoded answer, so the default GOGC=100 collects every few
// calls, while a soft limit keeps hundreds of concurrent callers from
// multiplying peak memory. GOGC and GOMEMLIMIT, when set, win.
func tuneMemory(o Options, sys System) {
	debug.FreeOSMemory()
	if _, set := sys.Lookup("GOMEMLIMIT"); !set && o.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(o.MemoryLimitMB) << 20)
		if _, set := sys.Lookup("GOGC"); !set {
			debug.SetGCPercent(400)
		}
	}
}
