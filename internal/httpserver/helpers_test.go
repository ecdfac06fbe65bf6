package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type echoIn struct {
	Text string `json:"text"`
}

type noInput struct{}

type echoOut struct {
	Echo string `json:"echo"`
}

// testTools holds the channels through which a test steers the slow tool.
type testTools struct {
	slowStarted chan struct{} // receives one value per slow call that started
	slowRelease chan struct{} // closed to let slow calls return
}

// newMCPServer builds a tiny MCP server: echo, fail (isError) and slow (waits
// for release or cancellation).
func newMCPServer(tt *testTools) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "echoes text"},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
			return nil, echoOut{Echo: in.Text}, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "fail", Description: "always fails"},
		func(_ context.Context, _ *mcp.CallToolRequest, _ noInput) (*mcp.CallToolResult, echoOut, error) {
			return nil, echoOut{}, fmt.Errorf("deliberate failure")
		})
	if tt != nil {
		mcp.AddTool(srv, &mcp.Tool{Name: "slow", Description: "waits"},
			func(ctx context.Context, _ *mcp.CallToolRequest, _ noInput) (*mcp.CallToolResult, echoOut, error) {
				tt.slowStarted <- struct{}{}
				select {
				case <-tt.slowRelease:
					return nil, echoOut{Echo: "slow done"}, nil
				case <-ctx.Done():
					return nil, echoOut{}, ctx.Err()
				}
			})
	}
	return srv
}

// lockedBuffer is a log sink safe for concurrent writers and readers.
type lockedBuffer struct {
	mu      sync.Mutex
	written *sync.Cond
	buf     bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		b.written.Broadcast()
	}
	return b.buf.Write(p)
}

// waitFor blocks until the log contains s.
func (b *lockedBuffer) waitFor(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written == nil {
		b.written = sync.NewCond(&b.mu)
	}
	for !strings.Contains(b.buf.String(), s) {
		b.written.Wait()
	}
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func debugLogger(sink io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type running struct {
	srv     *Server
	baseURL string
	cancel  context.CancelFunc
	done    chan error
}

// startServer serves on a real 127.0.0.1 listener until the test ends.
func startServer(t testing.TB, mcpServer *mcp.Server, opts Options) *running {
	t.Helper()
	s, err := New(func(*http.Request) *mcp.Server { return mcpServer }, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return serveOn(t, s)
}

func serveOn(t testing.TB, s *Server) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: s, baseURL: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return r
}

// newHTTPClient returns a client whose idle connections close at test end,
// so goleak sees no transport goroutines.
func newHTTPClient(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// connect opens a go-sdk client session against baseURL+"/mcp".
// ids, if not nil, gives every request a fresh X-Request-Id and records it.
func connect(t testing.TB, baseURL string, header http.Header, opts *mcp.ClientSessionOptions, ids *requestIDs) *mcp.ClientSession {
	t.Helper()
	hc := newHTTPClient(t)
	if header != nil || ids != nil {
		hc.Transport = headerTransport{header: header, ids: ids, next: hc.Transport}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "v0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:   baseURL + "/mcp",
		HTTPClient: hc,
		MaxRetries: -1,
	}, opts)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

type headerTransport struct {
	header http.Header
	ids    *requestIDs
	next   http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range h.header {
		r.Header[k] = vs
	}
	if h.ids != nil {
		r.Header.Set(RequestIDHeader, h.ids.next())
	}
	return h.next.RoundTrip(r)
}

type requestIDs struct {
	mu  sync.Mutex
	ids []string
}

func (r *requestIDs) next() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := fmt.Sprintf("test-%d", len(r.ids))
	r.ids = append(r.ids, id)
	return id
}

func (r *requestIDs) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// rpc is one raw JSON-RPC POST.
type rpc struct {
	body    string
	headers map[string]string
}

func (c rpc) do(t testing.TB, hc *http.Client, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range c.headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// readRPCResponse returns the JSON-RPC response in a JSON or SSE body.
func readRPCResponse(t testing.TB, resp *http.Response) rpcResponse {
	t.Helper()
	defer resp.Body.Close()
	var payloads []string
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				payloads = append(payloads, strings.TrimSpace(data))
			}
		}
	} else {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, string(b))
	}
	for _, p := range payloads {
		var r rpcResponse
		if json.Unmarshal([]byte(p), &r) == nil && len(r.ID) > 0 && (r.Result != nil || r.Error != nil) {
			return r
		}
	}
	t.Fatalf("no JSON-RPC response in %q (status %d)", payloads, resp.StatusCode)
	return rpcResponse{}
}

func get(t testing.TB, hc *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func callEcho(ctx context.Context, cs *mcp.ClientSession, text string) (string, error) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": text}})
	if err != nil {
		return "", err
	}
	if res.IsError {
		return "", fmt.Errorf("tool error: %v", res.Content)
	}
	var out echoOut
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", err
	}
	return out.Echo, nil
}
