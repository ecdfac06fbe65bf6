package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestHealthz(t *testing.T) {
	r := startServer(t, newMCPServer(nil), Options{Stateless: true, Ready: func(context.Context) error { return errors.New("down") }})
	status, body := get(t, newHTTPClient(t), r.baseURL+"/healthz")
	if status != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz = %d %q, want 200 ok", status, body)
	}
}

func TestReadyz(t *testing.T) {
	const secret = "https://user:hunter2@prefect.internal/api"
	tests := []struct {
		name       string
		ready      func(context.Context) error
		wantStatus int
		wantBody   string
	}{
		{"no check", nil, http.StatusOK, "ready"},
		{"check passes", func(context.Context) error { return nil }, http.StatusOK, "ready"},
		{"check fails", func(context.Context) error { return fmt.Errorf("GET %s/health: connection refused", secret) }, http.StatusServiceUnavailable, "not ready: readiness check failed"},
		{"check fails with public reason", func(context.Context) error {
			return NotReady("prefect API unreachable", fmt.Errorf("dial %s", secret))
		}, http.StatusServiceUnavailable, "not ready: prefect API unreachable"},
		{"check times out", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, http.StatusServiceUnavailable, "not ready: readiness check timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := &lockedBuffer{}
			s, err := New(func(*http.Request) *mcp.Server { return newMCPServer(nil) }, Options{Stateless: true, Ready: tc.ready, Logger: debugLogger(logs)})
			if err != nil {
				t.Fatal(err)
			}
			s.readyTimeout = 20 * time.Millisecond // keeps the timeout case fast
			r := serveOn(t, s)
			status, body := get(t, newHTTPClient(t), r.baseURL+"/readyz")
			if status != tc.wantStatus || strings.TrimSpace(body) != tc.wantBody {
				t.Errorf("/readyz = %d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if strings.Contains(body, "hunter2") {
				t.Errorf("/readyz leaked the error text: %q", body)
			}
			if tc.wantStatus != http.StatusOK && !strings.Contains(logs.String(), "readiness check failed") {
				t.Errorf("failure not logged: %s", logs)
			}
		})
	}
}

