package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/httpserver"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// Options are the server's own settings (not Prefect's): flags, each with
// an environment variable that sets its default.
type Options struct {
	Demo                 bool
	Transport            string
	Host                 string
	Port                 int
	Path                 string
	Stateful             bool
	LogLevel             string
	LogFormat            string
	Toolsets             string
	AllowedAPIURLs       []string
	AllowedOrigins       []string
	AllowedHosts         []string
	AllowUnauthenticated bool
	AuthTokensFile       string
	Locked               bool
	CloudOAuth           bool
	DocsURL              string
	NoDocs               bool
	MaxResponseMB        int
	UpstreamBudgetMB     int
	MaxConcurrentCalls   int
	MaxConnections       int
	MaxStreamsPerClient  int
	CallTimeout          time.Duration
	MemoryLimitMB        int
	ShutdownTimeout      time.Duration
}

// flagSpec documents one flag and its environment variable for --help and
// the README (a test keeps them in sync).
type flagSpec struct {
	Name, Env, Usage string
}

type listValue struct{ p *[]string }

func (l listValue) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l listValue) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l.p = append(*l.p, v)
		}
	}
	return nil
}

// newFlagSet declares every flag; defaults come from the environment.
func newFlagSet(o *Options, lookup func(string) (string, bool), out io.Writer) (*flag.FlagSet, []flagSpec, error) {
	fs := flag.NewFlagSet("prefect-mcp", flag.ContinueOnError)
	fs.SetOutput(out)
	var specs []flagSpec
	var envErr error
	env := func(name string) (string, bool) {
		v, ok := lookup(name)
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	str := func(p *string, name, envName, def, usage string) {
		if v, ok := env(envName); ok {
			def = v
		}
		fs.StringVar(p, name, def, usage)
		specs = append(specs, flagSpec{name, envName, usage})
	}
	boolean := func(p *bool, name, envName, usage string) {
		def := false
		if v, ok := env(envName); ok {
			b, err := strconv.ParseBool(v)
			if err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q is not a boolean (use true or false)", envName, v)
			}
			def = b
		}
		fs.BoolVar(p, name, def, usage)
		specs = append(specs, flagSpec{name, envName, usage})
	}
	list := func(p *[]string, name, envName, usage string) {
		if v, ok := env(envName); ok {
			_ = listValue{p}.Set(v)
		}
		fs.Var(listValue{p}, name, usage)
		specs = append(specs, flagSpec{name, envName, usage})
	}
	integer := func(p *int, name, envName string, def int, usage string) {
		if v, ok := env(envName); ok {
			n, err := strconv.Atoi(v)
			if err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q is not an integer", envName, v)
			}
			def = n
		}
		fs.IntVar(p, name, def, usage)
		specs = append(specs, flagSpec{name, envName, usage})
	}

	duration := func(p *time.Duration, name, envName string, def time.Duration, usage string) {
		if v, ok := env(envName); ok {
			d, err := time.ParseDuration(v)
			if err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q is not a duration (e.g. 50s)", envName, v)
			}
			def = d
		}
		fs.DurationVar(p, name, def, usage)
		specs = append(specs, flagSpec{name, envName, usage})
	}

	boolean(&o.Demo, "demo", "PREFECT_MCP_DEMO", "serve a built-in demo workspace instead of a real Prefect (no setup needed)")
	str(&o.Transport, "transport", "PREFECT_MCP_TRANSPORT", "stdio", "stdio (one local client) or http (Streamable HTTP for many)")
	str(&o.Host, "host", "PREFECT_MCP_HOST", "127.0.0.1", "HTTP: address to bind")
	integer(&o.Port, "port", "PREFECT_MCP_PORT", 8080, "HTTP: port to bind")
	str(&o.Path, "path", "PREFECT_MCP_PATH", "/mcp", "HTTP: path of the MCP endpoint")
	boolean(&o.Stateful, "stateful", "PREFECT_MCP_STATEFUL", "HTTP: keep MCP sessions (default stateless: any replica answers any request)")
	str(&o.LogLevel, "log-level", "PREFECT_MCP_LOG_LEVEL", "info", "debug, info, warn or error (logs go to stderr)")
	str(&o.LogFormat, "log-format", "PREFECT_MCP_LOG_FORMAT", "text", "text or json")
	str(&o.Toolsets, "toolsets", "PREFECT_MCP_TOOLSETS", "all", "comma-separated tool groups to offer, or all")
	list(&o.AllowedAPIURLs, "allowed-api-url", "PREFECT_MCP_ALLOWED_API_URLS", "HTTP: Prefect API URL prefix a request's X-Prefect-Api-Url may name (repeatable; default: Prefect Cloud and the server's own URL)")
	list(&o.AllowedOrigins, "allowed-origin", "PREFECT_MCP_ALLOWED_ORIGINS", "HTTP: browser Origin allowed to call the server (repeatable)")
	list(&o.AllowedHosts, "allowed-host", "PREFECT_MCP_ALLOWED_HOSTS", "HTTP: extra Host header value accepted, e.g. the public host name (repeatable)")
	boolean(&o.AllowUnauthenticated, "allow-unauthenticated", "PREFECT_MCP_ALLOW_UNAUTHENTICATED", "HTTP: allow a non-loopback bind that serves the server's own Prefect credentials without inbound auth")
	str(&o.AuthTokensFile, "auth-tokens-file", "PREFECT_MCP_AUTH_TOKENS_FILE", "", "HTTP: file of static bearer tokens (one per line) that callers must present")
	boolean(&o.Locked, "locked", "PREFECT_MCP_LOCKED", "HTTP: pin the configured Prefect API; refuse X-Prefect-* headers")
	boolean(&o.CloudOAuth, "cloud-oauth", "PREFECT_MCP_CLOUD_ENABLED", "HTTP: Prefect Cloud OAuth resource-server mode (see PREFECT_MCP_CLOUD_* settings)")
	str(&o.DocsURL, "docs-url", "PREFECT_MCP_DOCS_URL", "https://prefect-docs.fastmcp.app/mcp", "remote Prefect docs MCP server proxied by the docs tools")
	boolean(&o.NoDocs, "no-docs", "PREFECT_MCP_DOCS_DISABLED", "turn the docs tools off")
	integer(&o.MaxResponseMB, "max-response-mb", "PREFECT_MCP_MAX_RESPONSE_MB", 32, "largest Prefect response accepted, in MiB")
	integer(&o.UpstreamBudgetMB, "upstream-budget-mb", "PREFECT_MCP_UPSTREAM_BUDGET_MB", int(prefect.DefaultBudgetBytes>>20), "memory for Prefect answers held at once by all calls together, in MiB; an answer that does not fit is a tool error")
	integer(&o.MaxConcurrentCalls, "max-concurrent-calls", "PREFECT_MCP_MAX_CONCURRENT_CALLS", 64, "HTTP: tool calls served at once, one tenant at most half of them; more wait (bounds memory under load)")
	integer(&o.MaxConnections, "max-connections", "PREFECT_MCP_MAX_CONNECTIONS", httpserver.DefaultMaxConnections, "HTTP: connections open at once; more wait for one to close (also limit connections per client at your ingress)")
	integer(&o.MaxStreamsPerClient, "max-streams-per-client", "PREFECT_MCP_MAX_STREAMS_PER_CLIENT", httpserver.DefaultMaxStreamsPerClient, "HTTP: event streams (a stateful session's GET) one client holds open at once; more get 429. A client is its bearer token or OAuth user, else its X-Prefect-* credentials")
	duration(&o.CallTimeout, "call-timeout", "PREFECT_MCP_CALL_TIMEOUT", tools.DefaultCallTimeout, "deadline of one tool call from start to answer, waiting for a slot and retries included (keep it below the client's timeout, 60s in the TypeScript SDK)")
	integer(&o.MemoryLimitMB, "memory-limit-mb", "PREFECT_MCP_MEMORY_LIMIT_MB", 80, "soft memory limit for the Go runtime in MiB (0: none; GOMEMLIMIT wins)")
	o.ShutdownTimeout = 15 * time.Second
	fs.Usage = func() {}
	return fs, specs, envErr
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: use debug, info, warn or error", s)
	}
	return l, nil
}

