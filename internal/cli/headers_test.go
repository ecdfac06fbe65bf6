package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// TestHTTPHeaderEdgeCases runs a server that holds the operator's own
// credentials and sends it issue 13's header edge cases over real HTTP:
// empty X-Prefect-* headers (the README's mcp-remote example with its
// variables unset) never reach Prefect with the operator's credentials, and
// a duplicated X-Prefect-* header is answered 400 before MCP.
func TestHTTPHeaderEdgeCases(t *testing.T) {
	const operator = "operator:edge-canary"
	fake := prefecttest.New(prefecttest.WithAuthString(operator), prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	t.Cleanup(func() { noWritesTo(t, fake) })
	sys, _, errOut := testSystem(t, map[string]string{"PREFECT_API_URL": fake.URL, "PREFECT_API_AUTH_STRING": operator})
	base, stop := runHTTP(t, sys, errOut, "--no-docs")
	defer stop()
	endpoint := base + "/mcp"

	call := func(headers map[string]string) (string, bool) {
		t.Helper()
		c := mcp.NewClient(&mcp.Implementation{Name: "edge-test", Version: "1"}, nil)
		cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: headerTransport{headers}}}, nil)
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

	// mcp-remote --header "X-Prefect-Api-Url:${PREFECT_API_URL}" --header
	// "X-Prefect-Api-Key:${PREFECT_API_KEY}" with both variables unset.
	fake.ResetLog()
	text, isErr := call(map[string]string{"X-Prefect-Api-Url": "", "X-Prefect-Api-Key": ""})
	if !isErr || !strings.Contains(text, "never uses the server's own credentials") {
		t.Fatalf("empty headers: %s", text)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("empty headers reached Prefect (%d requests) with the operator's credentials", n)
	}
	text, isErr = call(map[string]string{"X-Prefect-Api-Key": ""})
	if !isErr || len(fake.Requests()) != 0 {
		t.Fatalf("an empty key header: %s", text)
	}
	// Without any X-Prefect-* header, the operator's own workspace is served.
	if text, isErr := call(nil); isErr || !strings.Contains(text, "etl-pipeline") {
		t.Fatalf("no headers: %s", text)
	}

	// A gateway's pinning header plus the client's own: 400, nothing served;
	// so is a header name the server does not know (sent twice here too).
	for _, name := range []string{"X-Prefect-Api-Url", "X-Prefect-Api-Key", "X-Prefect-Api-Auth-String", "X-Prefect-Api-Token"} {
		req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Add(name, fake.URL)
		req.Header.Add(name, "http://127.0.0.1:1/api")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "more than once") && !strings.Contains(string(body), "unknown header") {
			t.Errorf("%s twice: %d %s", name, resp.StatusCode, body)
		}
	}
}

// TestDefaultAllowlistFollowsReload: the default allowlist holds the
// server's own URL as configured now; after a settings reload the old URL is
// refused, the new one allowed, and key-only requests use the new one.
func TestDefaultAllowlistFollowsReload(t *testing.T) {
	sys, _, _ := testSystem(t, nil)
	dir := filepath.Join(sys.HomeDir, ".prefect")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(port string) {
		t.Helper()
		body := "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"http://127.0.0.1:" + port + "/api\"\n"
		if err := os.WriteFile(filepath.Join(dir, "profiles.toml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("4200")
	a, err := build(Options{NoDocs: true, MaxResponseMB: 1}, sys, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	h := headersResolver(Options{}, a)
	resolve := func(hdr http.Header) (*target.Target, error) {
		return h.Resolve(context.Background(), target.Request{Header: hdr})
	}
	if _, err := resolve(http.Header{target.HeaderAPIURL: {"http://127.0.0.1:4200/api"}, target.HeaderAPIKey: {"k"}}); err != nil {
		t.Fatalf("the configured URL before the reload: %v", err)
	}
	write("4300")
	a.reloading.Reload()
	if _, err := resolve(http.Header{target.HeaderAPIURL: {"http://127.0.0.1:4200/api"}, target.HeaderAPIKey: {"k"}}); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("the old URL after the reload: %v, want refused", err)
	}
	if _, err := resolve(http.Header{target.HeaderAPIURL: {"http://127.0.0.1:4300/api"}, target.HeaderAPIKey: {"k"}}); err != nil {
		t.Errorf("the new URL after the reload: %v", err)
	}
	tg, err := resolve(http.Header{target.HeaderAPIKey: {"k"}})
	if err != nil || tg.APIURL != "http://127.0.0.1:4300/api" || tg.Auth != target.AuthAPIKey {
		t.Errorf("key only after the reload: %+v, %v", tg, err)
	}
}
