package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/testclock"
)

// now is the tests' fixed clock (shifted in CI, see testclock): the tools
// and every seeded workspace read it, never the wall clock.
var now = testclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))

func clock() time.Time { return now }

// testSystem is an isolated process environment: its own HOME and working
// directory, only the variables given, and the fixed clock.
func testSystem(t *testing.T, env map[string]string) (System, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	home, wd := t.TempDir(), t.TempDir()
	return System{
		Lookup:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		WorkDir: wd, HomeDir: home,
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Now: clock,
	}, &stdout, &stderr
}

func TestVersionAndHelp(t *testing.T) {
	sys, out, _ := testSystem(t, nil)
	if code := Run(context.Background(), []string{"version"}, sys); code != 0 || !strings.HasPrefix(out.String(), "prefect-mcp ") {
		t.Fatalf("version: code %d, output %q", code, out)
	}
	sys, out, _ = testSystem(t, nil)
	if code := Run(context.Background(), []string{"--help"}, sys); code != 0 {
		t.Fatalf("--help exit code %d", code)
	}
	var o Options
	_, specs, _ := newFlagSet(&o, sys.Lookup, &bytes.Buffer{})
	for _, s := range specs {
		if !strings.Contains(out.String(), "--"+s.Name) || !strings.Contains(out.String(), s.Env) {
			t.Errorf("--help does not list --%s / %s", s.Name, s.Env)
		}
	}
	for _, v := range []string{"PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING", "PREFECT_PROFILE", "X-Prefect-Api-Key"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
}

func TestBadFlagsAndEnv(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--transport", "carrier-pigeon"}, nil, "use stdio or http"},
		{[]string{"--log-level", "chatty"}, nil, "--log-level"},
		{[]string{"--toolsets", "runs,nope"}, nil, `unknown tool group "nope"`},
		{nil, map[string]string{"PREFECT_MCP_DEMO": "maybe"}, "PREFECT_MCP_DEMO"},
		{[]string{"--cloud-oauth"}, nil, "needs the HTTP transport"},
		{[]string{"stray"}, nil, "unexpected argument"},
		{[]string{"--max-concurrent-calls", "0"}, nil, "--max-concurrent-calls"},
		{[]string{"--max-connections", "0"}, nil, "--max-connections 0: use 1 or more"},
		{nil, map[string]string{"PREFECT_MCP_MAX_CONNECTIONS": "-5"}, "--max-connections -5"},
		{nil, map[string]string{"PREFECT_MCP_MAX_CONNECTIONS": "many"}, "PREFECT_MCP_MAX_CONNECTIONS"},
		{[]string{"--max-streams-per-client", "0"}, nil, "--max-streams-per-client 0: use 1 or more"},
		{[]string{"--call-timeout", "0s"}, nil, "--call-timeout"},
		{[]string{"--upstream-budget-mb", "0"}, nil, "--upstream-budget-mb"},
		{nil, map[string]string{"PREFECT_MCP_CALL_TIMEOUT": "50"}, "not a duration"},
		{[]string{"--path", "mcp"}, nil, "must start with /"},
	}
	for _, tc := range cases {
		sys, _, errOut := testSystem(t, tc.env)
		if code := Run(context.Background(), tc.args, sys); code == 0 {
			t.Errorf("%v: exit code 0", tc.args)
		}
		if !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: stderr %q does not mention %q", tc.args, errOut, tc.want)
		}
	}
}

