package prefect

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Observer reports each request (all its attempts together) as a trace span
// and, at debug level, a log line. Both carry the route template, never the
// concrete path, query, credentials or bodies.
type Observer struct {
	// Route names the route of a method and a path relative to the base URL
	// with its template ("/flow_runs/{id}"); it must not echo ids or names.
	Route func(method, path string) string
	// Logger receives one debug line per request; nil logs nothing.
	Logger *slog.Logger
}

// instrumentation is the OpenTelemetry scope of the request spans.
const instrumentation = "github.com/prefect-mcp/prefect-mcp/internal/prefect"

// observed is one request being observed.
type observed struct {
	o      *Observer
	route  string
	method string
	start  time.Time
	now    func() time.Time
	span   trace.Span // nil when the caller's span does not record
}

// start opens a child span when the caller's span records: the tracer comes
// from that span, so with tracing off nothing is set up and nothing is
// allocated here beyond the route lookup.
func (o *Observer) start(ctx context.Context, method, path string, now func() time.Time) (context.Context, observed) {
	if o == nil {
		return ctx, observed{}
	}
	parent := trace.SpanFromContext(ctx)
	logs := o.Logger != nil && o.Logger.Enabled(ctx, slog.LevelDebug)
	if !parent.IsRecording() && !logs {
		return ctx, observed{}
	}
	r := observed{o: o, method: method, route: "other", start: now(), now: now}
	if o.Route != nil {
		r.route = o.Route(method, path)
	}
	if parent.IsRecording() {
		ctx, r.span = parent.TracerProvider().Tracer(instrumentation).Start(ctx, method+" "+r.route,
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(
				attribute.String("http.request.method", method),
				attribute.String("url.template", r.route),
			))
	}
	return ctx, r
}

// end records the outcome of the last attempt and how many retries it took.
func (r observed) end(ctx context.Context, result attemptResult, retries int) {
	if r.o == nil {
		return
	}
	errType := errorType(result)
	if r.span != nil {
		attrs := []attribute.KeyValue{
			attribute.Int("http.response.body.size", result.bytes),
			attribute.Int("http.request.resend_count", retries),
		}
		if result.status != 0 {
			attrs = append(attrs, attribute.Int("http.response.status_code", result.status))
		}
		if errType != "" {
			attrs = append(attrs, attribute.String("error.type", errType))
			r.span.SetStatus(codes.Error, errType)
		}
		r.span.SetAttributes(attrs...)
		r.span.End()
	}
	if l := r.o.Logger; l != nil && l.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("method", r.method),
			slog.String("route", r.route),
			slog.Int("status", result.status),
			slog.Duration("latency", r.now().Sub(r.start)),
			slog.Int("bytes", result.bytes),
			slog.Int("retries", retries),
		}
		if errType != "" {
			attrs = append(attrs, slog.String("error", errType))
		}
		l.LogAttrs(ctx, slog.LevelDebug, "upstream request", attrs...)
	}
}

// errorType classifies a failure without its text, which may quote Prefect.
func errorType(result attemptResult) string {
	var transport *TransportError
	var refused *WriteRefusedError
	var budget *BudgetError
	switch {
	case result.err == nil:
		return ""
	case errors.As(result.err, &refused):
		return "write_refused"
	case errors.As(result.err, &budget):
		return "memory_budget"
	case errors.As(result.err, &transport):
		return string(transport.Kind)
	case errors.Is(result.err, ErrResponseTooLarge):
		return "response_too_large"
	case result.status >= 300:
		return strconv.Itoa(result.status)
	}
	return "malformed_response"
}
