package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy/docstest"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// startHTTP runs the command with HTTP flags until the test ends.
func startHTTP(t *testing.T, env map[string]string, extra ...string) (base string, stderr func() string) {
	t.Helper()
	port := freePort(t)
	sys, _, errOut := testSystem(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	args := append([]string{"--transport", "http", "--port", strconv.Itoa(port), "--no-docs", "--log-level", "error"}, extra...)
	go func() { done <- Run(ctx, args, sys) }()
	t.Cleanup(func() { cancel(); <-done })
	base = "http://127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, base+"/healthz")
	return base, errOut.String
}

func callWith(t *testing.T, endpoint string, headers map[string]string) (*mcp.CallToolResult, error) {
	t.Helper()
	hc := &http.Client{Transport: headerTransport{headers}}
	c := mcp.NewClient(&mcp.Implementation{Name: "modes", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1}, nil)
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	return cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_flows"})
}

func TestRefuseToExposeServerCredentials(t *testing.T) {
	sys, _, errOut := testSystem(t, map[string]string{"PREFECT_API_URL": "http://127.0.0.1:4200/api"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code := Run(ctx, []string{"--transport", "http", "--host", "0.0.0.0", "--port", strconv.Itoa(freePort(t))}, sys); code == 0 {
		t.Fatal("started on all interfaces with its own Prefect credentials and no inbound auth")
	}
	if !strings.Contains(errOut.String(), "--allow-unauthenticated") {
		t.Errorf("refusal does not say how to proceed: %s", errOut)
	}
}

func TestStaticBearerTokens(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	t.Cleanup(func() { noWritesTo(t, fake) })
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("# gateway\ngateway-token-canary\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stderr := startHTTP(t, map[string]string{"PREFECT_API_URL": fake.URL}, "--auth-tokens-file", tokens)
	if _, err := callWith(t, base+"/mcp", nil); err == nil {
		t.Fatal("a call without a token was served")
	}
	if _, err := callWith(t, base+"/mcp", map[string]string{"Authorization": "Bearer wrong"}); err == nil {
		t.Fatal("a wrong token was served")
	}
	res, err := callWith(t, base+"/mcp", map[string]string{"Authorization": "Bearer gateway-token-canary"})
	if err != nil || res.IsError {
		t.Fatalf("valid token: %v %v", err, res)
	}
	if strings.Contains(stderr(), "gateway-token-canary") {
		t.Fatal("the token reached the logs")
	}
}

func TestLockedMode(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	t.Cleanup(func() { noWritesTo(t, fake) })
	base, _ := startHTTP(t, map[string]string{"PREFECT_API_URL": fake.URL}, "--locked")
	if _, err := callWith(t, base+"/mcp", map[string]string{"X-Prefect-Api-Url": fake.URL}); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Fatalf("locked mode and an X-Prefect-Api-Url header: %v, want 403", err)
	}
	res, err := callWith(t, base+"/mcp", nil)
	if err != nil || res.IsError {
		t.Fatalf("locked mode without headers: %v %v", err, res)
	}
	// Plain http to a non-loopback host is refused at start-up.
	sys, _, errOut := testSystem(t, map[string]string{"PREFECT_API_URL": "http://prefect.example.com/api"})
	if code := Run(context.Background(), []string{"--transport", "http", "--port", strconv.Itoa(freePort(t)), "--locked"}, sys); code == 0 {
		t.Fatal("locked mode started with a plain-http remote API")
	}
	if !strings.Contains(errOut.String(), "https") {
		t.Errorf("refusal: %s", errOut)
	}
}

// TestDocsProxyIsLazy: the docs server is not contacted at start-up or on
// tools/list, only on the first docs call.
func TestDocsProxyIsLazy(t *testing.T) {
	docs := docstest.New()
	defer docs.Close()
	base, _ := startHTTPWithDocs(t, docs.URL)
	hc := &http.Client{}
	c := mcp.NewClient(&mcp.Implementation{Name: "docs", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: hc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := docs.Requests(); n != 0 {
		t.Fatalf("docs server contacted %d times before any docs call", n)
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "docs_search_prefect", Arguments: map[string]any{"query": "work pools"}})
	if err != nil || res.IsError {
		t.Fatalf("docs_search_prefect: %v %s", err, res.Content[0].(*mcp.TextContent).Text)
	}
	if docs.Requests() == 0 {
		t.Fatal("docs call did not reach the docs server")
	}
}

func startHTTPWithDocs(t *testing.T, docsURL string) (string, func() string) {
	t.Helper()
	port := freePort(t)
	sys, _, errOut := testSystem(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"--transport", "http", "--port", strconv.Itoa(port), "--docs-url", docsURL, "--log-level", "error"}, sys)
	}()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, base+"/healthz")
	return base, errOut.String
}
