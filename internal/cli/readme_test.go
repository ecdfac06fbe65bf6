package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// The README's flag and tool tables, and SECURITY.md's flag table, are
// generated from the flag set and the tool registry; this test fails when
// they drift. UPDATE_README=1 rewrites them.
func TestREADMETables(t *testing.T) {
	for _, doc := range []struct {
		file     string
		sections map[string]string
	}{
		{"README.md", map[string]string{"flags": flagsTable(), "tools": toolsTable()}},
		{"SECURITY.md", map[string]string{"flags": flagsTable()}},
	} {
		path := filepath.Join("..", "..", doc.file)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := string(raw)
		for name, body := range doc.sections {
			want = replaceSection(t, want, name, body)
		}
		if want == string(raw) {
			continue
		}
		if os.Getenv("UPDATE_README") != "" {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s tables are out of date with the flags or the tool registry; run UPDATE_README=1 go test ./internal/cli/ -run TestREADMETables", doc.file)
	}
}

// TestDocsNameEveryAuthMode keeps README and SECURITY.md honest about how the
// server authenticates.
func TestDocsNameEveryAuthMode(t *testing.T) {
	modes := []string{"PREFECT_API_KEY", "PREFECT_API_AUTH_STRING", "X-Prefect-Api-Url", "X-Prefect-Api-Key", "X-Prefect-Api-Auth-String",
		"--auth-tokens-file", "--locked", "--cloud-oauth", "prefect-mcp token", "profile"}
	for _, file := range []string{"README.md", "SECURITY.md"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range modes {
			if !strings.Contains(string(raw), m) {
				t.Errorf("%s does not mention %s", file, m)
			}
		}
	}
}

func flagsTable() string {
	var o Options
	_, specs, _ := newFlagSet(&o, func(string) (string, bool) { return "", false }, io.Discard)
	var b strings.Builder
	b.WriteString("| flag | environment variable | meaning |\n|---|---|---|\n")
	for _, s := range specs {
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s |\n", s.Name, s.Env, s.Usage)
	}
	return b.String()
}

func toolsTable() string {
	var b strings.Builder
	b.WriteString("| tool | group | offered for | what it returns |\n|---|---|---|---|\n")
	for _, d := range tools.All() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Name, d.Group, scopeText(d.Scope), d.Summary)
	}
	return b.String()
}

func scopeText(s tools.Scope) string {
	switch s {
	case tools.CloudOnly:
		return "Prefect Cloud (API key)"
	case tools.SelfHostedOnly:
		return "self-hosted"
	case tools.OAuthOnly:
		return "Cloud OAuth mode"
	}
	return "all"
}

func replaceSection(t *testing.T, doc, name, body string) string {
	t.Helper()
	start, end := "<!-- "+name+":start -->\n", "<!-- "+name+":end -->"
	i, j := strings.Index(doc, start), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %s markers", name)
	}
	return doc[:i+len(start)] + body + doc[j:]
}
