package httpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestRoundTripGoSDKClient(t *testing.T) {
	tests := []struct {
		name          string
		stateless     bool
		clientVersion string
		wantVersion   string
	}{
		{"stateless latest", true, "", "2026-07-28"},
		{"stateless 2025-11-25", true, "2025-11-25", "2025-11-25"},
		{"stateless 2025-06-18", true, "2025-06-18", "2025-06-18"},
		{"stateless 2025-03-26", true, "2025-03-26", "2025-03-26"},
		// Stateful servers refuse the sessionless 2026 protocol; the client
		// falls back to the newest legacy revision.
		{"stateful latest", false, "", "2025-11-25"},
		{"stateful 2025-06-18", false, "2025-06-18", "2025-06-18"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := startServer(t, newMCPServer(nil), Options{Stateless: tc.stateless})
			cs := connect(t, r.baseURL, nil, &mcp.ClientSessionOptions{ProtocolVersion: tc.clientVersion}, nil)
			if got := cs.InitializeResult().ProtocolVersion; got != tc.wantVersion {
				t.Errorf("negotiated protocol version = %q, want %q", got, tc.wantVersion)
			}
			ctx := context.Background()
			tools, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("ListTools: %v", err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			if strings.Join(names, ",") != "echo,fail" {
				t.Errorf("tools = %v, want [echo fail]", names)
			}
			got, err := callEcho(ctx, cs, "hello")
			if err != nil || got != "hello" {
				t.Fatalf("echo = %q, %v; want hello", got, err)
			}
		})
	}
}

func TestRawProtocolRevisions(t *testing.T) {
	r := startServer(t, newMCPServer(nil), Options{Stateless: true})
	hc := newHTTPClient(t)
	url := r.baseURL + "/mcp"

	for _, version := range []string{"2025-03-26", "2025-06-18", "2025-11-25"} {
		t.Run(version, func(t *testing.T) {
			initialize := rpc{body: fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`, version)}
			resp := initialize.do(t, hc, url)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("initialize status = %d", resp.StatusCode)
			}
			var init struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			if err := json.Unmarshal(readRPCResponse(t, resp).Result, &init); err != nil || init.ProtocolVersion != version {
				t.Fatalf("initialize result version = %q (%v), want %q", init.ProtocolVersion, err, version)
			}
			list := rpc{
				body:    `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
				headers: map[string]string{"Mcp-Protocol-Version": version},
			}
			assertToolsListed(t, list.do(t, hc, url))
		})
	}

	t.Run("2026-07-28 sessionless", func(t *testing.T) {
		list := rpc{
			body: `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":{` +
				`"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
				`"io.modelcontextprotocol/clientInfo":{"name":"raw","version":"0"},` +
				`"io.modelcontextprotocol/clientCapabilities":{}}}}`,
			headers: map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"},
		}
		assertToolsListed(t, list.do(t, hc, url))

		call := rpc{
			body: `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{` +
				`"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
				`"io.modelcontextprotocol/clientCapabilities":{}}}}`,
			headers: map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"},
		}
		resp := call.do(t, hc, url)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("tools/call status = %d", resp.StatusCode)
		}
		if res := readRPCResponse(t, resp); res.Error != nil || !strings.Contains(string(res.Result), `"echo":"hi"`) {
			t.Fatalf("tools/call = %s / %+v", res.Result, res.Error)
		}
	})
}

func assertToolsListed(t *testing.T, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tools/list status = %d", resp.StatusCode)
	}
	res := readRPCResponse(t, resp)
	if res.Error != nil {
		t.Fatalf("tools/list error: %+v", res.Error)
	}
	var list struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(res.Result, &list); err != nil || len(list.Tools) != 2 || list.Tools[0].Name != "echo" {
		t.Fatalf("tools/list result = %s (%v)", res.Result, err)
	}
}

func TestConcurrentToolCalls(t *testing.T) {
	r := startServer(t, newMCPServer(nil), Options{Stateless: true})
	cs := connect(t, r.baseURL, nil, nil, nil)
	const calls = 200
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Go(func() {
			want := fmt.Sprintf("call-%d", i)
			got, err := callEcho(context.Background(), cs, want)
			if err == nil && got != want {
				err = fmt.Errorf("echo = %q, want %q", got, want)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			if failed <= 3 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d concurrent calls failed", failed, calls)
	}
}

func BenchmarkToolCallStateless(b *testing.B) {
	r := startServer(b, newMCPServer(nil), Options{Stateless: true})
	cs := connect(b, r.baseURL, nil, nil, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := callEcho(ctx, cs, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
