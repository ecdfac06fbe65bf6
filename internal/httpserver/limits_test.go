package httpserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prefect-mcp/prefect-mcp/internal/testclock"
)

// rawConn is one client connection speaking HTTP/1.1 by hand, so the test
// decides exactly which connections are open.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, baseURL string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

func (c *rawConn) send(t *testing.T, path string) {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read returns the status and body of the next response, waiting at most
// clientWait (a hang guard, not a timing assertion).
func (c *rawConn) read(t *testing.T) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(clientWait))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func (c *rawConn) get(t *testing.T, path string) (int, string) {
	t.Helper()
	c.send(t, path)
	return c.read(t)
}

// notAnswered reports whether nothing arrives on c for a while: the bounded
// wait of a negative check.
func (c *rawConn) notAnswered(t *testing.T) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err := c.br.Peek(1)
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func warnings(logs *lockedBuffer) int {
	return strings.Count(logs.String(), "connection limit reached")
}

func TestConnectionLimit(t *testing.T) {
	clock := testclock.NewManual(time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC))
	logs := &lockedBuffer{}
	r := startServer(t, newMCPServer(nil), Options{Stateless: true, MaxConnections: 3, Logger: debugLogger(logs), Now: clock.Now})

	held := make([]*rawConn, 3)
	for i := range held {
		held[i] = dialRaw(t, r.baseURL)
		if code, _ := held[i].get(t, "/healthz"); code != http.StatusOK {
			t.Fatalf("connection %d: /healthz %d", i, code)
		}
	}
	if n := warnings(logs); n != 1 {
		t.Errorf("%d warnings at the cap, want 1:\n%s", n, logs)
	}

	// The fourth connection is made (the kernel queues it) but not served,
	// /healthz included.
	waiting := dialRaw(t, r.baseURL)
	waiting.send(t, "/healthz")
	if !waiting.notAnswered(t) {
		t.Fatal("a connection beyond the cap was served")
	}
	// Requests on connections already open are served at the cap.
	code, metrics := held[0].get(t, "/metrics")
	if code != http.StatusOK || !strings.Contains(metrics, "prefect_mcp_http_connections_open 3\n") ||
		!strings.Contains(metrics, "prefect_mcp_http_connections_max 3\n") {
		t.Fatalf("/metrics at the cap: %d, connection gauges:\n%s", code, grepLines(metrics, "prefect_mcp_http_connections"))
	}

	// One closes: the waiting connection takes its place and is answered.
	_ = held[1].Close()
	if code, body := waiting.read(t); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("queued /healthz after a close: %d %q", code, body)
	}
	if n := warnings(logs); n != 1 {
		t.Errorf("%d warnings after the cap was reached again within a minute, want 1", n)
	}

	// A minute later the cap warns again.
	clock.Advance(warnInterval)
	_ = held[2].Close()
	next := dialRaw(t, r.baseURL)
	if code, _ := next.get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("after another close: /healthz %d", code)
	}
	if n := warnings(logs); n != 2 {
		t.Errorf("%d warnings after a minute at the cap, want 2", n)
	}
	if code, metrics := next.get(t, "/metrics"); code != http.StatusOK || !strings.Contains(metrics, "prefect_mcp_http_connections_open 3\n") {
		t.Errorf("/metrics: %d, connection gauges:\n%s", code, grepLines(metrics, "prefect_mcp_http_connections"))
	}
}

// TestLimitedConnHalfCloses: net/http half-closes (CloseWrite) a connection
// whose request it refused unread, so the client reads the answer, not a
// reset; the limited connection keeps that (netutil.LimitListener's does not).
func TestLimitedConnHalfCloses(t *testing.T) {
	s, err := New(func(*http.Request) *mcp.Server { return nil }, Options{MaxConnections: 1})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := s.limitConnections(inner)
	defer ln.Close()
	client, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	cw, ok := server.(interface{ CloseWrite() error })
	if !ok {
		t.Fatal("the limited connection has no CloseWrite")
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = client.SetDeadline(time.Now().Add(clientWait))
	_ = server.SetDeadline(time.Now().Add(clientWait))
	if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("client after the half-close: %v, want EOF", err)
	}
	// The other direction stays open.
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(server, make([]byte, 1)); err != nil {
		t.Fatalf("server reading after its half-close: %v", err)
	}
}

// TestConnectionLimitFreesRefusedConnections: a connection whose body was
// refused (413) ends and frees its place for the next one.
func TestConnectionLimitFreesRefusedConnections(t *testing.T) {
	r := startServer(t, newMCPServer(nil), Options{Stateless: true, MaxConnections: 1, MaxBodyBytes: 1 << 10})
	c := dialRaw(t, r.baseURL)
	body := strings.Repeat("x", 4<<10)
	req := "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.read(t); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d, want 413", code)
	}
	_ = c.SetReadDeadline(time.Now().Add(clientWait))
	if _, err := c.br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the 413: %v, want EOF", err)
	}
	if code, _ := dialRaw(t, r.baseURL).get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("next connection: /healthz %d", code)
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// bearerAs authenticates "Bearer <name>" as the principal <name>, as the
// static-token and OAuth middlewares do through the go-sdk's TokenInfo.
func bearerAs(next http.Handler) http.Handler {
	return sdkauth.RequireBearerToken(func(_ context.Context, token string, _ *http.Request) (*sdkauth.TokenInfo, error) {
		return &sdkauth.TokenInfo{UserID: token}, nil
	}, &sdkauth.RequireBearerTokenOptions{AllowMissingExpiration: true})(next)
}

