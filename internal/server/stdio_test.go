package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"
)

type echoIn struct {
	Text string `json:"text"`
}

// TestStdioSurvivesMalformedLines: every malformed line gets a JSON-RPC
// error and the session keeps serving; the SDK alone would end it.
func TestStdioSurvivesMalformedLines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, version := range []string{"2025-03-26", "2025-06-18"} {
		t.Run(version, func(t *testing.T) {
			s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
			mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo:" + in.Text}}}, nil, nil
			})
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			done := make(chan error, 1)
			go func() { done <- runIO(context.Background(), s, inR, outW); outW.Close() }()
			lines := bufio.NewScanner(outR)
			lines.Buffer(nil, 1<<20)
			next := func() map[string]any {
				t.Helper()
				if !lines.Scan() {
					t.Fatalf("output ended: %v", lines.Err())
				}
				var m map[string]any
				if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
					t.Fatalf("output is not JSON: %q", lines.Text())
				}
				return m
			}
			send := func(line string) {
				t.Helper()
				if _, err := io.WriteString(inW, line+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + version + `","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
			if m := next(); m["id"] != 1.0 || m["result"] == nil {
				t.Fatalf("initialize: %v", m)
			}
			send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			bad := []struct{ line, code string }{
				{"not json", "-32700"},
				{`{"jsonrpc":"2.0","id":7,"method":"tools/call"`, "-32700"},
				{"\x00\x01", "-32700"},
				{`42`, "-32600"},
				{`{"jsonrpc":"1.0","id":8,"method":"ping"}`, "-32600"},
				{`{"id":{"a":1},"method":5}`, "-32600"},
				{`[]`, "-32600"},
				{`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}`, ""},
			}
			for _, b := range bad {
				send(b.line)
				m := next()
				errObj, _ := m["error"].(map[string]any)
				if b.code != "" && (errObj == nil || jsonNumber(errObj["code"]) != b.code) {
					t.Errorf("%.40q: got %v, want error %s", b.line, m, b.code)
				}
				if b.code == "" && errObj == nil && m["result"] == nil {
					t.Errorf("%.40q: got %v", b.line, m)
				}
			}
			send(`{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"echo","arguments":{"text":"still here"}}}`)
			if m := next(); m["id"] != 10.0 || !strings.Contains(lines.Text(), "echo:still here") {
				t.Fatalf("the call after malformed lines: %v", m)
			}
			inW.Close()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the session did not end at EOF")
			}
			for lines.Scan() {
			}
		})
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestReadLineLimit(t *testing.T) {
	br := bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", 100)+"\nok\n"), 16)
	if line, tooLong, err := readLine(br, 50); !tooLong || line != nil || err != nil {
		t.Fatalf("long line: %q %v %v", line, tooLong, err)
	}
	if line, tooLong, err := readLine(br, 50); tooLong || string(line) != "ok\n" || err != nil {
		t.Fatalf("next line: %q %v %v", line, tooLong, err)
	}
	if _, _, err := readLine(br, 50); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}
