package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// slowUpstream blocks chosen upstream reads until the caller gives up and
// reports each request it saw cancelled.
type slowUpstream struct {
	block     atomic.Bool
	started   chan struct{}
	cancelled chan struct{}
}

func newSlowUpstream() *slowUpstream {
	return &slowUpstream{started: make(chan struct{}, 64), cancelled: make(chan struct{}, 64)}
}

func (s *slowUpstream) hook(w http.ResponseWriter, r *http.Request) bool {
	if !s.block.Load() || !strings.HasSuffix(r.URL.Path, "/flows/filter") {
		return false
	}
	s.started <- struct{}{}
	select {
	case <-r.Context().Done():
		s.cancelled <- struct{}{}
	case <-time.After(20 * time.Second):
		http.Error(w, "the slow request was never cancelled", http.StatusGatewayTimeout)
	}
	return true
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// rpcClient speaks raw JSON-RPC over Streamable HTTP (stateless server).
type rpcClient struct {
	endpoint string
	hc       *http.Client
	version  string // Mcp-Protocol-Version; empty means 2025-06-18
}

func (c rpcClient) post(ctx context.Context, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", cmpOr(c.version, "2025-06-18"))
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func toolCall(id int, name string, args any) []byte {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call",
		"params": map[string]any{"name": name, "arguments": args}})
	return b
}

// callWorks asserts a normal call still succeeds.
func (c rpcClient) callWorks(t *testing.T, when string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	status, body, err := c.post(ctx, toolCall(99, "get_flows", map[string]any{}))
	if err != nil || status != http.StatusOK || !strings.Contains(body, "etl-pipeline") || strings.Contains(body, `"isError":true`) {
		t.Fatalf("%s: a normal call failed: %d %v %.300s", when, status, err, body)
	}
}

