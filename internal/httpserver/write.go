package httpserver

import (
	"net/http"
	"time"
)

// boundWrites gives each write of an answer at most timeout to be taken by
// the client. net/http's WriteTimeout cannot do this: it is one deadline per
// request, set when the request is read, which would cut a call answered
// late and every long-lived event stream. Without a bound, a client that
// sends a request and never reads (a zero TCP window) blocked the server's
// write forever, holding the connection, its goroutine and the answer.
// A failed write cancels the request's context in net/http, so the handler
// (and an event stream) ends, and the connection closes.
func boundWrites(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: timeout}
		// Also replaces the previous request's deadline on a keep-alive
		// connection, and bounds what net/http writes itself (100 Continue).
		dw.extend()
		next.ServeHTTP(dw, r)
		// net/http flushes the rest of the answer after the handler returns.
		dw.extend()
	})
}

// deadlineWriter moves the connection's write deadline before every write
// and flush. Writers without deadlines (httptest's recorder) are left as is.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (w *deadlineWriter) extend() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) }

func (w *deadlineWriter) WriteHeader(code int) {
	w.extend() // 1xx answers are written at once
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

// FlushError lets http.ResponseController flush through the deadline.
func (w *deadlineWriter) FlushError() error {
	w.extend()
	return w.rc.Flush()
}

// Flush serves callers that type-assert http.Flusher.
func (w *deadlineWriter) Flush() { _ = w.FlushError() }

func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
