package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// Canary credentials: none may appear in any log line, metric, tool result
// or error text, in clear or encoded.
const (
	canaryKey      = "pnu_CANARYkey7f3a9c1e5b"
	canaryUser     = "canaryuser"
	canaryPassword = "CANARYpass4d8e2b6f0a"
	canaryGateway  = "CANARYgateway9b1d7e3c5a"
	canarySecret   = "CANARYclientsecret2c6a8e"
)

var canaryAuth = canaryUser + ":" + canaryPassword

// canaryForms lists every spelling of a canary worth searching for.
func canaryForms(extra ...string) []string {
	forms := []string{canaryKey, canaryPassword, canaryGateway, canarySecret}
	for _, s := range []string{canaryAuth} {
		forms = append(forms, s,
			base64.StdEncoding.EncodeToString([]byte(s)),
			base64.RawStdEncoding.EncodeToString([]byte(s)),
			base64.URLEncoding.EncodeToString([]byte(s)),
			url.QueryEscape(s))
	}
	return append(forms, extra...)
}

// echoCredentials makes the fake behave like a careless proxy: reads of
// deployments fail with a body that repeats the caller's Authorization.
func echoCredentials() prefecttest.Option {
	return prefecttest.WithFaultHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/deployments/filter") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"detail":"upstream rejected `+r.Header.Get("Authorization")+` for `+r.URL.String()+`"}`)
		return true
	})
}

// safeBuffer is written by the server's goroutines while tests read it.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveDebug runs the command over HTTP with debug logs; stop ends it and
// returns everything it printed.
func serveDebug(t *testing.T, env map[string]string, port int, extra ...string) (base string, stop func() string) {
	t.Helper()
	var out safeBuffer
	sys, _, _ := testSystem(t, env)
	sys.Stdout, sys.Stderr = &out, &out
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := append([]string{"--transport", "http", "--port", strconv.Itoa(port), "--no-docs", "--log-level", "debug"}, extra...)
	go func() { done <- Run(ctx, args, sys) }()
	base = "http://127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, base+"/healthz")
	var once sync.Once
	stop = func() string {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("server exit %d", code)
			}
		})
		return out.String()
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

// exerciseAll calls every offered tool with no arguments and with a flow
// run id, and returns every text the client saw: results, tool errors and
// protocol errors.
func exerciseAll(t *testing.T, endpoint string, headers map[string]string, extraArgs map[string]any) []string {
	t.Helper()
	hc := &http.Client{Transport: headerTransport{headers}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "canary", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1}, nil)
	if err != nil {
		return []string{"connect: " + err.Error()}
	}
	defer cs.Close()
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		return []string{"tools/list: " + err.Error()}
	}
	var texts []string
	run := prefecttest.DemoID("flow_run", "amber-otter")
	for _, tool := range list.Tools {
		for _, args := range []map[string]any{{}, {"flow_run_id": run, "filter": map[string]any{"bogus": 1}}} {
			for k, v := range extraArgs {
				args[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool.Name, Arguments: args})
			cancel()
			if err != nil {
				texts = append(texts, tool.Name+": "+err.Error())
				continue
			}
			for _, c := range res.Content {
				if tc, ok := c.(*mcp.TextContent); ok {
					texts = append(texts, tc.Text)
				}
			}
		}
	}
	if len(texts) < 2*len(list.Tools) {
		t.Errorf("only %d texts from %d tools", len(texts), len(list.Tools))
	}
	return texts
}

func getText(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// assertNoCanary fails if any canary form appears in any of the texts.
func assertNoCanary(t *testing.T, where string, forms []string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, f := range forms {
			if strings.Contains(text, f) {
				i := strings.Index(text, f)
				t.Errorf("%s: canary %q leaked: …%s…", where, f, text[max(0, i-80):min(len(text), i+len(f)+20)])
			}
		}
	}
}

