package cli

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// brokenSetups are settings a new user can break; each must be diagnosed
// with the file, the problem and the fix, by every tool call and by config.
type brokenSetup struct {
	name, file, content string
	want                []string
	fixed               string // the file once fixed
}

func brokenSetups(apiURL string) []brokenSetup {
	profiles := "active = \"local\"\n[profiles.local]\nPREFECT_API_URL = \"" + apiURL + "\"\n"
	return []brokenSetup{
		{"active profile missing", ".prefect/profiles.toml",
			"active = \"gone\"\n[profiles.local]\nPREFECT_API_URL = \"" + apiURL + "\"\n[profiles.cloud]\nPREFECT_API_URL = \"https://api.prefect.cloud/api/accounts/a/workspaces/w\"\n",
			[]string{"profiles.toml", `profile "gone"`, "profiles in the file: cloud, local", "prefect profile use local", "PREFECT_PROFILE=local"}, profiles},
		{"malformed profiles.toml", ".prefect/profiles.toml", "active = \"local\"\n[profiles.local\nPREFECT_API_URL = \"" + apiURL + "\"\n",
			[]string{"profiles.toml line 2", "invalid TOML", "correct line 2 of"}, profiles},
		{"malformed prefect.toml", "wd/prefect.toml", "[api]\nurl = \n",
			[]string{"prefect.toml line 2", "invalid TOML", "correct line 2 of"}, "[api]\nurl = \"" + apiURL + "\"\n"},
		{"malformed pyproject.toml", "wd/pyproject.toml", "[tool.prefect.api]\nurl = 'x\n",
			[]string{"pyproject.toml line 2", "invalid TOML", "correct line 2 of"}, "[tool.prefect.api]\nurl = \"" + apiURL + "\"\n"},
		{".env not text", "wd/.env", "PREFECT_API_URL=\xff\xfe\n", []string{".env", "not valid UTF-8"}, "PREFECT_API_URL=" + apiURL + "\n"},
	}
}

func writeFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// callUntil calls get_flows until ok reports the answer it waits for (a
// settings change is noticed within the reload check interval).
func callUntil(t *testing.T, cs *mcp.ClientSession, ok func(text string, isError bool) bool) string {
	t.Helper()
	var text string
	for range 100 {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_flows", Arguments: map[string]any{}})
		if err != nil {
			t.Fatalf("get_flows: protocol error %v", err)
		}
		text = res.Content[0].(*mcp.TextContent).Text
		if ok(text, res.IsError) {
			return text
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("get_flows never gave the expected answer; last: %s", text)
	return ""
}

// TestBrokenSettingsOverStdio runs the binary as an MCP client does: with
// each broken setup it starts, lists its tools and answers every call with
// the problem and the fix (it used to exit: the client saw only
// "Connection closed"); fixing the file makes the next calls work without a
// restart.
func TestBrokenSettingsOverStdio(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	bin := buildBinary(t)
	for _, tc := range brokenSetups(fake.URL) {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			old := time.Now().Add(-time.Hour)
			path := filepath.Join(root, tc.file)
			if strings.HasPrefix(tc.file, ".prefect/") {
				path = filepath.Join(root, "home", tc.file)
			}
			writeFile(t, path, tc.content, old)
			if err := os.MkdirAll(filepath.Join(root, "wd"), 0o700); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--no-docs", "--log-level", "error")
			cmd.Env = []string{"HOME=" + filepath.Join(root, "home")}
			cmd.Dir = filepath.Join(root, "wd")
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "broken", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
			if err != nil {
				t.Fatalf("the server did not start: %v", err)
			}
			defer cs.Close()
			list, err := cs.ListTools(ctx, nil)
			if err != nil || len(list.Tools) < 10 {
				t.Fatalf("tools/list: %v", err)
			}
			text := callUntil(t, cs, func(_ string, isError bool) bool { return isError })
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("the answer lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "no Prefect API is configured") {
				t.Errorf("a broken setup is reported as no setup:\n%s", text)
			}
			checkEveryToolNamesTheProblem(ctx, t, cs, list.Tools, tc.want[0])
			writeFile(t, path, tc.fixed, old.Add(time.Minute))
			callUntil(t, cs, func(text string, isError bool) bool { return !isError && strings.Contains(text, `"flows"`) })
		})
	}
}

