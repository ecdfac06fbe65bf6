package httpserver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// startForShutdown serves s on a real listener and leaves cancelling to the
// test; the returned channel yields Serve's result.
func startForShutdown(t *testing.T, s *Server) (addr string, cancel context.CancelFunc, served <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(cancel)
	return ln.Addr().String(), cancel, done
}

func TestGracefulShutdownFinishesInFlightCall(t *testing.T) {
	tt := &testTools{slowStarted: make(chan struct{}, 1), slowRelease: make(chan struct{})}
	mcpServer := newMCPServer(tt)
	s, err := New(func(*http.Request) *mcp.Server { return mcpServer }, Options{Stateless: true, ShutdownTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	shutdownStarted := make(chan struct{})
	s.onShutdownStart = func() { close(shutdownStarted) }
	addr, cancel, served := startForShutdown(t, s)
	cs := connect(t, "http://"+addr, nil, nil, nil)

	result := make(chan *mcp.CallToolResult, 1)
	callErr := make(chan error, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{}})
		result <- res
		callErr <- err
	}()
	<-tt.slowStarted

	cancel()
	<-shutdownStarted // the listener is closed before shutdown hooks run

	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("new connection accepted during shutdown")
	}
	if !s.isDraining() {
		t.Error("server not draining during shutdown")
	}

	close(tt.slowRelease)
	if err := <-callErr; err != nil {
		t.Fatalf("in-flight call failed: %v", err)
	}
	if res := <-result; res.IsError {
		t.Fatalf("in-flight call returned an error result: %+v", res.Content)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after a clean shutdown", err)
	}
}

func TestShutdownTimeoutForcesClose(t *testing.T) {
	tt := &testTools{slowStarted: make(chan struct{}, 1), slowRelease: make(chan struct{})}
	defer close(tt.slowRelease)
	mcpServer := newMCPServer(tt)
	s, err := New(func(*http.Request) *mcp.Server { return mcpServer }, Options{Stateless: true, ShutdownTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, served := startForShutdown(t, s)
	cs := connect(t, "http://"+addr, nil, nil, nil)

	callErr := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{}})
		callErr <- err
	}()
	<-tt.slowStarted

	cancel()
	// The slow tool never finishes by itself, so only the bound ends Serve.
	if err := <-served; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if err := <-callErr; err == nil {
		t.Fatal("call cut off by forced close reported success")
	}
}

func TestShutdownEndsStatefulEventStreams(t *testing.T) {
	mcpServer := newMCPServer(nil)
	// A long bound: a lingering GET event stream would hold shutdown for it.
	s, err := New(func(*http.Request) *mcp.Server { return mcpServer }, Options{Stateless: false, ShutdownTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, served := startForShutdown(t, s)
	hc := newHTTPClient(t)
	url := "http://" + addr + "/mcp"

	initialize := rpc{body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`}
	resp := initialize.do(t, hc, url)
	sessionID := resp.Header.Get("Mcp-Session-Id")
	if res := readRPCResponse(t, resp); res.Error != nil || sessionID == "" {
		t.Fatalf("initialize: session %q, error %+v", sessionID, res.Error)
	}
	sessionHeaders := map[string]string{"Mcp-Session-Id": sessionID, "Mcp-Protocol-Version": "2025-11-25"}
	initialized := rpc{body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, headers: sessionHeaders}
	if resp := initialized.do(t, hc, url); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("initialized status = %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}

	// Open the session's standalone event stream; it stays open until closed.
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range sessionHeaders {
		req.Header.Set(k, v)
	}
	stream, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("GET stream status = %d", stream.StatusCode)
	}

	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want clean shutdown", err)
	}
	// Stateful sessions live in the MCP server, not the HTTP server.
	for ss := range mcpServer.Sessions() {
		_ = ss.Close()
	}
}

func TestShutdownEndsSubscriptionStreams(t *testing.T) {
	mcpServer := newMCPServer(nil)
	s, err := New(func(*http.Request) *mcp.Server { return mcpServer }, Options{Stateless: true, ShutdownTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, served := startForShutdown(t, s)
	listen := rpc{
		body: `{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},"_meta":{` +
			`"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
			`"io.modelcontextprotocol/clientCapabilities":{}}}}`,
		headers: map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "subscriptions/listen"},
	}
	stream := listen.do(t, newHTTPClient(t), "http://"+addr+"/mcp")
	defer stream.Body.Close()
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("subscriptions/listen status = %d", stream.StatusCode)
	}

	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want clean shutdown", err)
	}
}
