package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// TestStatefulSessionsBoundToToken: with --stateful and static bearer
// tokens, a session created with token A cannot be used, listened to or
// deleted with token B (403: the go-sdk binds a session to the TokenInfo.UserID
// it was created with), and stays usable with A.
func TestStatefulSessionsBoundToToken(t *testing.T) {
	const tokenA, tokenB = "session-token-aaaaaaaa", "session-token-bbbbbbbb"
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	t.Cleanup(func() { noWritesTo(t, fake) })
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte(tokenA+"\n"+tokenB+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := startHTTP(t, map[string]string{"PREFECT_API_URL": fake.URL}, "--stateful", "--auth-tokens-file", tokens)
	endpoint := base + "/mcp"

	c := mcp.NewClient(&mcp.Implementation{Name: "owner", Version: "1"}, nil)
	hc := &http.Client{Transport: headerTransport{map[string]string{"Authorization": "Bearer " + tokenA}}}
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	session := cs.ID()
	if session == "" {
		t.Fatal("no session id: is the server stateful?")
	}

	send := func(method, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, endpoint, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return resp.StatusCode, string(b)
	}
	call := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_flows","arguments":{}}}`
	for _, tc := range []struct{ method, body string }{{http.MethodPost, call}, {http.MethodGet, ""}, {http.MethodDelete, ""}} {
		if code, body := send(tc.method, tokenB, tc.body); code != http.StatusForbidden {
			t.Errorf("%s of A's session with token B: %d %s, want 403", tc.method, code, body)
		}
	}
	// The session survived B's DELETE and still serves A.
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_flows"})
	if err != nil || res.IsError {
		t.Fatalf("A's session after B's attempts: %v %v", err, res)
	}
	if code, body := send(http.MethodDelete, tokenA, ""); code >= 300 {
		t.Fatalf("A deleting its own session: %d %s", code, body)
	}
}
