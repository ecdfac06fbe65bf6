package docsproxy_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy"
	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy/docstest"
)

func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func newClient(t *testing.T, url string, timeout time.Duration) *docsproxy.Client {
	t.Helper()
	c := docsproxy.New(url, &http.Client{}, timeout)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestLazyConnectAndSessionReuse(t *testing.T) {
	srv := docstest.New()
	defer srv.Close()
	c := newClient(t, srv.URL, 5*time.Second)
	if n := srv.Requests(); n != 0 {
		t.Fatalf("New sent %d requests; it must connect on first use", n)
	}
	ctx := context.Background()
	for i := range 3 {
		res, err := c.CallTool(ctx, "search_prefect", map[string]any{"query": "work pools", "top_k": 2})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := text(t, res); !strings.Contains(got, "https://docs.prefect.io/v3/concepts/work-pools#2") || res.IsError {
			t.Fatalf("call %d: %s", i, got)
		}
	}
	if n := srv.Count("initialize"); n != 1 {
		t.Errorf("%d initialize requests for 3 calls, want 1 (one session)", n)
	}
	if n := srv.Count("tools/call"); n != 3 {
		t.Errorf("%d tools/call requests, want 3", n)
	}
}

func TestReconnectsOnceWhenTheSessionBroke(t *testing.T) {
	srv := docstest.New()
	defer srv.Close()
	c := newClient(t, srv.URL, 5*time.Second)
	ctx := context.Background()
	if _, err := c.CallTool(ctx, "get_release_notes", map[string]any{"version": "latest"}); err != nil {
		t.Fatal(err)
	}
	srv.Restart() // the kept session is now unknown to the server
	res, err := c.CallTool(ctx, "get_release_notes", map[string]any{"version": "latest"})
	if err != nil {
		t.Fatalf("no reconnect after the server forgot the session: %v", err)
	}
	if !strings.Contains(text(t, res), docstest.LatestVersion) {
		t.Errorf("result = %s", text(t, res))
	}
	if n := srv.Count("initialize"); n != 2 {
		t.Errorf("%d initialize requests, want 2 (one reconnect)", n)
	}
}

func TestRemoteToolErrorPassesThrough(t *testing.T) {
	srv := docstest.New()
	defer srv.Close()
	c := newClient(t, srv.URL, 5*time.Second)
	res, err := c.CallTool(context.Background(), "get_release_notes", map[string]any{"version": "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(text(t, res), "1.0.0 was not found") {
		t.Errorf("result = %+v", res)
	}
}

func TestFailures(t *testing.T) {
	srv := docstest.New()
	defer srv.Close()
	tests := []struct {
		name    string
		url     string
		tool    string
		args    map[string]any
		timeout time.Duration
		want    []string
		check   func(*docsproxy.Error) bool
	}{
		{"unreachable", "http://127.0.0.1:1/mcp", "search_prefect", map[string]any{"query": "x"}, 5 * time.Second,
			[]string{"the Prefect docs server at http://127.0.0.1:1/mcp is unreachable", "--no-docs"},
			func(e *docsproxy.Error) bool { return !e.Refused && e.Timeout == 0 }},
		{"timeout", srv.URL, "search_prefect", map[string]any{"query": docstest.SlowQuery}, 300 * time.Millisecond,
			[]string{"did not answer within 300ms", "--no-docs"},
			func(e *docsproxy.Error) bool { return e.Timeout == 300*time.Millisecond }},
		{"unknown tool", srv.URL, "no_such_tool", nil, 5 * time.Second,
			[]string{"refused the call", "no_such_tool"},
			func(e *docsproxy.Error) bool { return e.Refused }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.url, tt.timeout)
			_, err := c.CallTool(context.Background(), tt.tool, tt.args)
			var de *docsproxy.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want a *docsproxy.Error", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !tt.check(de) {
				t.Errorf("wrong kind of error: %+v", de)
			}
			if de.Timeout > 0 {
				// The abandoned call is cancelled on the server too; wait
				// for that so closing the session does not wait for it.
				waitFor(t, func() bool { return srv.Count("notifications/cancelled") > 0 })
			}
		})
	}
}

func TestCallerCancellationIsNotATimeout(t *testing.T) {
	srv := docstest.New()
	defer srv.Close()
	c := newClient(t, srv.URL, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for srv.Count("tools/call") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	defer waitFor(t, func() bool { return srv.Count("notifications/cancelled") > 0 })
	_, err := c.CallTool(ctx, "search_prefect", map[string]any{"query": docstest.SlowQuery})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// waitFor polls cond until it holds; the test fails after 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
	}
}

func TestMessagesNeverShowURLSecrets(t *testing.T) {
	c := newClient(t, "http://user:hunter2@127.0.0.1:1/mcp?token=abc", 5*time.Second)
	_, err := c.CallTool(context.Background(), "search_prefect", map[string]any{"query": "x"})
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "abc") {
		t.Errorf("error = %v", err)
	}
	if !strings.Contains(err.Error(), "http://user:xxxxx@127.0.0.1:1/mcp") {
		t.Errorf("error does not name the server: %v", err)
	}
}