// TestNoSecretsAnywhere runs every tool and error path in every auth mode
// with canary credentials and searches logs (debug), metrics, results and
// errors for them.
func TestNoSecretsAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six servers")
	}
	demo := prefecttest.WithData(prefecttest.Demo(now))
	keyFake := prefecttest.New(demo, prefecttest.WithAPIKey(canaryKey), echoCredentials())
	t.Cleanup(keyFake.Close)
	basicFake := prefecttest.New(demo, prefecttest.WithAuthString(canaryAuth), echoCredentials())
	t.Cleanup(basicFake.Close)
	t.Cleanup(func() { noWritesTo(t, keyFake); noWritesTo(t, basicFake) })
	forms := canaryForms()

	check := func(t *testing.T, base string, stop func() string, texts []string) {
		t.Helper()
		metrics := getText(t, base+"/metrics")
		logs := stop()
		if !strings.Contains(logs, "level=DEBUG") && !strings.Contains(logs, "level=INFO") {
			t.Errorf("no logs captured: %q", logs)
		}
		ok := 0
		for _, text := range texts {
			if strings.HasPrefix(text, "{") {
				ok++
			}
		}
		if ok == 0 {
			t.Errorf("no tool succeeded: the mode was not exercised")
		}
		// The echoing fake must have been reached, and its echo redacted.
		if !strings.Contains(strings.Join(texts, "\n"), "[REDACTED]") {
			t.Errorf("no redacted echo among the texts: the hostile error path was not exercised")
		}
		assertNoCanary(t, "logs", forms, logs)
		assertNoCanary(t, "metrics", forms, metrics)
		assertNoCanary(t, "tool texts", forms, texts...)
		t.Logf("%d texts, %d bytes of logs, %d bytes of metrics checked", len(texts), len(logs), len(metrics))
	}

	t.Run("API key from the environment", func(t *testing.T) {
		base, stop := serveDebug(t, map[string]string{"PREFECT_API_URL": keyFake.URL, "PREFECT_API_KEY": canaryKey}, freePort(t))
		check(t, base, stop, exerciseAll(t, base+"/mcp", nil, nil))
	})
	t.Run("auth string from the environment", func(t *testing.T) {
		base, stop := serveDebug(t, map[string]string{"PREFECT_API_URL": basicFake.URL, "PREFECT_API_AUTH_STRING": canaryAuth}, freePort(t))
		check(t, base, stop, exerciseAll(t, base+"/mcp", nil, nil))
	})
	t.Run("credential headers", func(t *testing.T) {
		base, stop := serveDebug(t, nil, freePort(t), "--allowed-api-url", keyFake.URL, "--allowed-api-url", basicFake.URL)
		var texts []string
		texts = append(texts, exerciseAll(t, base+"/mcp", map[string]string{"X-Prefect-Api-Url": keyFake.URL, "X-Prefect-Api-Key": canaryKey}, nil)...)
		texts = append(texts, exerciseAll(t, base+"/mcp", map[string]string{"X-Prefect-Api-Url": basicFake.URL, "X-Prefect-Api-Auth-String": canaryAuth}, nil)...)
		// Error paths: a wrong credential (401 upstream), a URL outside the
		// allowlist carrying the credential, userinfo inside the URL.
		for _, h := range []map[string]string{
			{"X-Prefect-Api-Url": keyFake.URL, "X-Prefect-Api-Key": canaryKey + "x"},
			{"X-Prefect-Api-Url": basicFake.URL, "X-Prefect-Api-Auth-String": canaryUser + ":" + canaryPassword + "x"},
			{"X-Prefect-Api-Url": "http://169.254.169.254/" + canaryKey, "X-Prefect-Api-Key": canaryKey},
			{"X-Prefect-Api-Url": "http://" + canaryAuth + "@127.0.0.1:1/api", "X-Prefect-Api-Key": canaryKey},
		} {
			texts = append(texts, callOnce(t, base+"/mcp", h, "get_flows")...)
		}
		check(t, base, stop, texts)
	})
	t.Run("static bearer token", func(t *testing.T) {
		tokens := filepath.Join(t.TempDir(), "tokens")
		if err := os.WriteFile(tokens, []byte(canaryGateway+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		base, stop := serveDebug(t, map[string]string{"PREFECT_API_URL": keyFake.URL, "PREFECT_API_KEY": canaryKey}, freePort(t), "--auth-tokens-file", tokens)
		texts := exerciseAll(t, base+"/mcp", map[string]string{"Authorization": "Bearer " + canaryGateway}, nil)
		texts = append(texts, callOnce(t, base+"/mcp", map[string]string{"Authorization": "Bearer " + canaryGateway + "x"}, "get_flows")...)
		check(t, base, stop, texts)
	})
	t.Run("Cloud OAuth token", func(t *testing.T) {
		port := freePort(t)
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		issuer := authtest.New(base+"/mcp", clock)
		t.Cleanup(issuer.Close)
		token := issuer.Mint(issuer.Claims("grant-canary"))
		account, ws := "a3000000-0000-4000-8000-000000000003", "b3000000-0000-4000-8000-000000000004"
		cloudFake := prefecttest.NewHandler(demo, prefecttest.WithCloud(account, ws), prefecttest.WithAPIKey(token), echoCredentials())
		t.Cleanup(func() { noWritesTo(t, cloudFake) })
		cloud := httptest.NewServer(cloudFake.Handler())
		t.Cleanup(cloud.Close)
		issuer.SetGrant("grant-canary", authtest.Workspace{AccountID: account, AccountHandle: "acme", AccountName: "acme",
			WorkspaceID: ws, WorkspaceHandle: "prod", WorkspaceName: "prod"})
		base, stop := serveDebug(t, map[string]string{
			"PREFECT_MCP_CLOUD_PUBLIC_BASE_URL": base,
			"PREFECT_MCP_CLOUD_AUTH_BASE_URL":   issuer.URL,
			"PREFECT_MCP_CLOUD_API_BASE_URL":    cloud.URL,
		}, port, "--cloud-oauth")
		texts := exerciseAll(t, base+"/mcp", map[string]string{"Authorization": "Bearer " + token}, nil)
		texts = append(texts, exerciseAll(t, base+"/mcp", map[string]string{"Authorization": "Bearer " + token}, map[string]any{"workspace_id": "b9999999-0000-4000-8000-000000000009"})...)
		texts = append(texts, callOnce(t, base+"/mcp", map[string]string{"Authorization": "Bearer " + token + "x"}, "get_flows")...)
		forms := append(canaryForms(), token, strings.Split(token, ".")[2])
		metrics := getText(t, base+"/metrics")
		logs := stop()
		assertNoCanary(t, "logs", forms, logs)
		assertNoCanary(t, "metrics", forms, metrics)
		assertNoCanary(t, "tool texts", forms, texts...)
		if joined := strings.Join(texts, "\n"); !strings.Contains(joined, "etl-pipeline") || !strings.Contains(joined, "[REDACTED]") {
			t.Error("no tool read the workspace, or the echoing error path was not reached: OAuth mode was not exercised")
		}
	})
	t.Run("token command client secret", func(t *testing.T) {
		issuer := authtest.New("https://mcp.example.com/mcp", clock)
		defer issuer.Close()
		issuer.RegisterClient("svc-client", canarySecret, "grant-svc")
		for _, secret := range []string{canarySecret, canarySecret + "x"} {
			sys, out, errOut := testSystem(t, map[string]string{
				"PREFECT_MCP_CLOUD_AUTH_BASE_URL": issuer.URL,
				"PREFECT_MCP_CLOUD_CLIENT_ID":     "svc-client",
				"PREFECT_MCP_CLOUD_CLIENT_SECRET": secret,
			})
			code := Run(context.Background(), []string{"token"}, sys)
			if (code == 0) != (secret == canarySecret) {
				t.Errorf("token with secret #%d: exit %d: %s", len(secret), code, errOut)
			}
			assertNoCanary(t, "token command output", forms, out.String(), errOut.String())
		}
	})
}

// callOnce makes one call that is expected to fail somewhere (connect, HTTP
// status or tool error) and returns the texts seen.
func callOnce(t *testing.T, endpoint string, headers map[string]string, tool string) []string {
	t.Helper()
	hc := &http.Client{Transport: headerTransport{headers}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "canary", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1}, nil)
	if err != nil {
		return []string{err.Error()}
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool})
	if err != nil {
		return []string{err.Error()}
	}
	var texts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			texts = append(texts, tc.Text)
		}
	}
	return texts
}