func TestMetricsAndCredentialRedaction(t *testing.T) {
	const (
		canaryKey    = "pnu_CANARYKEY1234567890"
		canaryAuth   = "CANARY-AUTH-STRING-5678"
		canaryBearer = "CANARY-BEARER-TOKEN-9012"
	)
	logs := &lockedBuffer{}
	mcpServer := newMCPServer(nil)
	s, err := New(func(*http.Request) *mcp.Server { return mcpServer }, Options{Stateless: true, Logger: debugLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	mcpServer.AddReceivingMiddleware(s.Metrics().MCPMiddleware())
	r := serveOn(t, s)

	header := http.Header{}
	header.Set("X-Prefect-Api-Key", canaryKey)
	header.Set("X-Prefect-Api-Auth-String", canaryAuth)
	header.Set("Authorization", "Bearer "+canaryBearer)
	ids := &requestIDs{}
	cs := connect(t, r.baseURL, header, nil, ids)
	ctx := context.Background()
	if _, err := callEcho(ctx, cs, "one"); err != nil {
		t.Fatal(err)
	}
	if _, err := callEcho(ctx, cs, "two"); err != nil {
		t.Fatal(err)
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fail", Arguments: map[string]any{}}); err != nil || !res.IsError {
		t.Fatalf("fail tool = %+v, %v; want isError", res, err)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "no_such_tool"}); err == nil {
		t.Fatal("unknown tool call succeeded")
	}
	s.Metrics().ObserveUpstream("POST /flow_runs/filter", 200, 30*time.Millisecond)
	s.Metrics().ObserveUpstream("GET /flow_runs/{id}", 0, time.Second)

	status, metrics := get(t, newHTTPClient(t), r.baseURL+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics status = %d", status)
	}
	for _, want := range []string{
		`prefect_mcp_tool_calls_total{outcome="ok",tool="echo"} 2`,
		`prefect_mcp_tool_calls_total{outcome="error",tool="fail"} 1`,
		`prefect_mcp_tool_calls_total{outcome="error",tool="unknown"} 1`,
		`prefect_mcp_tool_call_duration_seconds_count{tool="echo"} 2`,
		`prefect_mcp_upstream_requests_total{endpoint="POST /flow_runs/filter",status="200"} 1`,
		`prefect_mcp_upstream_requests_total{endpoint="GET /flow_runs/{id}",status="0"} 1`,
		`prefect_mcp_upstream_request_duration_seconds_count{endpoint="POST /flow_runs/filter"} 1`,
		`prefect_mcp_http_requests_total{code="200"}`,
		`go_goroutines `,
		`process_`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The scrape counts itself; an earlier request whose handler has not
	// yet returned (its client already has the answer) may count too.
	if m := regexp.MustCompile(`(?m)^prefect_mcp_http_requests_in_flight (\d+)$`).FindStringSubmatch(metrics); m == nil || m[1] == "0" {
		t.Errorf("/metrics in-flight gauge = %v, want at least the scrape itself", m)
	}

	// Every request is logged once its handler returns, which may be after
	// the client saw the response: wait for each one's line.
	for _, id := range ids.all() {
		logs.waitFor(`"request_id":"` + id + `"`)
	}
	logText := logs.String()
	for _, canary := range []string{canaryKey, canaryAuth, canaryBearer} {
		if strings.Contains(metrics, canary) {
			t.Errorf("/metrics contains credential %q", canary)
		}
		if strings.Contains(logText, canary) {
			t.Errorf("logs contain credential %q", canary)
		}
	}
	for _, want := range []string{`"mcp_method":"tools/call"`, `"tool":"echo"`, `"path":"/mcp"`, `"status":200`, `"user_agent":`} {
		if !strings.Contains(logText, want) {
			t.Errorf("access log lacks %s", want)
		}
	}
}

func TestToolLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"get_flow_runs", "get_flow_runs"},
		{"ns.tool-1", "ns.tool-1"},
		{"", "invalid"},
		{"has space", "invalid"},
		{`quote"brace}`, "invalid"},
		{strings.Repeat("a", 129), "invalid"},
		{"unknown", "unknown"},
	}
	for _, tc := range tests {
		if got := toolLabel(tc.in); got != tc.want {
			t.Errorf("toolLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRequestID(t *testing.T) {
	logs := &lockedBuffer{}
	r := startServer(t, newMCPServer(nil), Options{Stateless: true, Logger: debugLogger(logs)})
	hc := newHTTPClient(t)
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)

	tests := []struct {
		name     string
		incoming string
		wantSame bool
	}{
		{"none", "", false},
		{"well-formed", "req-123_abc.DEF:9", true},
		{"with spaces", "bad id", false},
		{"injection attempt", `x","level":"ERROR`, false},
		{"too long", strings.Repeat("a", 129), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, http.MethodPost, r.baseURL+"/mcp", toolsListBody, map[string]string{RequestIDHeader: tc.incoming})
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get(RequestIDHeader)
			if tc.wantSame && got != tc.incoming {
				t.Errorf("request id = %q, want echoed %q", got, tc.incoming)
			}
			if !tc.wantSame && !generated.MatchString(got) {
				t.Errorf("request id = %q, want a generated id", got)
			}
			logs.waitFor(`"request_id":"` + got + `"`) // the test times out if it never appears
		})
	}
}

