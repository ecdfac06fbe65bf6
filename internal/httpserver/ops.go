package httpserver

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// readyTimeout bounds one readiness check, below typical probe timeouts.
const readyTimeout = 3 * time.Second

// ReadyCacheTTL is how long a readiness result is reused: /readyz is
// unauthenticated and its check calls Prefect with the server's credentials,
// so however often it is hit, Prefect sees at most one check per TTL.
const ReadyCacheTTL = 5 * time.Second

// readyCache holds the last readiness result. Its mutex is held during a
// check, so concurrent probes share one upstream call.
type readyCache struct {
	mu    sync.Mutex
	valid bool
	at    time.Time
	err   error
}

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
		if reason, ok := s.checkReady(r.Context()); !ok {
			http.Error(w, "not ready: "+reason, http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

// checkReady runs Options.Ready at most once per ReadyCacheTTL and returns
// the public reason of a failure.
func (s *Server) checkReady(ctx context.Context) (reason string, ok bool) {
	c := &s.ready
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	if !c.valid || now.Sub(c.at) >= ReadyCacheTTL || now.Before(c.at) {
		// A probe that hangs up must not leave a cancelled result behind.
		checkCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.readyTimeout)
		err := s.opts.Ready(checkCtx)
		if err != nil {
			s.logger.WarnContext(ctx, "readiness check failed", "request_id", RequestIDFromContext(ctx), "error", err)
			err = errors.New(publicReason(checkCtx, err))
		}
		cancel()
		c.valid, c.at, c.err = true, now, err
	}
	if c.err != nil {
		return c.err.Error(), false
	}
	return "", true
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
