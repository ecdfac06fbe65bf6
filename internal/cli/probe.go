package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// probeTimeout bounds the whole probe of `prefect-mcp config`: a stalled
// API must not hang a diagnostic command.
const probeTimeout = 5 * time.Second

// probeFinding is one line of the probe's report.
type probeFinding struct{ what, found string }

// probeAPI asks the configured Prefect what a user needs to know first:
// does the URL answer as the Prefect API (GET /health), which release
// (GET /admin/version), and are the credentials accepted for a read that
// needs them (POST /flows/filter, one row). One attempt each, no retries;
// failures are explained with the tools' own words.
func probeAPI(ctx context.Context, t *target.Target) []probeFinding {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	c := t.Client.WithoutRetries()
	var health json.RawMessage
	if err := c.Get(ctx, "/health", nil, &health); err != nil {
		return []probeFinding{{"reachable", "no: " + explainProbe(ctx, err, t)}}
	}
	out := []probeFinding{{"reachable", fmt.Sprintf("yes: GET /health answered %s", clip(string(health), 80))}}
	// /admin/version is the release; Prefect Cloud and older servers may
	// refuse it, /version (the REST API version) is the fallback.
	var version, apiVersion string
	if err := c.Get(ctx, "/admin/version", nil, &version); err == nil {
		out = append(out, probeFinding{"version", "Prefect " + clip(version, 40)})
	} else if err2 := c.Get(ctx, "/version", nil, &apiVersion); err2 == nil {
		out = append(out, probeFinding{"version", "API version " + clip(apiVersion, 40) + " (the release is not disclosed)"})
	} else {
		out = append(out, probeFinding{"version", "unknown: " + explainProbe(ctx, err, t)})
	}
	var flows []json.RawMessage
	if err := c.Post(ctx, "/flows/filter", map[string]any{"limit": 1}, &flows); err != nil {
		out = append(out, probeFinding{"auth", "a read failed: " + explainProbe(ctx, err, t)})
	} else {
		how := "with the " + string(t.Auth)
		if t.Auth == target.AuthNone {
			how = "without credentials"
		}
		out = append(out, probeFinding{"auth", "a read (POST /flows/filter) works " + how})
	}
	return out
}

func explainProbe(ctx context.Context, err error, t *target.Target) string {
	if ctx.Err() != nil {
		return fmt.Sprintf("the Prefect API at %s did not answer within %s", t.APIURL, probeTimeout)
	}
	return tools.Explain(err, t)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// cutFlag removes every --name / -name from args and reports whether one
// was there (for sub-command flags outside the shared flag set).
func cutFlag(args []string, name string) ([]string, bool) {
	found := false
	out := slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		if a == "--"+name || a == "-"+name {
			found = true
			return true
		}
		return false
	})
	return out, found
}

func printProbe(w io.Writer, findings []probeFinding) {
	fmt.Fprintln(w, "\nPROBE (GET /health, GET /admin/version, POST /flows/filter; --no-probe skips it)")
	for _, f := range findings {
		fmt.Fprintf(w, "%s\t%s\n", f.what, f.found)
	}
}
