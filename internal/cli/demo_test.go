package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// demoSession starts the demo workspace as --demo does and connects an
// in-memory MCP client to a server offering every tool.
func demoSession(t *testing.T, logs *bytes.Buffer) (*mcp.ClientSession, *target.Target, func()) {
	t.Helper()
	spec, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tgt, stop, err := startDemo(target.Builder{HTTPClient: hc}, spec, clock, logger)
	if err != nil {
		t.Fatal(err)
	}
	deps := &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: clock, Logger: logger}
	s := server.New(server.Config{Version: "test", Deps: deps, Selection: tools.Selection{Kind: target.Demo, KindKnown: true}, Logger: logger})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "demo-test", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs, tgt, func() { _ = cs.Close(); _ = ss.Close(); stop() }
}

// TestDemoRecordsNoWrites calls every tool the demo offers and checks that
// stopping the demo reports no write (the check itself is proven below).
func TestDemoRecordsNoWrites(t *testing.T) {
	var logs bytes.Buffer
	cs, _, stop := demoSession(t, &logs)
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) < 20 {
		t.Fatalf("the demo offers only %d tools", len(list.Tools))
	}
	okCalls := 0
	for _, tool := range list.Tools {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool.Name, Arguments: map[string]any{}})
		if err != nil {
			t.Errorf("%s: protocol error: %v", tool.Name, err)
			continue
		}
		if !res.IsError {
			okCalls++
		}
	}
	stop()
	if strings.Contains(logs.String(), "write requests") {
		t.Fatalf("the demo recorded writes:\n%s", logs.String())
	}
	if okCalls < len(list.Tools)/2 {
		t.Fatalf("only %d of %d tools answered on the demo: the workspace was barely read", okCalls, len(list.Tools))
	}
}

// TestDemoReportsWrites proves the shutdown check: a write sent straight to
// the demo fake (bypassing the read-only client) is logged as an error.
func TestDemoReportsWrites(t *testing.T) {
	var logs bytes.Buffer
	_, tgt, stop := demoSession(t, &logs)
	resp, err := http.Post(tgt.APIURL+"/flows/", "application/json", strings.NewReader(`{"name":"sneaky"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop()
	if !strings.Contains(logs.String(), "write requests") || !strings.Contains(logs.String(), "POST /flows/") {
		t.Fatalf("a write to the demo was not reported:\n%s", logs.String())
	}
}

// TestDemoRetainsNothingPerCall: the demo runs as long as the user likes,
// so what it keeps must not grow with calls (it once logged every upstream
// request: 28 -> 116 MB over 6,000 get_dashboard calls, about 15 KB a call).
// The live heap after a full collection is compared before and after many
// calls; the bound is a fraction of what a per-call record would keep.
func TestDemoRetainsNothingPerCall(t *testing.T) {
	if testing.Short() {
		t.Skip("makes hundreds of calls")
	}
	var logs bytes.Buffer
	cs, _, stop := demoSession(t, &logs)
	defer stop()
	call := func(n int) {
		for i := range n {
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_dashboard", Arguments: map[string]any{}})
			if err != nil || res.IsError {
				t.Fatalf("call %d: %v %+v", i, err, res)
			}
		}
	}
	liveHeap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	call(50) // warm: the workspace, connection pools, caches
	before := liveHeap()
	const calls = 400
	call(calls)
	after := liveHeap()
	growth := int64(after) - int64(before)
	t.Logf("live heap %d -> %d KiB over %d calls (%+d bytes a call)", before>>10, after>>10, calls, growth/calls)
	if growth > calls*1024 {
		t.Fatalf("the demo retained %d bytes a call over %d calls", growth/calls, calls)
	}
}
