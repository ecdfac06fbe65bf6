// Package telemetry sets up OpenTelemetry tracing from the standard
// OTEL_EXPORTER_OTLP_* variables. It is off, and sets nothing up, unless an
// OTLP endpoint is configured.
package telemetry

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Scope is the instrumentation scope of the server's own spans.
const Scope = "github.com/prefect-mcp/prefect-mcp"

// Tracing is a running trace pipeline: spans are batched and exported over
// OTLP; Shutdown flushes what is left.
type Tracing struct {
	tp       *sdktrace.TracerProvider
	protocol string
}

// Enabled reports whether the environment asks for trace export: an OTLP
// endpoint is set, the SDK is not disabled and the traces exporter is otlp.
func Enabled(lookup func(string) (string, bool)) bool {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	if e := get("OTEL_TRACES_EXPORTER"); e != "" && e != "otlp" {
		return false
	}
	return get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || get("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// Protocol is the OTLP protocol the environment selects: the traces-specific
// variable, then the general one, then the specification's default.
func Protocol(lookup func(string) (string, bool)) string {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return "http/protobuf"
}

// Start returns nil, and starts nothing, when Enabled is false. Otherwise
// it builds the OTLP exporter for the selected protocol from the standard
// variables (endpoint, headers, TLS, timeout, compression). Connections are
// made lazily, on first export.
func Start(ctx context.Context, lookup func(string) (string, bool), version string) (*Tracing, error) {
	if !Enabled(lookup) {
		return nil, nil
	}
	protocol := Protocol(lookup)
	if protocol != "http/protobuf" && protocol != "grpc" {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported: use http/protobuf or grpc", protocol)
	}
	exp, err := newExporter(lookup, protocol)
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry OTLP exporter: %w", err)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "prefect-mcp"), attribute.String("service.version", version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	// The batcher's queue is bounded (2048 spans; more are dropped).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{tp: tp, protocol: protocol}, nil
}

// Tracer is the server's tracer; nil when t is nil (tracing off).
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return nil
	}
	return t.tp.Tracer(Scope)
}

// Protocol is the OTLP protocol in use.
func (t *Tracing) Protocol() string { return t.protocol }

// Shutdown exports the spans still queued and stops the pipeline.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}
