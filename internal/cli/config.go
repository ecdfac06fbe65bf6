package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/server"
)

// runConfig prints which Prefect the server would connect to and why:
// each setting with its source, secrets redacted, then the tools offered.
func runConfig(ctx context.Context, args []string, sys System) int {
	args, noProbe := cutFlag(args, "no-probe")
	var o Options
	fs, specs, envErr := newFlagSet(&o, sys.Lookup, sys.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(sys.Stdout, specs)
			return 0
		}
		return 2
	}
	if envErr != nil {
		fmt.Fprintf(sys.Stderr, "prefect-mcp: %v\n", envErr)
		return 2
	}
	a, err := build(o, sys, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		fmt.Fprintf(sys.Stderr, "prefect-mcp: %v\n", err)
		return 1
	}
	defer a.close()
	w := tabwriter.NewWriter(sys.Stdout, 2, 4, 2, ' ', 0)
	broken := a.settingsErr()
	if broken != nil {
		fmt.Fprintf(w, "PROBLEM\t%s\n", broken)
		fmt.Fprintln(w, "\tthe server still starts and answers every tool call with this until it is fixed")
	}
	switch {
	case o.Demo:
		fmt.Fprintln(w, "Prefect API\tbuilt-in demo workspace (--demo)")
	case a.settings != nil:
		url := a.settings.APIURL
		if url == "" {
			url = "(not configured: set PREFECT_API_URL, run `prefect profile use NAME`, or use --demo)"
		}
		fmt.Fprintf(w, "Prefect API\t%s\n", url)
		fmt.Fprintf(w, "Auth\t%s\n", a.settings.AuthKind())
		if a.server != nil {
			fmt.Fprintf(w, "Kind\t%s\n", a.server.Kind)
		}
		if a.settings.Profile != "" {
			fmt.Fprintf(w, "Profile\t%s (%s)\n", a.settings.Profile, a.settings.ProfilesPath)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "SETTING\tVALUE\tSOURCE")
		for _, l := range a.settings.Describe() {
			fmt.Fprintf(w, "%s\t%s\t%s\n", l.Name, l.Value, l.Source)
		}
		for _, warn := range a.settings.Warnings {
			fmt.Fprintf(w, "warning\t%s\n", warn)
		}
	}
	if a.server != nil && !o.Demo && !noProbe {
		printProbe(w, probeAPI(ctx, a.server))
	}
	_ = w.Flush()
	if a.server != nil {
		a.sel.Kind, a.sel.KindKnown = a.server.Kind, true
	}
	names, size, err := listTools(ctx, a)
	if err != nil {
		fmt.Fprintf(sys.Stderr, "prefect-mcp: listing tools: %v\n", err)
		return 1
	}
	fmt.Fprintf(sys.Stdout, "\nTools (%d, tools/list is %d bytes): %s\n", len(names), size, strings.Join(names, ", "))
	if broken != nil {
		return 1
	}
	return 0
}

// listTools asks a real in-memory MCP session for tools/list, so the size
// reported is what a client receives.
func listTools(ctx context.Context, a *app) ([]string, int, error) {
	s := server.New(server.Config{Version: version(), Deps: a.deps, Selection: a.sel})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		return nil, 0, err
	}
	defer ss.Close()
	c := mcp.NewClient(&mcp.Implementation{Name: "prefect-mcp-config", Version: version()}, nil)
	cs, err := c.Connect(ctx, ct, nil)
	if err != nil {
		return nil, 0, err
	}
	defer cs.Close()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, 0, err
	}
	names := make([]string, len(res.Tools))
	for i, t := range res.Tools {
		names[i] = t.Name
	}
	return names, len(b), nil
}

func printHelp(w io.Writer, specs []flagSpec) {
	fmt.Fprintf(w, `prefect-mcp %s: a read-only MCP server for Prefect.

Usage:
`, version())
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  prefect-mcp [flags]\tserve MCP (stdio by default)")
	fmt.Fprintln(tw, "  prefect-mcp --demo\tserve a built-in demo workspace (no Prefect needed)")
	for _, c := range commands() {
		fmt.Fprintf(tw, "  prefect-mcp %s\t%s\n", c.usage, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprint(w, "\nFlags (each also settable by its environment variable):\n")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range specs {
		fmt.Fprintf(tw, "  --%s\t%s\t%s\n", s.Name, s.Env, s.Usage)
	}
	_ = tw.Flush()
	fmt.Fprint(w, `
Prefect settings (resolved like Prefect: environment > .env > prefect.toml > pyproject.toml > active profile):
  PREFECT_API_URL                       the Prefect API, e.g. http://127.0.0.1:4200/api or a Cloud workspace URL
  PREFECT_API_KEY                       Prefect Cloud API key (sent as Bearer)
  PREFECT_API_AUTH_STRING               self-hosted basic auth, user:password
  PREFECT_API_TLS_INSECURE_SKIP_VERIFY  skip TLS verification (not recommended)
  PREFECT_API_SSL_CERT_FILE, SSL_CERT_FILE  CA bundle for a private CA
  PREFECT_API_REQUEST_TIMEOUT           seconds per request (default 60)
  PREFECT_CLOUD_API_URL                 Prefect Cloud API root (default https://api.prefect.cloud/api)
  PREFECT_UI_URL                        Prefect UI base for links
  PREFECT_PROFILE, PREFECT_HOME, PREFECT_PROFILES_PATH  profile selection

HTTP per-request credentials (shared servers): X-Prefect-Api-Url, X-Prefect-Api-Key, X-Prefect-Api-Auth-String.
`)
}