// TestHTTPClientMisbehaviour: disconnects mid-call, floods, garbage, deep
// nesting and oversized bodies never stop the server from serving.
func TestHTTPClientMisbehaviour(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	slow := newSlowUpstream()
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)), prefecttest.WithFaultHook(slow.hook))
	defer fake.Close()
	t.Cleanup(func() { noWritesTo(t, fake) })
	base, stop := serveDebug(t, map[string]string{"PREFECT_API_URL": fake.URL}, freePort(t), "--log-level", "error")
	defer stop()
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	defer transport.CloseIdleConnections()
	c := rpcClient{endpoint: base + "/mcp", hc: &http.Client{Transport: transport}}
	c.callWorks(t, "at start")

	// The SDK propagates a disconnect itself only for 2026-07-28 clients;
	// httpserver.CancelWithRequest covers the versions clients use today.
	for _, version := range []string{"2025-03-26", "2025-06-18", "2025-11-25"} {
		t.Run("client disconnects mid-call: the upstream request is cancelled ("+version+")", func(t *testing.T) {
			slow.block.Store(true)
			defer slow.block.Store(false)
			vc := rpcClient{endpoint: c.endpoint, hc: c.hc, version: version}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, _, err := vc.post(ctx, toolCall(1, "get_flows", map[string]any{}))
				done <- err
			}()
			waitFor(t, slow.started, "the upstream request to start")
			cancel()
			if err := <-done; err == nil {
				t.Fatal("the cancelled client request succeeded")
			}
			waitFor(t, slow.cancelled, "the upstream request to be cancelled after the client left")
			slow.block.Store(false)
			vc.callWorks(t, "after a disconnect")
		})
	}

	t.Run("flood of 300 concurrent calls", func(t *testing.T) {
		var wg sync.WaitGroup
		var ok, refused, failed atomic.Int64
		var firstErr sync.Once
		for i := range 300 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				status, body, err := c.post(ctx, toolCall(i, []string{"get_flows", "get_flow_runs", "get_work_pools"}[i%3], map[string]any{}))
				switch {
				case err == nil && status == http.StatusOK && !strings.Contains(body, `"isError":true`):
					ok.Add(1)
				case err == nil && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable):
					refused.Add(1) // shedding load is acceptable, hanging is not
				default:
					failed.Add(1)
					firstErr.Do(func() { t.Errorf("flood call: %d %v %.200s", status, err, body) })
				}
			}()
		}
		wg.Wait()
		t.Logf("flood: %d ok, %d refused, %d failed", ok.Load(), refused.Load(), failed.Load())
		if ok.Load() == 0 {
			t.Fatal("no call of the flood succeeded")
		}
		c.callWorks(t, "after the flood")
	})

	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	deepArray := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	hostile := []struct {
		name   string
		body   string
		status []int // acceptable statuses
	}{
		{"garbage bytes", "\x00\xff\xfe garbage \x01", []int{400}},
		{"not JSON-RPC", `{"hello":"world"}`, []int{400}},
		{"truncated JSON", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_flows"`, []int{400}},
		{"wrong types", `{"jsonrpc":"2.0","id":{"x":1},"method":42,"params":"nope"}`, []int{400}},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"tools/destroy","params":{}}`, []int{200, 400}},
		{"unknown tool", string(toolCall(1, "delete_everything", map[string]any{})), []int{200, 400}},
		{"batch", `[` + string(toolCall(1, "get_flows", nil)) + `,` + string(toolCall(2, "get_flows", nil)) + `]`, []int{200, 400}},
		{"10k-deep object arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_flow_runs","arguments":{"filter":` + deep + `}}}`, []int{200, 400}},
		{"10k-deep array arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_flow_runs","arguments":{"filter":` + deepArray + `}}}`, []int{200, 400}},
		{"10k-deep params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":` + deep + `}`, []int{200, 400}},
		{"huge argument over the body limit", string(toolCall(1, "get_flows", map[string]any{"name": strings.Repeat("x", 2<<20)})), []int{413}},
	}
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			status, body, err := c.post(ctx, []byte(h.body))
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			accepted := false
			for _, s := range h.status {
				accepted = accepted || s == status
			}
			if !accepted {
				t.Errorf("status %d, want one of %v: %.200s", status, h.status, body)
			}
			if status == http.StatusOK && !strings.Contains(body, `"error"`) && !strings.Contains(body, `"isError":true`) {
				t.Errorf("hostile input was served as a success: %.300s", body)
			}
			t.Logf("%d %.120s", status, strings.TrimSpace(body))
			c.callWorks(t, "after "+h.name)
		})
	}
	stop()
	transport.CloseIdleConnections()
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// TestStdioClientMisbehaviour drives the built binary over raw stdio: a
// cancelled in-flight call, garbage lines, then a normal call still works.
func TestStdioClientMisbehaviour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	slow := newSlowUpstream()
	slow.block.Store(true)
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)), prefecttest.WithFaultHook(slow.hook))
	defer fake.Close()
	t.Cleanup(func() { noWritesTo(t, fake) })
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--no-docs", "--log-level", "debug")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PREFECT_API_URL=" + fake.URL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	responses := make(chan map[string]any, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var msg map[string]any
			if json.Unmarshal(sc.Bytes(), &msg) == nil {
				responses <- msg
			}
		}
		close(responses)
	}()
	send := func(line string) {
		t.Helper()
		if _, err := io.WriteString(stdin, line+"\n"); err != nil {
			t.Fatalf("write %q: %v (stderr: %s)", line, err, stderr.String())
		}
	}
	await := func(id float64) map[string]any {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case msg, ok := <-responses:
				if !ok {
					t.Fatalf("the server closed stdout waiting for id %v; stderr:\n%s", id, stderr.String())
				}
				if msg["id"] == id {
					return msg
				}
				t.Logf("other message: %v", msg)
			case <-timeout:
				t.Fatalf("no response to id %v", id)
			}
		}
	}

	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	await(1)
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(string(toolCall(2, "get_flows", map[string]any{})))
	waitFor(t, slow.started, "the slow upstream request")
	send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"user gave up"}}`)
	waitFor(t, slow.cancelled, "the upstream request to be cancelled by notifications/cancelled")
	slow.block.Store(false)

	for _, garbage := range []string{
		"this is not json",
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_flows"`,
		`{"jsonrpc":"2.0","id":4,"method":"no/such/method"}`,
		`[]`,
		"\x00\x01\x02",
	} {
		send(garbage)
	}
	send(string(toolCall(5, "get_flows", map[string]any{})))
	res := await(5)
	result, _ := res["result"].(map[string]any)
	if result == nil || result["isError"] == true || !strings.Contains(fmt.Sprint(result["content"]), "etl-pipeline") {
		t.Fatalf("the call after cancellation and garbage: %v\nstderr:\n%s", res, stderr.String())
	}
}
