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

// The README's flag and tool tables are generated from the flag set and the
// tool registry; this test fails when they drift. UPDATE_README=1 rewrites them.
func TestREADMETables(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	want := replaceSection(t, readme, "flags", flagsTable())
	want = replaceSection(t, want, "tools", toolsTable())
	if want == readme {
		return
	}
	if os.Getenv("UPDATE_README") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md tables are out of date with the flags or the tool registry; run UPDATE_README=1 go test ./internal/cli/ -run TestREADMETables")
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
