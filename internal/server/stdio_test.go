package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
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

// eofSignal closes seen when the reader it wraps reports the end of input.
type eofSignal struct {
	r    io.Reader
	once sync.Once
	seen chan struct{}
}

func (e *eofSignal) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.once.Do(func() { close(e.seen) })
	}
	return n, err
}

// rawSession is an initialize followed by the given lines, then the end of
// input, as `printf '...' | prefect-mcp` sends them.
func rawSession(lines ...string) string {
	return strings.Join(append([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	}, lines...), "\n") + "\n"
}

// answers maps each response id in out to its line.
func answers(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			ID json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line is not JSON: %q", line)
		}
		got[string(m.ID)] = line
	}
	return got
}

// TestStdioAnswersRequestsBeforeEOF: a call still running when input ends
// is finished and answered before the server exits (the SDK alone cancels
// it and drops the answer). The tool only returns after the end of input
// has been read, so without the drain it is cancelled every time.
func TestStdioAnswersRequestsBeforeEOF(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	in := &eofSignal{r: strings.NewReader(rawSession(
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"text":"a"}}}`,
		`{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"slow","arguments":{"text":"b"}}}`,
	)), seen: make(chan struct{})}
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "slow"}, func(ctx context.Context, _ *mcp.CallToolRequest, in2 echoIn) (*mcp.CallToolResult, any, error) {
		<-in.seen
		select { // the SDK cancels a call in flight as soon as it sees the end of input
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done:" + in2.Text}}}, nil, nil
	})
	var out lockedBuffer
	if err := runIO(context.Background(), s, in, &out); err != nil && err != io.EOF {
		t.Fatalf("runIO: %v", err)
	}
	got := answers(t, out.String())
	if !strings.Contains(got["2"], "done:a") || !strings.Contains(got[`"three"`], "done:b") {
		t.Fatalf("calls in flight at the end of input were not answered:\n%s", out.String())
	}
}

// TestStdioDrainIsBounded: a request that is never answered does not keep
// the process alive past the drain limit, and the server still ends.
func TestStdioDrainIsBounded(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "stuck"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ echoIn) (*mcp.CallToolResult, any, error) {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	in := strings.NewReader(rawSession(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"stuck","arguments":{}}}`))
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- runIODrain(context.Background(), s, in, &out, 10*time.Millisecond) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not end after the drain limit")
	}
	if got := answers(t, out.String()); got["1"] == "" {
		t.Fatalf("initialize was not answered:\n%s", out.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