func TestConfigShowsSourcesAndRedacts(t *testing.T) {
	const key = "pnu_configcanary1234567890"
	sys, out, errOut := testSystem(t, map[string]string{"PREFECT_PROFILE": "prod"})
	dir := filepath.Join(sys.HomeDir, ".prefect")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	profiles := `active = "local"
[profiles.local]
PREFECT_API_URL = "http://127.0.0.1:4200/api"
[profiles.prod]
PREFECT_API_URL = "https://api.prefect.cloud/api/accounts/9c1b2a3d-0000-4000-8000-000000000001/workspaces/9c1b2a3d-0000-4000-8000-000000000002"
PREFECT_API_KEY = "` + key + `"
`
	if err := os.WriteFile(filepath.Join(dir, "profiles.toml"), []byte(profiles), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := Run(context.Background(), []string{"config", "--no-docs", "--no-probe"}, sys); code != 0 {
		t.Fatalf("config exit %d: %s", code, errOut)
	}
	text := out.String()
	for _, want := range []string{"api.prefect.cloud/api/accounts/", "api key", "cloud", "profile prod", "review_rate_limits", "tools/list is"} {
		if !strings.Contains(text, want) {
			t.Errorf("config output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, key) || strings.Contains(errOut.String(), key) {
		t.Fatalf("config printed the API key:\n%s", text)
	}
}

// TestMixedCredentialSources: a .env in the working directory that points
// the profile's API key at another host keeps Prefect's precedence, but both
// `config` and the start-up log say so.
func TestMixedCredentialSources(t *testing.T) {
	const key = "pnu_mixedcanary1234567890"
	setup := func() (System, *bytes.Buffer, *bytes.Buffer) {
		sys, out, errOut := testSystem(t, nil)
		dir := filepath.Join(sys.HomeDir, ".prefect")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		profiles := "active = \"prod\"\n[profiles.prod]\nPREFECT_API_URL = \"http://127.0.0.1:4200/api\"\nPREFECT_API_KEY = \"" + key + "\"\n"
		if err := os.WriteFile(filepath.Join(dir, "profiles.toml"), []byte(profiles), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys.WorkDir, ".env"), []byte("PREFECT_API_URL=http://127.0.0.2:4200/api\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return sys, out, errOut
	}
	const want = "PREFECT_API_URL comes from .env"
	sys, out, errOut := setup()
	if code := Run(context.Background(), []string{"config", "--no-docs", "--no-probe"}, sys); code != 0 {
		t.Fatalf("config exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "127.0.0.2") {
		t.Errorf("config does not report the mixed sources:\n%s", out)
	}
	sys, out, errOut = setup()
	if code := Run(context.Background(), []string{"--no-docs"}, sys); code != 0 { // stdio; stdin is empty
		t.Fatalf("stdio exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut.String(), want) {
		t.Errorf("the start-up log does not report the mixed sources:\n%s", errOut)
	}
	if strings.Contains(out.String()+errOut.String(), key) {
		t.Fatal("the API key was printed")
	}
}

func TestConfigErrorsNameTheFile(t *testing.T) {
	sys, out, _ := testSystem(t, nil)
	if err := os.WriteFile(filepath.Join(sys.WorkDir, "prefect.toml"), []byte("[api\nurl = 1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := Run(context.Background(), []string{"config"}, sys); code == 0 {
		t.Fatal("malformed prefect.toml accepted")
	}
	if !strings.Contains(out.String(), "prefect.toml line 1") {
		t.Errorf("the problem does not name the file: %s", out)
	}
}

// buildBinary compiles the command once per test binary run.
func buildBinary(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "prefect-mcp")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, flags...), "../../cmd/prefect-mcp")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinaryOverStdio runs the built command as an MCP client would: spawn,
// initialize, list and call tools against the demo workspace.
func TestBinaryOverStdio(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--demo", "--no-docs", "--log-level", "error")
	cmd.Env = []string{"HOME=" + t.TempDir()}
	c := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tool := range list.Tools {
		names[tool.Name] = true
	}
	for _, want := range []string{"get_identity", "get_flows", "get_flow_runs", "get_flow_run_logs"} {
		if !names[want] {
			t.Errorf("tools/list lacks %s", want)
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_identity"})
	if err != nil {
		t.Fatal(err)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if res.IsError || !strings.Contains(text, "DEMO") {
		t.Errorf("get_identity in demo mode = %s", text)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_flow_runs", Arguments: map[string]any{"limit": 3}})
	if err != nil || res.IsError {
		t.Fatalf("get_flow_runs: %v %v", err, res)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runHTTP runs the command in-process over HTTP on a free port with args
// added, waits for /healthz, and returns its base URL and a stop that ends
// it and checks its exit code (stop also runs at cleanup; once is enough).
func runHTTP(t *testing.T, sys System, errOut *bytes.Buffer, args ...string) (base string, stop func()) {
	t.Helper()
	port := strconv.Itoa(freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- Run(ctx, append([]string{"--transport", "http", "--port", port}, args...), sys) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("server exit code %d: %s", code, errOut)
			}
		})
	}
	t.Cleanup(stop)
	base = "http://127.0.0.1:" + port
	waitHTTP(t, base+"/healthz")
	return base, stop
}

// TestHTTPHeaderCredentials serves HTTP in-process and checks that the
// caller's X-Prefect-* headers choose the Prefect, within the allowlist.
func TestHTTPHeaderCredentials(t *testing.T) {
	const secret = "admin:header-canary"
	fake := prefecttest.New(prefecttest.WithAuthString(secret), prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	t.Cleanup(func() { noWritesTo(t, fake) })
	sys, _, errOut := testSystem(t, nil)
	base, stop := runHTTP(t, sys, errOut, "--no-docs", "--allowed-api-url", fake.URL)
	defer func() {
		stop()
		if strings.Contains(errOut.String(), "header-canary") {
			t.Error("a header credential reached the logs")
		}
	}()
	endpoint := base + "/mcp"

	call := func(headers map[string]string) (string, bool) {
		hc := &http.Client{Transport: headerTransport{headers}}
		c := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "1"}, nil)
		cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_flows"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Content[0].(*mcp.TextContent).Text, res.IsError
	}
	text, isErr := call(map[string]string{"X-Prefect-Api-Url": fake.URL, "X-Prefect-Api-Auth-String": secret})
	if isErr || !strings.Contains(text, "etl-pipeline") {
		t.Fatalf("with headers: %s", text)
	}
	text, isErr = call(map[string]string{"X-Prefect-Api-Url": "http://169.254.169.254/latest", "X-Prefect-Api-Key": "k"})
	if !isErr || !strings.Contains(text, "--allowed-api-url") {
		t.Fatalf("SSRF target accepted: %s", text)
	}
	text, isErr = call(nil)
	if !isErr || !strings.Contains(text, "PREFECT_API_URL") {
		t.Fatalf("no headers and no server settings: %s", text)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var metrics bytes.Buffer
	_, _ = metrics.ReadFrom(resp.Body)
	if strings.Contains(metrics.String(), "header-canary") || strings.Contains(metrics.String(), fake.URL) {
		t.Error("metrics carry a credential or a tenant URL")
	}
	if !strings.Contains(metrics.String(), `endpoint="POST /flows/filter"`) {
		t.Error("upstream requests are not counted by route template")
	}
}

type headerTransport struct{ h map[string]string }

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for range 200 {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}

// TestToolsetsChangeToolsList: --toolsets switches groups off and on; the
// identity tools always stay.
func TestToolsetsChangeToolsList(t *testing.T) {
	count := func(toolsets string) (int, string) {
		sys, out, errOut := testSystem(t, map[string]string{"PREFECT_API_URL": "http://127.0.0.1:4200/api"})
		if code := Run(context.Background(), []string{"config", "--no-probe", "--toolsets", toolsets}, sys); code != 0 {
			t.Fatalf("config --toolsets %s: %s", toolsets, errOut)
		}
		text := out.String()
		i := strings.Index(text, "\nTools (")
		var n int
		fmt.Sscanf(text[i:], "\nTools (%d", &n)
		return n, text[i:]
	}
	all, allText := count("all")
	diag, diagText := count("diagnosis")
	if diag >= all || !strings.Contains(diagText, "diagnose_flow_run") || strings.Contains(diagText, "get_flow_runs") || !strings.Contains(diagText, "get_identity") {
		t.Fatalf("all: %d tools; diagnosis only: %d\n%s", all, diag, diagText)
	}
	if strings.Contains(allText, "review_rate_limits") {
		t.Error("the Cloud-only review_rate_limits is offered for a self-hosted API")
	}
	if !strings.Contains(allText, "get_server_status") {
		t.Error("get_server_status missing for a self-hosted API")
	}
}

// TestBinaryAnswersBeforeEOF is `printf '<initialize+call>' | prefect-mcp
// --demo`, many times: the answer to a call still in flight when stdin ends
// must be written before the process exits (it was lost 2 times in 5).
func TestBinaryAnswersBeforeEOF(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	input := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"printf","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_dashboard","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_flows","arguments":{}}}`,
	}, "\n") // no final newline: the last line ends with the input
	for i := range 12 {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, bin, "--demo", "--no-docs", "--log-level", "error")
		cmd.Env = []string{"HOME=" + t.TempDir()}
		cmd.Stdin = strings.NewReader(input)
		out, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		for _, id := range []string{`"id":1,"result"`, `"id":2,"result"`, `"id":3,"result"`} {
			if !strings.Contains(string(out), id) {
				t.Fatalf("run %d: no answer with %s:\n%.2000s", i, id, out)
			}
		}
	}
}