// validate checks values the flag package cannot.
func (o *Options) validate() error {
	switch {
	case o.Port < 0 || o.Port > 65535:
		return fmt.Errorf("--port %d: use 0-65535", o.Port)
	case o.MaxConcurrentCalls < 1:
		return fmt.Errorf("--max-concurrent-calls %d: use 1 or more", o.MaxConcurrentCalls)
	case o.MaxConnections < 1:
		return fmt.Errorf("--max-connections %d: use 1 or more", o.MaxConnections)
	case o.MaxStreamsPerClient < 1:
		return fmt.Errorf("--max-streams-per-client %d: use 1 or more", o.MaxStreamsPerClient)
	case o.CallTimeout <= 0:
		return fmt.Errorf("--call-timeout %s: use a positive duration, e.g. 50s", o.CallTimeout)
	case o.MemoryLimitMB < 0:
		return fmt.Errorf("--memory-limit-mb %d: use 0 (no limit) or more", o.MemoryLimitMB)
	case o.UpstreamBudgetMB < 1:
		return fmt.Errorf("--upstream-budget-mb %d: use 1 or more", o.UpstreamBudgetMB)
	case o.MaxResponseMB < 1:
		return fmt.Errorf("--max-response-mb %d: use 1 or more", o.MaxResponseMB)
	case !strings.HasPrefix(o.Path, "/"):
		return fmt.Errorf("--path %q: must start with /", o.Path)
	}
	return nil
}
