package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// boundBody bounds, for every route, how long a request may take to deliver
// its body, and makes an answer given without reading the whole body (401,
// 403, 413, /healthz) reach the client and the connection then close.
// Without it net/http waits, with no deadline, for the rest of the body
// before it sends the answer (to reuse the connection) and again before it
// closes: a client declaring Content-Length: 1000 and sending 4 bytes held
// its connection forever, before authentication. readBody lifts the deadline
// once an MCP body is complete, so long response streams are not cut.
func boundBody(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
		body := &eofReader{ReadCloser: r.Body}
		r.Body = body
		next.ServeHTTP(w, r)
		if !body.eof.Load() {
			lingeringClose(rc, body, min(timeout, maxLinger))
		}
	})
}

// Bounds of the lingering close: how long and how much of an unread body is
// discarded after the answer.
const (
	maxLinger      = 2 * time.Second
	maxLingerBytes = 16 << 20
)

// lingeringClose delivers an answer given before the body was read, then
// discards what the client is still sending, within bounds, before the
// connection closes. Closing with unread bytes in the receive buffer makes
// the kernel send RST, and the client, still writing, loses the answer in
// flight ("connection reset by peer" instead of a 413). nginx does the same
// (lingering_close).
func lingeringClose(rc *http.ResponseController, body io.Reader, linger time.Duration) {
	// Before the flush: writing the header may itself read up to 256 KiB of
	// the body (net/http's keep-alive check).
	_ = rc.SetReadDeadline(time.Now().Add(linger))
	_ = rc.Flush()
	_, err := io.CopyN(io.Discard, body, maxLingerBytes)
	if errors.Is(err, io.EOF) || errors.Is(err, http.ErrBodyReadAfterClose) {
		// The whole body arrived (net/http closes it only at its end), and
		// net/http now reads ahead for the next request: a deadline in the
		// past would fail that read and cancel the connection's context,
		// so the next request on it would arrive cancelled.
		_ = rc.SetReadDeadline(time.Time{})
		return
	}
	_ = rc.SetReadDeadline(time.Now())
}

// eofReader records whether the body was read to its end.
type eofReader struct {
	io.ReadCloser
	eof atomic.Bool
}

func (b *eofReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof.Store(true)
	}
	return n, err
}

// rejectDeclaredOversize answers 413 before authentication when the declared
// Content-Length already exceeds the limit, so nothing is read.
func rejectDeclaredOversize(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			http.Error(w, fmt.Sprintf("request body exceeds %d bytes", limit), http.StatusRequestEntityTooLarge)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads a POST body completely, within limit bytes and timeout, and
// hands the SDK an in-memory copy. Reading here (rather than letting the SDK
// stream it) gives a uniform 413 for chunked bodies, a read deadline that is
// lifted before a long response stream starts, and a cheap look at the
// JSON-RPC method for the access log.
func readBody(limit int64, timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		// Not every ResponseWriter supports deadlines; the limit still applies.
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		_ = rc.SetReadDeadline(time.Time{})
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, fmt.Sprintf("request body exceeds %d bytes", limit), http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "failed to read request body", http.StatusBadRequest)
			return
		}
		if info := requestInfoFrom(r.Context()); info != nil {
			info.mcpMethod, info.tool = peekJSONRPC(body)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// maxLoggedName bounds client-chosen strings copied into logs.
const maxLoggedName = 128

// peekJSONRPC returns the method of a single JSON-RPC message and, for
// tools/call, the tool name. Malformed input yields empty strings: the SDK
// answers it.
func peekJSONRPC(body []byte) (method, tool string) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return "batch", ""
	}
	var msg struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if err := json.Unmarshal(trimmed, &msg); err != nil {
		// params may legitimately be something other than an object with a
		// string name; retry for the method alone.
		var methodOnly struct {
			Method string `json:"method"`
		}
		if json.Unmarshal(trimmed, &methodOnly) != nil {
			return "", ""
		}
		return truncate(methodOnly.Method, maxLoggedName), ""
	}
	if msg.Method == "tools/call" {
		tool = truncate(msg.Params.Name, maxLoggedName)
	}
	return truncate(msg.Method, maxLoggedName), tool
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
