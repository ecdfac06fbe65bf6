package httpserver

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// readyTimeout bounds one readiness check, below typical probe timeouts.
const readyTimeout = 3 * time.Second

func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// NotReadyError is an error from Options.Ready whose Reason may be shown to
// anyone who can reach /readyz. Other errors are only logged, since their
// text may name internal URLs.
type NotReadyError struct {
	Reason string
	Err    error
}

// NotReady wraps err with a reason that is safe to publish on /readyz.
func NotReady(reason string, err error) error { return &NotReadyError{Reason: reason, Err: err} }

func (e *NotReadyError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *NotReadyError) Unwrap() error { return e.Err }

func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.isDraining() {
		http.Error(w, "not ready: shutting down", http.StatusServiceUnavailable)
		return
	}
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.readyTimeout)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			s.logger.WarnContext(r.Context(), "readiness check failed", "request_id", RequestIDFromContext(r.Context()), "error", err)
			http.Error(w, "not ready: "+publicReason(ctx, err), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

func publicReason(ctx context.Context, err error) string {
	if nr, ok := errors.AsType[*NotReadyError](err); ok && nr.Reason != "" {
		return truncate(nr.Reason, 200)
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return "readiness check timed out"
	}
	return "readiness check failed"
}
