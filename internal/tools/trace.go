package tools

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// startSpan opens a server span for one MCP request when tracing is on;
// otherwise it returns ctx and a span that records nothing.
func (d *Deps) startSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if d.Tracer == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return d.Tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
}

// endSpan records the outcome: the result's status, never its text.
func endSpan(span trace.Span, failed bool) {
	if !span.IsRecording() {
		return
	}
	status := "ok"
	if failed {
		status = "error"
		span.SetStatus(codes.Error, "error result")
	}
	span.SetAttributes(attribute.String("mcp.result.status", status))
	span.End()
}
