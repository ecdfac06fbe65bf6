package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

const maxUserAgentLen = 256

type requestInfoKey struct{}

// requestInfo is filled in by inner handlers and read by the access log.
type requestInfo struct {
	id        string
	mcpMethod string
	tool      string
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// RequestIDFromContext returns the id the access log uses for this request,
// so that deeper layers (tools, upstream calls) can log it too.
func RequestIDFromContext(ctx context.Context) string {
	if info := requestInfoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// requestID keeps a well-formed incoming id (so a proxy's id correlates) and
// otherwise generates one.
func requestID(incoming string) string {
	if validRequestID(incoming) {
		return incoming
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// observe assigns the request id, counts requests for /metrics and writes one
// access-log line per request. Only the fields below are logged; headers are
// not, so credentials in them never reach the log.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: requestID(r.Header.Get(RequestIDHeader))}
		w.Header().Set(RequestIDHeader, info.id)
		rec := &recordingWriter{ResponseWriter: w}

		s.metrics.httpInFlight.Inc()
		defer func() {
			s.metrics.httpInFlight.Dec()
			status := rec.statusCode()
			s.metrics.httpRequests.WithLabelValues(strconv.Itoa(status)).Inc()
			attrs := []slog.Attr{
				slog.String("request_id", info.id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote_addr", r.RemoteAddr),
				slog.String("user_agent", truncate(r.UserAgent(), maxUserAgentLen)),
			}
			if info.mcpMethod != "" {
				attrs = append(attrs, slog.String("mcp_method", info.mcpMethod))
			}
			if info.tool != "" {
				attrs = append(attrs, slog.String("tool", info.tool))
			}
			level := slog.LevelInfo
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
				level = slog.LevelDebug // probes would drown the log
			}
			s.logger.LogAttrs(r.Context(), level, "http request", attrs...)
		}()

		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

// recordingWriter records status and size; Unwrap lets
// http.ResponseController reach Flush and deadlines of the real writer.
type recordingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush supports callers that type-assert http.Flusher instead of using
// http.ResponseController.
func (w *recordingWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recordingWriter) statusCode() int {
	if w.status == 0 {
		// The handler wrote nothing: net/http sends 200.
		return http.StatusOK
	}
	return w.status
}
