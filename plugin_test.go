package prefectmcp_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/yosida95/uritemplate/v3"
	"go.yaml.in/yaml/v3"

	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// Claude Code's plugin manifests (code.claude.com/docs/en/plugins-reference and
// …/plugins/marketplace-reference): plugin.json needs a kebab-case name; the
// marketplace needs name, owner.name and plugins, each plugin a name and source.
type pluginManifest struct {
	Name        string                     `json:"name"`
	Version     string                     `json:"version"`
	Description string                     `json:"description"`
	License     string                     `json:"license"`
	MCPServers  map[string]json.RawMessage `json:"mcpServers"`
}

type marketplaceManifest struct {
	Name  string `json:"name"`
	Owner struct {
		Name string `json:"name"`
	} `json:"owner"`
	Plugins []struct {
		Name    string `json:"name"`
		Source  string `json:"source"`
		Version string `json:"version"`
	} `json:"plugins"`
}

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func readPluginManifest(t *testing.T) pluginManifest {
	t.Helper()
	var m pluginManifest
	if err := json.Unmarshal(readFile(t, ".claude-plugin/plugin.json"), &m); err != nil {
		t.Fatalf("plugin.json: %v", err)
	}
	return m
}

// TestClaudePluginManifests: the manifests have what Claude Code requires,
// agree with each other and with server.json, and start the server over stdio.
func TestClaudePluginManifests(t *testing.T) {
	p := readPluginManifest(t)
	if !kebab.MatchString(p.Name) {
		t.Errorf("plugin name %q is not kebab-case", p.Name)
	}
	sj := readServerJSON(t)
	if p.Version != sj.Version {
		t.Errorf("plugin version %q, server.json %q", p.Version, sj.Version)
	}
	if p.Description == "" || p.License != projectLicense {
		t.Errorf("plugin description %q, license %q (want %s)", p.Description, p.License, projectLicense)
	}
	var server struct {
		Type    string   `json:"type"`
		Command string   `json:"command"`
		Args    []string `json:"args"`
	}
	if err := json.Unmarshal(p.MCPServers["prefect"], &server); err != nil {
		t.Fatalf("mcpServers.prefect: %v", err)
	}
	// stdio: the binary from the release archive, the container or go install, on PATH.
	if server.Command != "prefect-mcp" || (server.Type != "" && server.Type != "stdio") || slices.Contains(server.Args, "--transport") {
		t.Errorf("mcpServers.prefect = %+v, want the prefect-mcp command over stdio", server)
	}

	var m marketplaceManifest
	if err := json.Unmarshal(readFile(t, ".claude-plugin/marketplace.json"), &m); err != nil {
		t.Fatalf("marketplace.json: %v", err)
	}
	if !kebab.MatchString(m.Name) || m.Owner.Name == "" || len(m.Plugins) != 1 {
		t.Fatalf("marketplace.json: name %q, owner %q, %d plugins", m.Name, m.Owner.Name, len(m.Plugins))
	}
	e := m.Plugins[0]
	if e.Name != p.Name || e.Version != p.Version {
		t.Errorf("marketplace entry %s@%s, plugin.json %s@%s", e.Name, e.Version, p.Name, p.Version)
	}
	// A relative source must start with "./"; it resolves against the marketplace root.
	if !strings.HasPrefix(e.Source, "./") {
		t.Errorf("plugin source %q must be a ./ path", e.Source)
	}
	if _, err := os.Stat(filepath.Join(e.Source, ".claude-plugin", "plugin.json")); err != nil {
		t.Errorf("plugin source %q has no .claude-plugin/plugin.json: %v", e.Source, err)
	}
}

