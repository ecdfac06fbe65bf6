package cli

import (
	"context"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "c2a13c46c91bcf1fd846c1429617bd07a06f08ea"
	cases := []struct {
		name, stamped string
		bi            *debug.BuildInfo
		want          string
	}{
		{"stamped wins", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}}, "v1.2.3"},
		{"go install @version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}}, "v0.9.0"},
		{"git checkout pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206043420-c2a13c46c91b"}, Settings: vcs(rev, "false")}, "v0.0.0-20261206043420-c2a13c46c91b"},
		{"revision only", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "devel-c2a13c46c91b"},
		{"revision, modified", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "devel-c2a13c46c91b-dirty"},
		{"nothing recorded", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"no build info", "", nil, "devel"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionFrom(tc.stamped, tc.bi); got != tc.want {
				t.Errorf("versionFrom = %q, want %q", got, tc.want)
			}
		})
	}
	d := versionDetail("", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")})
	for _, want := range []string{"devel-c2a13c46c91b-dirty", "revision " + rev, "uncommitted", "go1."} {
		if !strings.Contains(d, want) {
			t.Errorf("versionDetail = %q, lacks %q", d, want)
		}
	}
}

// TestVersionCommands: `version`, `--version` and `-version` answer alike,
// and the help lists every sub-command Run dispatches (healthcheck was
// missing).
func TestVersionCommands(t *testing.T) {
	var first string
	for _, arg := range []string{"version", "--version", "-version"} {
		sys, out, errOut := testSystem(t, nil)
		if code := Run(context.Background(), []string{arg}, sys); code != 0 {
			t.Fatalf("%s: exit %d, %s", arg, code, errOut)
		}
		if !strings.HasPrefix(out.String(), "prefect-mcp ") || strings.Contains(out.String(), "prefect-mcp dev ") {
			t.Errorf("%s printed %q", arg, out)
		}
		if first == "" {
			first = out.String()
		} else if out.String() != first {
			t.Errorf("%s printed %q, version printed %q", arg, out, first)
		}
	}
	sys, out, _ := testSystem(t, nil)
	if code := Run(context.Background(), []string{"--help"}, sys); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, c := range commands() {
		for _, n := range c.names {
			if !strings.Contains(out.String(), n) {
				t.Errorf("--help does not mention %q", n)
			}
		}
	}
	for _, n := range []string{"prefect-mcp healthcheck", "prefect-mcp version | --version"} {
		if !strings.Contains(out.String(), n) {
			t.Errorf("--help does not list `%s`:\n%s", n, out)
		}
	}
}

// TestBinaryVersion runs the built binary: the stamped version reaches
// `version`, `--version` and the MCP implementation info.
func TestBinaryVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t, "-ldflags", "-X github.com/prefect-mcp/prefect-mcp/internal/cli.Version=v9.8.7-test")
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "prefect-mcp v9.8.7-test (go1.") {
			t.Errorf("%s: %v, %q", arg, err, out)
		}
	}
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "prefect-mcp healthcheck") || !strings.Contains(string(out), "v9.8.7-test") {
		t.Errorf("--help: %v\n%s", err, out)
	}
}
