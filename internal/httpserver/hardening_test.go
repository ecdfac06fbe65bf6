package httpserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const toolsListBody = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

// newRequest builds a POST to the MCP endpoint with valid headers, then
// applies edits ("" deletes a header).
func newRequest(t *testing.T, method, url, body string, edits map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	for k, v := range edits {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}

func TestBadRequests(t *testing.T) {
	const limit = 4 << 10
	r := startServer(t, newMCPServer(nil), Options{Stateless: true, MaxBodyBytes: limit, MaxHeaderBytes: 4 << 10})
	hc := newHTTPClient(t)
	url := r.baseURL + "/mcp"
	oversized := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"` + strings.Repeat("x", limit) + `"}}`

	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		headers    map[string]string
		chunked    bool
		wantStatus int
	}{
		{name: "wrong content type", body: toolsListBody, headers: map[string]string{"Content-Type": "text/plain"}, wantStatus: http.StatusUnsupportedMediaType},
		{name: "missing content type", body: toolsListBody, headers: map[string]string{"Content-Type": ""}, wantStatus: http.StatusUnsupportedMediaType},
		{name: "missing Accept", body: toolsListBody, headers: map[string]string{"Accept": ""}, wantStatus: http.StatusBadRequest},
		{name: "Accept without event-stream", body: toolsListBody, headers: map[string]string{"Accept": "application/json"}, wantStatus: http.StatusBadRequest},
		{name: "oversized body with length", body: oversized, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "oversized chunked body", body: oversized, chunked: true, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "malformed JSON", body: `{"jsonrpc":"2.0","id":1,`, wantStatus: http.StatusBadRequest},
		{name: "not JSON-RPC", body: `{"hello":"world"}`, wantStatus: http.StatusBadRequest},
		{name: "empty body", body: ``, wantStatus: http.StatusBadRequest},
		{name: "unknown method", body: `{"jsonrpc":"2.0","id":1,"method":"no/such"}`, wantStatus: http.StatusBadRequest},
		{name: "batch on 2025-06-18", body: "[" + toolsListBody + "]", wantStatus: http.StatusBadRequest},
		{name: "unknown old protocol version", body: toolsListBody, headers: map[string]string{"Mcp-Protocol-Version": "1999-01-01"}, wantStatus: http.StatusBadRequest},
		{name: "unknown future protocol version", body: toolsListBody, headers: map[string]string{"Mcp-Protocol-Version": "2099-01-01"}, wantStatus: http.StatusBadRequest},
		{name: "2026-07-28 without _meta", body: toolsListBody, headers: map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}, wantStatus: http.StatusBadRequest},
		{name: "GET in stateless mode", method: http.MethodGet, wantStatus: http.StatusMethodNotAllowed},
		{name: "DELETE in stateless mode", method: http.MethodDelete, wantStatus: http.StatusMethodNotAllowed},
		{name: "oversized header", body: toolsListBody, headers: map[string]string{"X-Padding": strings.Repeat("p", 64<<10)}, wantStatus: http.StatusRequestHeaderFieldsTooLarge},
		{name: "unknown path", path: "/nope", body: toolsListBody, wantStatus: http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			target := url
			if tc.path != "" {
				target = r.baseURL + tc.path
			}
			req := newRequest(t, method, target, tc.body, tc.headers)
			if tc.chunked {
				req.Body = io.NopCloser(strings.NewReader(tc.body)) // hides the length
				req.ContentLength = -1
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", resp.Header.Get("Allow"))
			}

			// The server keeps serving after every bad request.
			assertToolsListed(t, newRequestDo(t, hc, url))
		})
	}
}

func newRequestDo(t *testing.T, hc *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := hc.Do(newRequest(t, http.MethodPost, url, toolsListBody, nil))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestOriginProtection(t *testing.T) {
	r := startServer(t, newMCPServer(nil), Options{Stateless: true, AllowedOrigins: []string{"https://app.example.com"}})
	hc := newHTTPClient(t)
	url := r.baseURL + "/mcp"
	sameHost := r.baseURL // http://127.0.0.1:port

	tests := []struct {
		name       string
		method     string
		headers    map[string]string
		wantStatus int
		wantACAO   string
	}{
		{name: "no origin (non-browser client)", wantStatus: http.StatusOK},
		{name: "same-host origin", headers: map[string]string{"Origin": sameHost}, wantStatus: http.StatusOK, wantACAO: sameHost},
		{name: "allowed origin", headers: map[string]string{"Origin": "https://app.example.com"}, wantStatus: http.StatusOK, wantACAO: "https://app.example.com"},
		{name: "foreign origin", headers: map[string]string{"Origin": "https://evil.example"}, wantStatus: http.StatusForbidden},
		{name: "allowed host on other scheme", headers: map[string]string{"Origin": "http://app.example.com"}, wantStatus: http.StatusForbidden},
		{name: "null origin", headers: map[string]string{"Origin": "null"}, wantStatus: http.StatusForbidden},
		{name: "foreign origin on GET", method: http.MethodGet, headers: map[string]string{"Origin": "https://evil.example"}, wantStatus: http.StatusForbidden},
		{name: "cross-site fetch metadata without origin", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, wantStatus: http.StatusForbidden},
		{
			name:   "preflight from allowed origin",
			method: http.MethodOptions,
			headers: map[string]string{
				"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "content-type, mcp-protocol-version, authorization",
			},
			wantStatus: http.StatusNoContent, wantACAO: "https://app.example.com",
		},
		{
			name:       "preflight from foreign origin",
			method:     http.MethodOptions,
			headers:    map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
			wantStatus: http.StatusForbidden,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			resp, err := hc.Do(newRequest(t, method, url, toolsListBody, tc.headers))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.wantACAO {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tc.wantACAO)
			}
			if tc.method == http.MethodOptions && tc.wantStatus == http.StatusNoContent {
				if got := resp.Header.Get("Access-Control-Allow-Headers"); !strings.Contains(got, "mcp-protocol-version") {
					t.Errorf("Access-Control-Allow-Headers = %q", got)
				}
			}
		})
	}
}

func TestHostProtectionLoopback(t *testing.T) {
	r := startServer(t, newMCPServer(nil), Options{Stateless: true})
	hc := newHTTPClient(t)
	port := r.baseURL[strings.LastIndex(r.baseURL, ":")+1:]

	tests := []struct {
		host       string
		wantStatus int
	}{
		{"127.0.0.1:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"evil.example:" + port, http.StatusForbidden}, // DNS rebinding to 127.0.0.1
		{"evil.example", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			req := newRequest(t, http.MethodPost, r.baseURL+"/mcp", toolsListBody, nil)
			req.Host = tc.host
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
		})
	}
}

// TestHostProtectionNonLoopback serves over real HTTP but reports a
// non-loopback local address to the handler, as a server bound to a public
// interface would see.
func TestHostProtectionNonLoopback(t *testing.T) {
	bound := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 8080}
	tests := []struct {
		name         string
		addr         string
		allowedHosts []string
		host         string
		wantStatus   int
	}{
		{"bind address", "10.1.2.3:8080", nil, "10.1.2.3:8080", http.StatusOK},
		{"interface address when bound to all", "0.0.0.0:8080", nil, "10.1.2.3:8080", http.StatusOK},
		{"allowed host", "0.0.0.0:8080", []string{"mcp.example.com"}, "mcp.example.com", http.StatusOK},
		{"allowed host any port", "0.0.0.0:8080", []string{"MCP.example.com"}, "mcp.example.com:443", http.StatusOK},
		{"allowed host:port, other port", "0.0.0.0:8080", []string{"mcp.example.com:443"}, "mcp.example.com:8443", http.StatusForbidden},
		{"rebinding name", "0.0.0.0:8080", []string{"mcp.example.com"}, "evil.example", http.StatusForbidden},
		{"localhost on public interface", "0.0.0.0:8080", nil, "localhost:8080", http.StatusForbidden},
		{"wildcard", "0.0.0.0:8080", []string{"*"}, "anything.example", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mcpServer := newMCPServer(nil)
			s, err := New(func(*http.Request) *mcp.Server { return mcpServer }, Options{Addr: tc.addr, Stateless: true, AllowedHosts: tc.allowedHosts})
			if err != nil {
				t.Fatal(err)
			}
			inner := s.handler
			s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(bound))
				inner.ServeHTTP(w, r.WithContext(ctx))
			})
			run := serveOn(t, s)
			hc := newHTTPClient(t)
			req := newRequest(t, http.MethodPost, run.baseURL+"/mcp", toolsListBody, nil)
			req.Host = tc.host
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
		})
	}
}

// TestHostProtectionBehindReverseProxy puts a real httputil.ReverseProxy on
// the same host in front of the server, forwarding the public Host as Caddy
// and nginx ($host) do: the connection the server sees is loopback, yet the
// Host is the public name, which --allowed-host must admit.
func TestHostProtectionBehindReverseProxy(t *testing.T) {
	tests := []struct {
		name         string
		allowedHosts []string
		host         string
		wantStatus   int
	}{
		{"public host allowed", []string{"mcp.example.com"}, "mcp.example.com", http.StatusOK},
		{"public host:port allowed", []string{"mcp.example.com:443"}, "mcp.example.com:443", http.StatusOK},
		{"public host not allowed", nil, "mcp.example.com", http.StatusForbidden},
		{"rebinding name still refused", []string{"mcp.example.com"}, "evil.example", http.StatusForbidden},
		{"loopback name", []string{"mcp.example.com"}, "localhost", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backend := startServer(t, newMCPServer(nil), Options{Stateless: true, AllowedHosts: tc.allowedHosts})
			target, err := url.Parse(backend.baseURL)
			if err != nil {
				t.Fatal(err)
			}
			proxyTransport := &http.Transport{}
			t.Cleanup(proxyTransport.CloseIdleConnections)
			proxy := httptest.NewServer(&httputil.ReverseProxy{
				Rewrite: func(pr *httputil.ProxyRequest) {
					pr.SetURL(target)
					pr.Out.Host = pr.In.Host // forward the public Host
				},
				Transport: proxyTransport,
			})
			t.Cleanup(proxy.Close)

			hc := newHTTPClient(t)
			req := newRequest(t, http.MethodPost, proxy.URL+"/mcp", toolsListBody, nil)
			req.Host = tc.host
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus == http.StatusOK && !strings.Contains(string(body), `"tools"`) {
				t.Errorf("no tools in %s", body)
			}
		})
	}
}
