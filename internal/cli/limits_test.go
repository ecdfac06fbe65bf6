package cli

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectionAndStreamFlagsReachTheServer: --max-connections (here from
// its environment variable) and --max-streams-per-client bind the HTTP
// server; internal/httpserver's tests push past each limit.
func TestConnectionAndStreamFlagsReachTheServer(t *testing.T) {
	sys, _, errOut := testSystem(t, map[string]string{"PREFECT_MCP_MAX_CONNECTIONS": "7"})
	base, stop := runHTTP(t, sys, errOut, "--no-docs", "--stateful", "--max-streams-per-client", "1")
	defer stop()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	if metrics := bodyText(t, rawHTTP(t, hc, http.MethodGet, base+"/metrics", "", nil)); !strings.Contains(metrics, "prefect_mcp_http_connections_max 7\n") {
		t.Errorf("/metrics does not show the cap of 7 connections")
	}

	// Each session's GET event stream stays open; the same client's second is refused.
	stream := func() *http.Response {
		t.Helper()
		initResp := rawHTTP(t, hc, http.MethodPost, base+"/mcp", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`, nil)
		session := initResp.Header.Get("Mcp-Session-Id")
		bodyText(t, initResp)
		if session == "" {
			t.Fatalf("initialize: no session (%d)", initResp.StatusCode)
		}
		resp := rawHTTP(t, hc, http.MethodGet, base+"/mcp", "", map[string]string{"Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-11-25", "Accept": "text/event-stream"})
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := stream(); resp.StatusCode != http.StatusOK {
		t.Fatalf("first GET stream: %d", resp.StatusCode)
	}
	if resp := stream(); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second GET stream of the same client: %d, want 429", resp.StatusCode)
	}
}

// TestSubscriptionsListenEndsAtOnce: this server offers nothing to subscribe
// to (its lists never change: no listChanged), so a 2026-07-28
// subscriptions/listen is answered and its stream ends; SECURITY.md relies on
// it.
func TestSubscriptionsListenEndsAtOnce(t *testing.T) {
	sys, _, errOut := testSystem(t, nil)
	base, stop := runHTTP(t, sys, errOut, "--no-docs")
	defer stop()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	// A hang guard, not a timing assertion: a stream that stays open fails.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":`+
		`{"toolsListChanged":true,"promptsListChanged":true,"resourcesListChanged":true,"resourceSubscriptions":["prefect://work-pools/default"]},"_meta":{`+
		`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
		"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "subscriptions/listen"} {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := bodyText(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"resultType":"complete"`) || !strings.Contains(body, `"notifications":{}`) {
		t.Fatalf("subscriptions/listen: %d %s", resp.StatusCode, body)
	}
}

func rawHTTP(t *testing.T, hc *http.Client, method, url, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func bodyText(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
