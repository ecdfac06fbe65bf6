package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the release version, stamped at build time with
// -ldflags "-X github.com/prefect-mcp/prefect-mcp/internal/cli.Version=v1.2.3".
// Unset, the version comes from the build info (see versionFrom).
var Version = ""

// command is a sub-command: the help text lists exactly these.
type command struct {
	names   []string // the first is the one shown
	usage   string
	summary string
	run     func(ctx context.Context, args []string, sys System) int
}

func commands() []command {
	return []command{
		{[]string{"config"}, "config [flags] [--no-probe]", "show the resolved Prefect settings and their sources, probe the API (health, version, credentials; --no-probe skips it) and list the tools offered", runConfig},
		{[]string{"token"}, "token", "exchange PREFECT_MCP_CLOUD_CLIENT_ID/SECRET for a Cloud OAuth access token", runToken},
		{[]string{"healthcheck"}, "healthcheck", "probe the local HTTP server's /healthz on PREFECT_MCP_PORT (exit 0 when healthy; for container health checks)",
			func(ctx context.Context, _ []string, sys System) int { return runHealthcheck(ctx, sys) }},
		{[]string{"version", "--version", "-version"}, "version | --version", "print the version, VCS revision and Go version", runVersion},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		for _, n := range c.names {
			if n == name {
				return c, true
			}
		}
	}
	return command{}, false
}

func runVersion(_ context.Context, args []string, sys System) int {
	if len(args) > 0 {
		fmt.Fprintln(sys.Stderr, "prefect-mcp version: takes no arguments")
		return 2
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintf(sys.Stdout, "prefect-mcp %s\n", versionDetail(Version, bi))
	return 0
}

// version is the one-word version for User-Agent, MCP implementation info
// and logs.
func version() string {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(Version, bi)
}

// versionFrom picks, in order: the stamped release version; the module
// version `go install …@v1.2.3` (or a pseudo-version from a git checkout)
// records; "devel-" and the VCS revision; else "devel".
func versionFrom(stamped string, bi *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	if rev := buildSetting(bi, "vcs.revision"); rev != "" {
		v := "devel-" + rev[:min(len(rev), 12)]
		if buildSetting(bi, "vcs.modified") == "true" {
			v += "-dirty"
		}
		return v
	}
	return "devel"
}

// versionDetail adds what `prefect-mcp version` reports beyond the version.
func versionDetail(stamped string, bi *debug.BuildInfo) string {
	parts := []string{runtime.Version()}
	if bi != nil {
		if rev := buildSetting(bi, "vcs.revision"); rev != "" {
			parts = append(parts, "revision "+rev)
		}
		if t := buildSetting(bi, "vcs.time"); t != "" {
			parts = append(parts, "committed "+t)
		}
		if buildSetting(bi, "vcs.modified") == "true" {
			parts = append(parts, "with uncommitted changes")
		}
	}
	return versionFrom(stamped, bi) + " (" + strings.Join(parts, ", ") + ")"
}

func buildSetting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}
