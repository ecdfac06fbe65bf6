package httpserver

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Observer receives measurements from the tools layer. *Metrics implements
// it for HTTP serving; NopObserver serves stdio, where nothing is scraped.
type Observer interface {
	// ObserveToolCall records one tool call; failed covers isError results
	// and protocol errors alike.
	ObserveToolCall(tool string, failed bool, d time.Duration)
	// ObserveUpstream records one Prefect API request. endpoint must be a
	// route template ("POST /flow_runs/filter"), never a URL, so that tenant
	// ids stay out of labels; status 0 means no HTTP response (transport error).
	ObserveUpstream(endpoint string, status int, d time.Duration)
}

// NopObserver discards all observations.
type NopObserver struct{}

func (NopObserver) ObserveToolCall(string, bool, time.Duration) {}
func (NopObserver) ObserveUpstream(string, int, time.Duration)  {}

// Metrics holds the Prometheus collectors of one Server, in its own registry.
type Metrics struct {
	registry         *prometheus.Registry
	toolCalls        *prometheus.CounterVec
	toolDuration     *prometheus.HistogramVec
	upstreamRequests *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	httpInFlight     prometheus.Gauge
	httpRequests     *prometheus.CounterVec
	connectionsOpen  prometheus.Gauge
	connectionsMax   prometheus.Gauge
	streamsOpen      prometheus.Gauge
}

var _ Observer = (*Metrics)(nil)

// latencyBuckets spans fast cached answers to Prefect calls near the 60 s
// default request timeout.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// NewMetrics creates the collectors and a registry holding them plus the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prefect_mcp_tool_calls_total",
			Help: "MCP tool calls by tool and outcome (ok, error).",
		}, []string{"tool", "outcome"}),
		toolDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "prefect_mcp_tool_call_duration_seconds",
			Help:    "Duration of MCP tool calls.",
			Buckets: latencyBuckets,
		}, []string{"tool"}),
		upstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prefect_mcp_upstream_requests_total",
			Help: "Prefect API requests by route template and HTTP status (0: no response).",
		}, []string{"endpoint", "status"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "prefect_mcp_upstream_request_duration_seconds",
			Help:    "Duration of Prefect API requests by route template.",
			Buckets: latencyBuckets,
		}, []string{"endpoint"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "prefect_mcp_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prefect_mcp_http_requests_total",
			Help: "HTTP requests served, by status code.",
		}, []string{"code"}),
		connectionsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "prefect_mcp_http_connections_open",
			Help: "HTTP connections open.",
		}),
		connectionsMax: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "prefect_mcp_http_connections_max",
			Help: "Most HTTP connections open at once; at this many, new connections wait.",
		}),
		streamsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "prefect_mcp_http_event_streams_open",
			Help: "Long-lived MCP event streams open (stateful GET, subscriptions/listen).",
		}),
	}
	m.registry.MustRegister(
		m.toolCalls, m.toolDuration, m.upstreamRequests, m.upstreamDuration,
		m.httpInFlight, m.httpRequests, m.connectionsOpen, m.connectionsMax, m.streamsOpen,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registerer lets callers add their own collectors to this server's registry.
func (m *Metrics) Registerer() prometheus.Registerer { return m.registry }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveToolCall implements Observer.
func (m *Metrics) ObserveToolCall(tool string, failed bool, d time.Duration) {
	tool = toolLabel(tool)
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	m.toolCalls.WithLabelValues(tool, outcome).Inc()
	m.toolDuration.WithLabelValues(tool).Observe(d.Seconds())
}

// ObserveUpstream implements Observer.
func (m *Metrics) ObserveUpstream(endpoint string, status int, d time.Duration) {
	endpoint = truncate(endpoint, maxLoggedName)
	m.upstreamRequests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.upstreamDuration.WithLabelValues(endpoint).Observe(d.Seconds())
}

// MCPMiddleware times every tools/call and records it on m; results with
// isError count as failures. Install it with mcp.Server.AddReceivingMiddleware
// and do not also call ObserveToolCall for the same calls.
func (m *Metrics) MCPMiddleware() mcp.Middleware { return ToolCallMiddleware(m) }

// ToolCallMiddleware is MCPMiddleware for any Observer.
func ToolCallMiddleware(o Observer) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method != "tools/call" {
				return next(ctx, method, req)
			}
			start := time.Now()
			res, err := next(ctx, method, req)
			elapsed := time.Since(start)

			var name string
			if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && p != nil {
				name = p.Name
			}
			if isUnknownTool(err) {
				// Client-chosen names of tools that do not exist would make
				// label cardinality unbounded.
				name = unknownToolLabel
			}
			failed := err != nil
			if r, ok := res.(*mcp.CallToolResult); ok && r != nil && r.IsError {
				failed = true
			}
			o.ObserveToolCall(name, failed, elapsed)
			return res, err
		}
	}
}

const (
	unknownToolLabel = "unknown"
	invalidToolLabel = "invalid"
)

func isUnknownTool(err error) bool {
	werr, ok := errors.AsType[*jsonrpc.Error](err)
	return ok && werr.Code == jsonrpc.CodeInvalidParams && strings.HasPrefix(werr.Message, "unknown tool")
}

// toolLabel keeps MCP-conformant tool names (1-128 of A-Z a-z 0-9 _ - .) and
// replaces anything else, so no arbitrary string becomes a label value.
func toolLabel(name string) string {
	if name == unknownToolLabel {
		return name
	}
	if name == "" || len(name) > 128 {
		return invalidToolLabel
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return invalidToolLabel
		}
	}
	return name
}
