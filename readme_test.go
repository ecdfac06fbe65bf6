package prefectmcp_test

import (
	"bufio"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

type fence struct {
	lang, body string
	line       int
}

// fences returns the fenced code blocks of a Markdown document, indented ones included.
func fences(md string) []fence {
	var out []fence
	var cur *fence
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "```") {
			if cur != nil {
				b.WriteString(sc.Text() + "\n")
			}
			continue
		}
		if cur == nil {
			cur = &fence{lang: strings.TrimPrefix(line, "```"), line: n}
			continue
		}
		cur.body = b.String()
		out = append(out, *cur)
		cur = nil
		b.Reset()
	}
	return out
}

// clients are the MCP clients the README configures, stdio and HTTP.
var clients = []string{"Claude Code", "Claude Desktop", "Cursor", "VS Code", "Windsurf", "Gemini CLI", "Codex", "Kiro"}

// TestREADMESnippetsParse: every JSON and TOML block of the README parses, and
// every MCP server it configures has exactly one way to reach the server
// (command, or the client's own URL key) with only Prefect settings in env and
// headers, so a user can paste any of them.
func TestREADMESnippetsParse(t *testing.T) {
	md := string(readFile(t, "README.md"))
	parsed := 0
	servers := 0
	for _, f := range fences(md) {
		var doc map[string]any
		switch f.lang {
		case "json":
			if err := json.Unmarshal([]byte(f.body), &doc); err != nil {
				t.Errorf("README.md:%d: JSON block does not parse: %v\n%s", f.line, err, f.body)
				continue
			}
		case "toml":
			if _, err := toml.Decode(f.body, &doc); err != nil {
				t.Errorf("README.md:%d: TOML block does not parse: %v\n%s", f.line, err, f.body)
				continue
			}
		default:
			continue
		}
		parsed++
		for _, key := range []string{"mcpServers", "servers", "mcp_servers"} {
			m, _ := doc[key].(map[string]any)
			for name, v := range m {
				servers++
				checkServerEntry(t, f.line, name, v)
			}
		}
	}
	if parsed < 2*len(clients) || servers < 2*len(clients) {
		t.Errorf("%d JSON/TOML blocks configuring %d servers; want at least %d (stdio and HTTP for each client)", parsed, servers, 2*len(clients))
	}

	stdio := section(t, md, "## Connecting a client")
	http := section(t, md, "## Running it for a team (HTTP)")
	for _, c := range clients {
		if !strings.Contains(stdio, "**"+c) || !strings.Contains(http, "**"+c) {
			t.Errorf("%s lacks a stdio or an HTTP configuration", c)
		}
	}
}

var urlKeys = []string{"url", "httpUrl", "serverUrl"}

func checkServerEntry(t *testing.T, line int, name string, v any) {
	t.Helper()
	e, ok := v.(map[string]any)
	if !ok {
		t.Errorf("README.md:%d: server %q is not an object", line, name)
		return
	}
	ways := 0
	for _, k := range append([]string{"command"}, urlKeys...) {
		if _, ok := e[k]; ok {
			ways++
		}
	}
	if ways != 1 {
		t.Errorf("README.md:%d: server %q has %d of command/url/httpUrl/serverUrl, want 1", line, name, ways)
	}
	prefectOnly := regexp.MustCompile(`^PREFECT_[A-Z_]+$`)
	for _, k := range []string{"env"} {
		m, _ := e[k].(map[string]any)
		for name := range m {
			if !prefectOnly.MatchString(name) {
				t.Errorf("README.md:%d: env %q is not a Prefect setting", line, name)
			}
		}
	}
	for _, k := range []string{"headers", "http_headers", "env_http_headers"} {
		m, _ := e[k].(map[string]any)
		for h := range m {
			if !strings.HasPrefix(h, "X-Prefect-") {
				t.Errorf("README.md:%d: header %q is not one the server reads", line, h)
			}
		}
	}
	if vars, ok := e["env_vars"].([]any); ok {
		for _, v := range vars {
			if s, _ := v.(string); !prefectOnly.MatchString(s) {
				t.Errorf("README.md:%d: env_vars entry %v is not a Prefect setting", line, v)
			}
		}
	}
}

// section returns the README from a heading to the next heading of the same level.
func section(t *testing.T, md, heading string) string {
	t.Helper()
	i := strings.Index(md, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	rest := md[i+len(heading)+2:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