// TestBrokenSettingsOverHTTP: the HTTP server starts too and answers a call
// that would use its own settings with the problem, then works once fixed.
func TestBrokenSettingsOverHTTP(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	tc := brokenSetups(fake.URL)[0]
	sys, _, errOut := testSystem(t, nil)
	path := filepath.Join(sys.HomeDir, tc.file)
	old := time.Now().Add(-time.Hour)
	writeFile(t, path, tc.content, old)
	base, stop := runHTTP(t, sys, errOut, "--no-docs")
	defer stop()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "broken-http", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: &http.Client{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	text := callUntil(t, cs, func(_ string, isError bool) bool { return isError })
	for _, w := range tc.want {
		if !strings.Contains(text, w) {
			t.Errorf("the answer lacks %q:\n%s", w, text)
		}
	}
	writeFile(t, path, tc.fixed, old.Add(time.Minute))
	callUntil(t, cs, func(text string, isError bool) bool { return !isError && strings.Contains(text, `"flows"`) })
}

// TestConfigReportsBrokenSettings: `prefect-mcp config` prints the same
// problem and fix as the tools, and exits 1.
func TestConfigReportsBrokenSettings(t *testing.T) {
	for _, tc := range brokenSetups("http://127.0.0.1:1/api") {
		t.Run(tc.name, func(t *testing.T) {
			sys, out, errOut := testSystem(t, nil)
			path := filepath.Join(sys.WorkDir, strings.TrimPrefix(tc.file, "wd/"))
			if strings.HasPrefix(tc.file, ".prefect/") {
				path = filepath.Join(sys.HomeDir, tc.file)
			}
			writeFile(t, path, tc.content, time.Now())
			if code := Run(context.Background(), []string{"config", "--no-docs"}, sys); code != 1 {
				t.Fatalf("config exit %d; stderr %s", code, errOut)
			}
			for _, w := range append(tc.want, "PROBLEM", "Tools (") {
				if !strings.Contains(out.String(), w) {
					t.Errorf("config output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestUnreadableCAFileIsDiagnosed: a CA bundle that cannot be read does not
// stop the server either; config names the setting and the fix.
func TestUnreadableCAFileIsDiagnosed(t *testing.T) {
	sys, out, errOut := testSystem(t, map[string]string{
		"PREFECT_API_URL":           "https://127.0.0.1:1/api",
		"PREFECT_API_SSL_CERT_FILE": filepath.Join(t.TempDir(), "missing.pem"),
	})
	if code := Run(context.Background(), []string{"config", "--no-docs"}, sys); code != 1 {
		t.Fatalf("config exit %d: %s", code, errOut)
	}
	for _, w := range []string{"PROBLEM", "PREFECT_API_SSL_CERT_FILE", "missing.pem", "readable PEM CA bundle"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("config output lacks %q:\n%s", w, out)
		}
	}
}

// answersWithoutPrefect are the tools that read nothing from Prefect, so a
// broken Prefect setup does not stop them.
var answersWithoutPrefect = map[string]bool{tools.ToolGetObjectSchema: true}

// checkEveryToolNamesTheProblem calls every listed tool with its required
// arguments: each one that reads Prefect answers with the problem (want),
// not with a failure of its own.
func checkEveryToolNamesTheProblem(ctx context.Context, t *testing.T, cs *mcp.ClientSession, list []*mcp.Tool, want string) {
	t.Helper()
	for _, tool := range list {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool.Name, Arguments: requiredArgs(tool.InputSchema)})
		if err != nil {
			t.Fatalf("%s: protocol error %v", tool.Name, err)
		}
		text := res.Content[0].(*mcp.TextContent).Text
		switch {
		case answersWithoutPrefect[tool.Name]:
			if res.IsError {
				t.Errorf("%s needs no Prefect but failed: %s", tool.Name, text)
			}
		case !res.IsError || !strings.Contains(text, want):
			t.Errorf("%s: isError=%v, the answer lacks %q:\n%.300s", tool.Name, res.IsError, want, text)
		}
	}
}

// requiredArgs fills a tool's required arguments with plausible values
// from its input schema, as listed to the client.
func requiredArgs(schema any) map[string]any {
	s, _ := schema.(map[string]any)
	props, _ := s["properties"].(map[string]any)
	required, _ := s["required"].([]any)
	args := map[string]any{}
	for _, r := range required {
		name, _ := r.(string)
		p, _ := props[name].(map[string]any)
		switch p["type"] {
		case "integer", "number":
			args[name] = 1
		case "array":
			args[name] = []any{}
		case "object":
			args[name] = map[string]any{}
		default:
			args[name] = "example"
		}
		if enum, ok := p["enum"].([]any); ok && len(enum) > 0 {
			args[name] = enum[0]
		}
	}
	return args
}
