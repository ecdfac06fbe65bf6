package httpserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bigAnswer is far past loopback socket buffers (tcp_wmem's maximum is
// 4 MiB by default), so a client that never reads stalls the server's write.
const bigAnswer = 16 << 20

// newBigServer serves a tool whose answer is bigAnswer bytes; returned
// receives one value each time a call's handler has returned.
func newBigServer(returned chan<- struct{}) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "big", Description: "answers many bytes"},
		func(context.Context, *mcp.CallToolRequest, noInput) (*mcp.CallToolResult, echoOut, error) {
			defer func() { returned <- struct{}{} }()
			return nil, echoOut{Echo: strings.Repeat("x", bigAnswer)}, nil
		})
	return srv
}

// dialTinyWindow connects with a receive buffer set as small as the kernel
// allows before the handshake, so the window the server sees stays tiny.
func dialTinyWindow(addr string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = setReceiveBuffer(fd, 1024)
		}); err != nil {
			return err
		}
		return serr
	}}
	return d.Dial("tcp", addr)
}

// TestSlowReaderCannotHoldConnections reproduces a slow-reader attack: a
// client sends a tools/call whose answer is large, with a tiny receive
// window, and never reads. Without a write deadline the server's write
// blocked forever, holding the connection, its goroutine and the answer in
// memory. The call itself ends as soon as its handler returns (so a call
// slot is never held by a reader), the write fails at the write deadline,
// and the connection closes; a stateful session keeps serving its client.
func TestSlowReaderCannotHoldConnections(t *testing.T) {
	for _, stateless := range []bool{true, false} {
		t.Run(fmt.Sprintf("stateless=%v", stateless), func(t *testing.T) {
			returned := make(chan struct{}, 1)
			opts := slowLimits
			opts.Stateless = stateless
			opts.WriteTimeout = 300 * time.Millisecond
			logs := &lockedBuffer{}
			opts.Logger = debugLogger(logs)
			r := startServer(t, newBigServer(returned), opts)
			session := ""
			var cs *mcp.ClientSession
			if !stateless {
				cs = connect(t, r.baseURL, nil, nil, nil)
				session = "Mcp-Session-Id: " + cs.ID() + "\r\n"
			}

			conn, err := dialTinyWindow(strings.TrimPrefix(r.baseURL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"big","arguments":{}}}`
			raw := "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
				"Accept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2025-06-18\r\n" + session +
				fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
			if _, err := io.WriteString(conn, raw); err != nil {
				t.Fatal(err)
			}

			// Hang guards, not timing assertions: the server's bound is 300 ms.
			select {
			case <-returned:
			case <-time.After(clientWait):
				t.Fatal("the tool call did not return while its answer was being written")
			}
			// The access log line is written when the request's handler has ended.
			if !eventually(func() bool { return strings.Contains(logs.String(), `"tool":"big"`) }) {
				t.Fatal("the request was still being served: a client that never reads holds the connection")
			}
			// Now read: the server has closed, so the client sees the end
			// after less than the whole answer.
			if err := conn.SetReadDeadline(time.Now().Add(clientWait)); err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, conn)
			if err != nil && !isClosed(err) {
				t.Fatalf("after %d bytes: %v (the connection was not closed)", n, err)
			}
			if n >= bigAnswer {
				t.Errorf("read %d bytes, the whole answer: the write was not cut", n)
			}
			if cs != nil {
				if _, err := cs.ListTools(context.Background(), nil); err != nil {
					t.Fatalf("the session after the cut answer: %v", err)
				}
			}
		})
	}
}

// TestWriteDeadlineIsPerWrite: an answer that comes later than the write
// timeout, and a stream idle for longer than it, are still delivered; the
// bound applies to each write, not to the request.
func TestWriteDeadlineIsPerWrite(t *testing.T) {
	tt := &testTools{slowStarted: make(chan struct{}, 1), slowRelease: make(chan struct{})}
	const bound = 100 * time.Millisecond
	for _, stateless := range []bool{true, false} {
		t.Run(fmt.Sprintf("stateless=%v", stateless), func(t *testing.T) {
			r := startServer(t, newMCPServer(tt), Options{Stateless: stateless, WriteTimeout: bound})
			cs := connect(t, r.baseURL, nil, nil, nil)
			// Two keep-alive requests a bound apart: the first one's deadline
			// must not fail the second one's answer.
			if _, err := cs.ListTools(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * bound)
			if _, err := cs.ListTools(context.Background(), nil); err != nil {
				t.Fatalf("second request on the connection: %v", err)
			}
			done := make(chan error, 1)
			go func() {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{}})
				if err == nil && res.IsError {
					err = fmt.Errorf("tool error: %v", res.Content)
				}
				done <- err
			}()
			<-tt.slowStarted
			time.Sleep(3 * bound)
			tt.slowRelease <- struct{}{}
			if err := <-done; err != nil {
				t.Fatalf("an answer written later than the write timeout: %v", err)
			}
		})
	}
}