func TestWrapAndExtraRoutes(t *testing.T) {
	requireBearer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer good" {
				w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="/.well-known/oauth-protected-resource/mcp"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	metadata := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"resource":"x"}`)) })
	r := startServer(t, newMCPServer(nil), Options{
		Stateless:      true,
		AllowedOrigins: []string{"https://app.example.com"},
		Wrap:           requireBearer,
		Extra:          map[string]http.Handler{"GET /.well-known/oauth-protected-resource/mcp": metadata},
	})
	hc := newHTTPClient(t)

	tests := []struct {
		name       string
		method     string
		path       string
		headers    map[string]string
		wantStatus int
	}{
		{"MCP without token", http.MethodPost, "/mcp", nil, http.StatusUnauthorized},
		{"MCP with token", http.MethodPost, "/mcp", map[string]string{"Authorization": "Bearer good"}, http.StatusOK},
		{"CORS preflight needs no token", http.MethodOptions, "/mcp", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}, http.StatusNoContent},
		{"foreign origin refused before auth", http.MethodPost, "/mcp", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer good"}, http.StatusForbidden},
		{"extra route without token", http.MethodGet, "/.well-known/oauth-protected-resource/mcp", nil, http.StatusOK},
		{"healthz without token", http.MethodGet, "/healthz", nil, http.StatusOK},
		{"metrics without token", http.MethodGet, "/metrics", nil, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := hc.Do(newRequest(t, tc.method, r.baseURL+tc.path, toolsListBody, tc.headers))
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

func TestNewRejectsBadOptions(t *testing.T) {
	getServer := func(*http.Request) *mcp.Server { return nil }
	ok := http.NotFoundHandler()
	tests := []struct {
		name string
		opts Options
	}{
		{"relative path", Options{Path: "mcp"}},
		{"wildcard path", Options{Path: "/{x}"}},
		{"negative body limit", Options{MaxBodyBytes: -1}},
		{"negative timeout", Options{ShutdownTimeout: -time.Second}},
		{"negative connection limit", Options{MaxConnections: -1}},
		{"negative stream limit", Options{MaxStreamsPerClient: -1}},
		{"origin with path", Options{AllowedOrigins: []string{"https://app.example.com/x"}}},
		{"origin without scheme", Options{AllowedOrigins: []string{"app.example.com"}}},
		{"host with scheme", Options{AllowedHosts: []string{"https://mcp.example.com"}}},
		{"address without port", Options{Addr: "127.0.0.1"}},
		{"extra route shadows healthz", Options{Extra: map[string]http.Handler{"GET /healthz": ok}}},
		{"extra route shadows MCP path", Options{Extra: map[string]http.Handler{"/mcp": ok}}},
		{"nil extra handler", Options{Extra: map[string]http.Handler{"/x": nil}}},
		{"Wrap returns nil", Options{Wrap: func(http.Handler) http.Handler { return nil }}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(getServer, tc.opts); err == nil {
				t.Error("New succeeded, want error")
			}
		})
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil getServer) succeeded, want error")
	}
	if _, err := New(getServer, Options{Addr: "127.0.0.1:0", AllowedHosts: []string{"mcp.example.com:443"}, AllowedOrigins: []string{"*"}}); err != nil {
		t.Errorf("New with valid options: %v", err)
	}
}

func TestRefuseUnauthenticated(t *testing.T) {
	tests := []struct {
		addr                                  string
		creds, inboundAuth, allowUnauth, fail bool
	}{
		{addr: "127.0.0.1:8080", creds: true},
		{addr: "localhost:8080", creds: true},
		{addr: "[::1]:8080", creds: true},
		{addr: "0.0.0.0:8080", creds: true, fail: true},
		{addr: ":8080", creds: true, fail: true},
		{addr: "[::]:8080", creds: true, fail: true},
		{addr: "10.0.0.5:8080", creds: true, fail: true},
		{addr: "mcp.internal:8080", creds: true, fail: true},
		{addr: "0.0.0.0:8080", creds: true, inboundAuth: true},
		{addr: "0.0.0.0:8080", creds: true, allowUnauth: true},
		{addr: "0.0.0.0:8080", creds: false}, // every request brings its own Prefect credentials
		{addr: "no-port", creds: false, fail: true},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s creds=%t auth=%t allow=%t", tc.addr, tc.creds, tc.inboundAuth, tc.allowUnauth)
		t.Run(name, func(t *testing.T) {
			err := RefuseUnauthenticated(tc.addr, tc.creds, tc.inboundAuth, tc.allowUnauth)
			if (err != nil) != tc.fail {
				t.Fatalf("err = %v, want failure %t", err, tc.fail)
			}
			if err != nil && tc.addr != "no-port" {
				for _, flag := range []string{"--allow-unauthenticated", "--auth-tokens-file", "--cloud-oauth", "127.0.0.1", "anyone"} {
					if !strings.Contains(err.Error(), flag) {
						t.Errorf("error does not mention %q: %v", flag, err)
					}
				}
			}
		})
	}
}

// TestReadyzCachesItsResult: however often /readyz is hit, the check (an
// upstream call with the server's credentials) runs once per ReadyCacheTTL,
// concurrent probes share it, and a rebinding Host never triggers it.
func TestReadyzCachesItsResult(t *testing.T) {
	var (
		mu    sync.Mutex
		now   = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
		calls int
		fail  bool
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	ready := func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if fail {
			return NotReady("prefect API unreachable", nil)
		}
		return nil
	}
	checks := func() int { mu.Lock(); defer mu.Unlock(); return calls }

	r := startServer(t, newMCPServer(nil), Options{Stateless: true, Ready: ready, Now: clock})
	hc := newHTTPClient(t)
	probe := func(want int) {
		t.Helper()
		if status, body := get(t, hc, r.baseURL+"/readyz"); status != want {
			t.Fatalf("/readyz = %d %q, want %d", status, body, want)
		}
	}

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { probe(http.StatusOK) })
	}
	wg.Wait()
	if got := checks(); got != 1 {
		t.Fatalf("20 probes ran the check %d times, want 1", got)
	}

	mu.Lock()
	fail = true
	mu.Unlock()
	advance(ReadyCacheTTL - time.Second)
	probe(http.StatusOK) // still the cached result
	if got := checks(); got != 1 {
		t.Fatalf("checks within the TTL = %d, want 1", got)
	}
	advance(time.Second)
	probe(http.StatusServiceUnavailable)
	probe(http.StatusServiceUnavailable)
	if got := checks(); got != 2 {
		t.Fatalf("checks after the TTL = %d, want 2", got)
	}

	req, err := http.NewRequest(http.MethodGet, r.baseURL+"/readyz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example"
	advance(ReadyCacheTTL)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || checks() != 2 {
		t.Fatalf("rebinding Host: status %d after %d checks, want 403 and no check", resp.StatusCode, checks())
	}
}