// TestSkillNamesRealToolsAndCommands: every skill has the frontmatter Claude
// Code reads; every tool (or tool argument) and prompt it names exists, and
// every `prefect …` command it gives is a Prefect 3.8 CLI command.
func TestSkillNamesRealToolsAndCommands(t *testing.T) {
	skills, err := filepath.Glob("skills/*/SKILL.md")
	if err != nil || len(skills) == 0 {
		t.Fatalf("no skills/*/SKILL.md (%v)", err)
	}
	toolNames := map[string]bool{}
	for _, d := range tools.All() {
		toolNames[d.Name] = true
	}
	arguments := toolArguments(t)
	commands := prefectCommands(t)
	extras := tools.NewExtras(&tools.Deps{}, tools.Offer(tools.All()))
	prompts := map[string]bool{}
	for _, n := range extras.PromptNames() {
		prompts[n] = true
	}
	var templates []*uritemplate.Template
	for _, u := range extras.TemplateURIs() {
		templates = append(templates, uritemplate.MustNew(u))
	}

	for _, path := range skills {
		src := string(readFile(t, path))
		front, body, ok := strings.Cut(strings.TrimPrefix(src, "---\n"), "\n---\n")
		if !strings.HasPrefix(src, "---\n") || !ok {
			t.Fatalf("%s: no YAML frontmatter", path)
		}
		var fm struct {
			Name        string `yaml:"name"`
			Description string `yaml:"description"`
		}
		if err := yaml.Unmarshal([]byte(front), &fm); err != nil {
			t.Fatalf("%s frontmatter: %v", path, err)
		}
		if fm.Name != filepath.Base(filepath.Dir(path)) || !kebab.MatchString(fm.Name) || len(fm.Name) > 64 {
			t.Errorf("%s: name %q must be the directory's name, kebab-case, at most 64 characters", path, fm.Name)
		}
		if fm.Description == "" || len(fm.Description) > 1024 {
			t.Errorf("%s: description of %d characters, want 1 to 1024", path, len(fm.Description))
		}

		used, cmds := 0, 0
		for _, span := range codeSpans(body) {
			switch {
			case toolNames[span]:
				used++
			case arguments[span]:
			case snakeCase.MatchString(span):
				t.Errorf("%s names `%s`, which is neither a tool nor a tool argument", path, span)
			case hyphenated.MatchString(span):
				if !prompts[span] {
					t.Errorf("%s names `%s`, which is not a prompt of the server", path, span)
				}
			case strings.HasPrefix(span, "prefect://"):
				if !slices.ContainsFunc(templates, func(t *uritemplate.Template) bool { return t.Match(span) != nil }) {
					t.Errorf("%s names `%s`, which no resource template of the server matches", path, span)
				}
			case strings.HasPrefix(span, "prefect "):
				cmds++
				if c := commandOf(span, commands); c == "" {
					t.Errorf("%s: `%s` is not a Prefect 3.8 CLI command (testdata/prefect-cli-3.8.txt)", path, span)
				}
			}
		}
		if used == 0 || cmds == 0 {
			t.Errorf("%s names %d tools and %d prefect commands; the checks above saw nothing", path, used, cmds)
		}
		for _, want := range []string{"confirm"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s does not tell the model to %s with the user before a change", path, want)
			}
		}
	}
}

var (
	snakeCase  = regexp.MustCompile(`^[a-z]+(_[a-z]+)+$`)
	hyphenated = regexp.MustCompile(`^[a-z]+(-[a-z]+)+$`)
)

// codeSpans returns the inline `code` spans and the lines of fenced blocks.
func codeSpans(md string) []string {
	var out []string
	inFence := false
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			out = append(out, strings.TrimPrefix(strings.TrimSpace(line), "$ "))
			continue
		}
		parts := strings.Split(line, "`")
		for i := 1; i < len(parts); i += 2 {
			out = append(out, parts[i])
		}
	}
	return out
}

// commandOf returns the longest leading words of a command line that form a
// Prefect CLI command, or "".
func commandOf(line string, commands map[string]bool) string {
	words := strings.Fields(line)
	for n := len(words); n >= 2; n-- {
		if c := strings.Join(words[:n], " "); commands[c] {
			return c
		}
	}
	return ""
}

func prefectCommands(t *testing.T) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, line := range strings.Split(string(readFile(t, "testdata/prefect-cli-3.8.txt")), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	if len(m) < 100 {
		t.Fatalf("only %d Prefect CLI commands listed", len(m))
	}
	return m
}

// toolArguments reads the input schema snapshots (kept equal to the code by
// internal/tools' own tests).
func toolArguments(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("internal/tools/testdata/schemas/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema snapshots (%v)", err)
	}
	args := map[string]bool{"next_offset": true} // the paging field every list result carries
	for _, f := range files {
		var s struct {
			InputSchema struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"inputSchema"`
		}
		if err := json.NewDecoder(bytes.NewReader(readFile(t, f))).Decode(&s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k := range s.InputSchema.Properties {
			args[k] = true
		}
	}
	return args
}

// TestCommandOf: the CLI check refuses commands Prefect 3.8 does not have.
func TestCommandOf(t *testing.T) {
	commands := prefectCommands(t)
	for line, want := range map[string]string{
		"prefect work-pool resume <pool>":                                  "prefect work-pool resume",
		"prefect work-queue set-concurrency-limit <queue> 5 --pool <pool>": "prefect work-queue set-concurrency-limit",
		"prefect api POST /deployments/<id>/resume_deployment":             "prefect api",
		"prefect deployment resume my-flow/my-deployment":                  "",
		"prefect work-pool unpause <pool>":                                 "",
		"prefect flow-run":                                                 "",
	} {
		if got := commandOf(line, commands); got != want {
			t.Errorf("commandOf(%q) = %q, want %q", line, got, want)
		}
	}
}