func listenRequest(token string) rpc {
	return rpc{
		body: `{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},"_meta":{` +
			`"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
			`"io.modelcontextprotocol/clientCapabilities":{}}}}`,
		headers: map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "subscriptions/listen", "Authorization": "Bearer " + token},
	}
}

// waitForMetric waits, within clientWait, until /metrics shows line.
func waitForMetric(t *testing.T, hc *http.Client, baseURL, line string) {
	t.Helper()
	var body string
	if !eventually(func() bool {
		_, body = get(t, hc, baseURL+"/metrics")
		return strings.Contains(body, line+"\n")
	}) {
		t.Fatalf("/metrics never showed %q:\n%s", line, grepLines(body, "prefect_mcp_http_event_streams"))
	}
}

// eventually polls cond until it holds (true) or clientWait has passed
// (false).
func eventually(cond func() bool) bool {
	for end := time.Now().Add(clientWait); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// TestStreamsPerClient: one client cannot hold more than MaxStreamsPerClient
// subscriptions/listen streams; another client still opens its own, and a
// closed stream makes room.
func TestStreamsPerClient(t *testing.T) {
	r := startServer(t, newMCPServer(nil), Options{Stateless: true, MaxStreamsPerClient: 2, Wrap: bearerAs})
	hc := newHTTPClient(t)
	url := r.baseURL + "/mcp"
	open := func(token string) *http.Response {
		t.Helper()
		resp := listenRequest(token).do(t, hc, url)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	var alice []*http.Response
	for range 2 {
		resp := open("alice")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("alice's stream: %d", resp.StatusCode)
		}
		alice = append(alice, resp)
	}
	refused := open("alice")
	if refused.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("alice's third stream: %d, want 429", refused.StatusCode)
	}
	body, _ := io.ReadAll(refused.Body)
	if refused.Header.Get("Retry-After") != "30" || !strings.Contains(string(body), "2 open event streams") {
		t.Fatalf("alice's third stream: Retry-After %q, %q", refused.Header.Get("Retry-After"), body)
	}
	if resp := open("bob"); resp.StatusCode != http.StatusOK {
		t.Fatalf("bob's stream while alice is at her cap: %d", resp.StatusCode)
	}
	// Calls are not streams: alice still calls tools.
	if resp := (rpc{body: toolsListBody, headers: map[string]string{"Authorization": "Bearer alice"}}).do(t, hc, url); readRPCResponse(t, resp).Error != nil {
		t.Fatal("alice's tools/list failed")
	}
	waitForMetric(t, hc, r.baseURL, "prefect_mcp_http_event_streams_open 3")

	alice[0].Body.Close()
	waitForMetric(t, hc, r.baseURL, "prefect_mcp_http_event_streams_open 2")
	if resp := open("alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("alice's stream after closing one: %d", resp.StatusCode)
	}
}

// TestStatefulGETStreamsPerClient: the GET streams of a principal's sessions
// count together; a refused GET leaves its session working.
func TestStatefulGETStreamsPerClient(t *testing.T) {
	mcpServer := newMCPServer(nil)
	r := startServer(t, mcpServer, Options{MaxStreamsPerClient: 1, Wrap: bearerAs})
	t.Cleanup(func() {
		for ss := range mcpServer.Sessions() {
			_ = ss.Close()
		}
	})
	hc := newHTTPClient(t)
	url := r.baseURL + "/mcp"
	stream := func() *http.Response {
		t.Helper()
		auth := map[string]string{"Authorization": "Bearer alice"}
		resp := (rpc{body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`, headers: auth}).do(t, hc, url)
		session := resp.Header.Get("Mcp-Session-Id")
		if res := readRPCResponse(t, resp); res.Error != nil || session == "" {
			t.Fatalf("initialize: session %q, error %+v", session, res.Error)
		}
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer alice")
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		get, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { get.Body.Close() })
		return get
	}
	if resp := stream(); resp.StatusCode != http.StatusOK {
		t.Fatalf("first session's GET stream: %d", resp.StatusCode)
	}
	if resp := stream(); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second session's GET stream: %d, want 429", resp.StatusCode)
	}
	// The go-sdk client takes a refused GET as "no stream" and goes on.
	cs := connect(t, r.baseURL, http.Header{"Authorization": {"Bearer alice"}}, nil, nil)
	if got, err := callEcho(context.Background(), cs, "still here"); err != nil || got != "still here" {
		t.Fatalf("call in a session whose GET was refused: %q %v", got, err)
	}
}

func TestStreamClient(t *testing.T) {
	key := func(wrap func(http.Handler) http.Handler, headers map[string]string) string {
		var got string
		h := wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = streamClient(r) }))
		req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		return got
	}
	none := func(next http.Handler) http.Handler { return next }
	alice := key(bearerAs, map[string]string{"Authorization": "Bearer alice"})
	// An authenticated principal is one client whatever else it sends.
	if other := key(bearerAs, map[string]string{"Authorization": "Bearer alice", "X-Prefect-Api-Key": "pnu_other"}); other != alice {
		t.Errorf("alice with another X-Prefect-Api-Key is another client: %q vs %q", other, alice)
	}
	if bob := key(bearerAs, map[string]string{"Authorization": "Bearer bob"}); bob == alice {
		t.Error("bob and alice are one client")
	}
	// Without inbound authentication, the credential headers name the client,
	// by digest only.
	a := key(none, map[string]string{"X-Prefect-Api-Key": "pnu_streamcanary_a"})
	b := key(none, map[string]string{"X-Prefect-Api-Key": "pnu_streamcanary_b"})
	if a == b || strings.Contains(a+b, "streamcanary") {
		t.Errorf("anonymous clients by header: %q, %q", a, b)
	}
	if anon := key(none, nil); anon != key(none, nil) || anon == a {
		t.Errorf("clients without credentials: %q", anon)
	}
}
