package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// spans are two spans of one trace (parent, child) with every kind of
// field the encoder writes.
func spans(t *testing.T) []sdktrace.ReadOnlySpan {
	t.Helper()
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	parentSC := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5}, TraceFlags: trace.FlagsSampled})
	childSC := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{6, 7}, TraceFlags: trace.FlagsSampled})
	res := resource.NewSchemaless(attribute.String("service.name", "prefect-mcp"))
	scope := instrumentation.Scope{Name: "scope", Version: "1.0"}
	stubs := tracetest.SpanStubs{
		{
			Name: "tools/call get_flows", SpanContext: parentSC, SpanKind: trace.SpanKindServer,
			StartTime: start, EndTime: start.Add(time.Second), Resource: res, InstrumentationScope: scope,
			Attributes: []attribute.KeyValue{
				attribute.String("s", "v"), attribute.Bool("b", true), attribute.Int("i", -7), attribute.Float64("f", 1.5),
				attribute.StringSlice("ss", []string{"a", "b"}), attribute.Int64Slice("is", []int64{1, 2}),
				attribute.BoolSlice("bs", []bool{true}), attribute.Float64Slice("fs", []float64{0.5}),
			},
			Events: []sdktrace.Event{{Name: "ev", Time: start, Attributes: []attribute.KeyValue{attribute.Int("n", 1)}}},
			Links:  []sdktrace.Link{{SpanContext: childSC, Attributes: []attribute.KeyValue{attribute.String("l", "x")}}},
			Status: sdktrace.Status{Code: codes.Error, Description: "error result"},
		},
		{
			Name: "GET /flow_runs/{id}", SpanContext: childSC, Parent: parentSC, SpanKind: trace.SpanKindClient,
			StartTime: start, EndTime: start.Add(time.Millisecond), Resource: res, InstrumentationScope: scope,
			Status: sdktrace.Status{Code: codes.Ok},
		},
	}
	return stubs.Snapshots()
}

// TestEncodeRoundTrip: what the encoder writes decodes with the official
// OTLP messages to the same spans.
func TestEncodeRoundTrip(t *testing.T) {
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(encodeRequest(spans(t)), &req); err != nil {
		t.Fatal(err)
	}
	if len(req.ResourceSpans) != 1 || len(req.ResourceSpans[0].ScopeSpans) != 1 {
		t.Fatalf("grouping: %v", &req)
	}
	rs := req.ResourceSpans[0]
	if a := rs.Resource.Attributes[0]; a.Key != "service.name" || a.Value.GetStringValue() != "prefect-mcp" {
		t.Errorf("resource %v", rs.Resource)
	}
	ss := rs.ScopeSpans[0]
	if ss.Scope.Name != "scope" || ss.Scope.Version != "1.0" || len(ss.Spans) != 2 {
		t.Fatalf("scope spans %v", ss)
	}
	p, c := ss.Spans[0], ss.Spans[1]
	if p.Name != "tools/call get_flows" || p.Kind != tracepb.Span_SPAN_KIND_SERVER || c.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("names and kinds: %v %v", p, c)
	}
	if !bytes.Equal(c.ParentSpanId, p.SpanId) || !bytes.Equal(c.TraceId, p.TraceId) || len(p.ParentSpanId) != 0 || len(p.TraceId) != 16 {
		t.Errorf("ids: %x %x %x", p.SpanId, c.ParentSpanId, c.TraceId)
	}
	if p.EndTimeUnixNano-p.StartTimeUnixNano != uint64(time.Second) || p.Flags != 1 {
		t.Errorf("times and flags: %v", p)
	}
	if p.Status.Code != tracepb.Status_STATUS_CODE_ERROR || p.Status.Message != "error result" || c.Status.Code != tracepb.Status_STATUS_CODE_OK {
		t.Errorf("status: %v %v", p.Status, c.Status)
	}
	got := map[string]string{}
	for _, a := range p.Attributes {
		got[a.Key] = a.Value.String()
	}
	for k, want := range map[string]string{"s": `string_value:"v"`, "b": "bool_value:true", "i": "int_value:-7", "f": "double_value:1.5"} {
		if got[k] != want {
			t.Errorf("attribute %s = %s, want %s", k, got[k], want)
		}
	}
	for _, a := range p.Attributes {
		if a.Key == "ss" && (len(a.Value.GetArrayValue().Values) != 2 || a.Value.GetArrayValue().Values[1].GetStringValue() != "b") {
			t.Errorf("string slice %v", a.Value)
		}
		if a.Key == "is" && a.Value.GetArrayValue().Values[1].GetIntValue() != 2 {
			t.Errorf("int slice %v", a.Value)
		}
	}
	if len(p.Events) != 1 || p.Events[0].Name != "ev" || p.Events[0].Attributes[0].Value.GetIntValue() != 1 {
		t.Errorf("events %v", p.Events)
	}
	if len(p.Links) != 1 || !bytes.Equal(p.Links[0].SpanId, c.SpanId) || p.Links[0].Attributes[0].Value.GetStringValue() != "x" {
		t.Errorf("links %v", p.Links)
	}
}

func TestExportURL(t *testing.T) {
	for _, c := range []struct {
		env      map[string]string
		grpc     bool
		insecure bool
		want     string
	}{
		{nil, false, false, "http://localhost:4318/v1/traces"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false, false, "http://c:4318/v1/traces"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c/otlp/"}, false, false, "https://c/otlp/v1/traces"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:1/custom"}, false, false, "http://t:1/custom"},
		{nil, true, false, "http://localhost:4317" + grpcExportPath},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4317/ignored"}, true, false, "https://c:4317" + grpcExportPath},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "c:4317"}, true, false, "https://c:4317" + grpcExportPath},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "c:4317"}, true, true, "http://c:4317" + grpcExportPath},
	} {
		got, err := exportURL(lookup(c.env), c.grpc, c.insecure)
		if err != nil || got != c.want {
			t.Errorf("%v grpc=%v: %s %v, want %s", c.env, c.grpc, got, err, c.want)
		}
	}
	if _, err := exportURL(lookup(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://c"}), false, false); err == nil {
		t.Error("ftp endpoint accepted")
	}
}

func TestExporterSettings(t *testing.T) {
	for _, c := range []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "abc"}, "TIMEOUT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "0"}, "TIMEOUT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, "COMPRESSION"},
		{map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, "HEADERS"},
		{map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"}, "CERTIFICATE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_CLIENT_KEY": "/nonexistent/key.pem"}, "CLIENT_KEY"},
	} {
		if _, err := newExporter(lookup(c.env), "http/protobuf"); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%v: %v, want an error naming %s", c.env, err, c.wantErr)
		}
	}
	e, err := newExporter(lookup(map[string]string{
		"OTEL_EXPORTER_OTLP_HEADERS": "a=1,b=x%20y", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "a=2", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2500",
	}), "http/protobuf")
	if err != nil {
		t.Fatal(err)
	}
	if e.headers.Get("a") != "2" || e.headers.Get("b") != "x y" || e.timeout != 2500*time.Millisecond {
		t.Errorf("headers %v, timeout %v", e.headers, e.timeout)
	}
}

// TestExportHTTPGzipAndHeaders: gzip and headers reach the collector; a
// collector error is an export error.
func TestExportHTTPGzipAndHeaders(t *testing.T) {
	var got coltracepb.ExportTraceServiceRequest
	var auth string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		data, _ := io.ReadAll(body)
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(data, &got) != nil {
			http.Error(w, "bad", 400)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	e, err := newExporter(lookup(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
		"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20tok"}), "http/protobuf")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ExportSpans(context.Background(), spans(t)); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer tok" || len(got.ResourceSpans) != 1 || len(got.ResourceSpans[0].ScopeSpans[0].Spans) != 2 {
		t.Errorf("auth %q, request %v", auth, &got)
	}
	status = http.StatusServiceUnavailable
	fakeClock(e)
	if err := e.ExportSpans(context.Background(), spans(t)); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("collector 503: %v", err)
	}
}

// TestExportGRPCStatus: a gRPC error status (in trailers or a
// trailers-only answer) is an export error; the frame carries the message.
func TestExportGRPCStatus(t *testing.T) {
	var frameLen uint32
	trailersOnly := false
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		if r.URL.Path != grpcExportPath || r.Header.Get("Content-Type") != "application/grpc" || len(data) < 5 {
			http.Error(w, "bad", 400)
			return
		}
		frameLen = binary.BigEndian.Uint32(data[1:5])
		if trailersOnly {
			w.Header().Set("Grpc-Status", "16")
			w.Header().Set("Grpc-Message", "unauthenticated")
			w.WriteHeader(200)
			return
		}
		w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
		w.WriteHeader(200)
		w.Header().Set("Grpc-Status", "14")
		w.Header().Set("Grpc-Message", "unavailable")
	}))
	srv.EnableHTTP2 = true
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	e, err := newExporter(lookup(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL}), "grpc")
	if err != nil {
		t.Fatal(err)
	}
	fakeClock(e)
	want := len(encodeRequest(spans(t)))
	if err := e.ExportSpans(context.Background(), spans(t)); err == nil || !strings.Contains(err.Error(), "unavailable") || int(frameLen) != want {
		t.Errorf("status 14: %v; frame %d bytes, want %d", err, frameLen, want)
	}
	trailersOnly = true
	fakeClock(e)
	if err := e.ExportSpans(context.Background(), spans(t)); err == nil || !strings.Contains(err.Error(), "unauthenticated") {
		t.Errorf("trailers-only 16: %v", err)
	}
}

// fakeClock makes e's retries wait on a clock of their own: a sleep moves
// it on at once and is recorded.
func fakeClock(e *exporter) *[]time.Duration {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var waits []time.Duration
	e.now = func() time.Time { return now }
	e.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		now = now.Add(d)
		return nil
	}
	return &waits
}

// retryInfo is a grpc-status-details-bin value: google.rpc.Status with
// one RetryInfo detail of secs seconds.
func retryInfo(secs int64) string {
	dur := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(secs))
	info := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), dur)
	var anyMsg []byte
	anyMsg = protowire.AppendBytes(protowire.AppendTag(anyMsg, 1, protowire.BytesType), []byte("type.googleapis.com/google.rpc.RetryInfo"))
	anyMsg = protowire.AppendBytes(protowire.AppendTag(anyMsg, 2, protowire.BytesType), info)
	st := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 8)
	st = protowire.AppendBytes(protowire.AppendTag(st, 3, protowire.BytesType), anyMsg)
	return base64.RawStdEncoding.EncodeToString(st)
}

// TestExportRetries: retryable answers (HTTP 429, 502, 503, 504; gRPC
// UNAVAILABLE and the like, RESOURCE_EXHAUSTED only with RetryInfo) are
// retried after the collector's advice or a backoff, within the export
// timeout; the others are not.
func TestExportRetries(t *testing.T) {
	type answer struct {
		status int
		header map[string]string // HTTP headers, or gRPC trailers
	}
	ok := answer{status: 200}
	grpcStatus := func(code, details string) answer {
		h := map[string]string{"Grpc-Status": code, "Grpc-Message": "nope"}
		if details != "" {
			h["Grpc-Status-Details-Bin"] = details
		}
		return answer{status: 200, header: h}
	}
	grpcOK := grpcStatus("0", "")
	for _, c := range []struct {
		name      string
		grpc      bool
		answers   []answer // the last one repeats
		wantErr   string
		waits     []time.Duration // exact waits; a zero is a backoff, checked for its range
		wantCalls int
	}{
		{name: "503 twice then accepted", answers: []answer{{status: 503}, {status: 503, header: map[string]string{"Retry-After": "3"}}, ok},
			waits: []time.Duration{0, 3 * time.Second}, wantCalls: 3},
		{name: "429, 502, 504 are retryable", answers: []answer{{status: 429}, {status: 502}, {status: 504}, ok},
			waits: []time.Duration{0, 0, 0}, wantCalls: 4},
		{name: "Retry-After as an HTTP date", answers: []answer{{status: 429, header: map[string]string{"Retry-After": "Thu, 26 Nov 2026 12:00:04 GMT"}}, ok},
			waits: []time.Duration{4 * time.Second}, wantCalls: 2},
		{name: "400 is not retried", answers: []answer{{status: 400}}, wantErr: "HTTP 400", wantCalls: 1},
		{name: "413 is not retried", answers: []answer{{status: 413}}, wantErr: "HTTP 413", wantCalls: 1},
		{name: "a wait past the export timeout is not made", answers: []answer{{status: 503, header: map[string]string{"Retry-After": "11"}}},
			wantErr: "past the export timeout", wantCalls: 1},
		{name: "a collector that keeps refusing: bounded by the timeout", answers: []answer{{status: 503, header: map[string]string{"Retry-After": "4"}}},
			waits: []time.Duration{4 * time.Second, 4 * time.Second}, wantErr: "HTTP 503", wantCalls: 3},
		{name: "gRPC UNAVAILABLE twice then OK", grpc: true, answers: []answer{grpcStatus("14", ""), grpcStatus("14", retryInfo(2)), grpcOK},
			waits: []time.Duration{0, 2 * time.Second}, wantCalls: 3},
		{name: "gRPC RESOURCE_EXHAUSTED with RetryInfo", grpc: true, answers: []answer{grpcStatus("8", retryInfo(1)), grpcOK},
			waits: []time.Duration{time.Second}, wantCalls: 2},
		{name: "gRPC RESOURCE_EXHAUSTED without RetryInfo", grpc: true, answers: []answer{grpcStatus("8", "")}, wantErr: `"8"`, wantCalls: 1},
		{name: "gRPC INVALID_ARGUMENT", grpc: true, answers: []answer{grpcStatus("3", "")}, wantErr: `"3"`, wantCalls: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				a := c.answers[min(calls, len(c.answers)-1)]
				calls++
				for k, v := range a.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(a.status)
			}))
			if c.grpc {
				srv.Config.Protocols = new(http.Protocols)
				srv.Config.Protocols.SetUnencryptedHTTP2(true)
			}
			srv.Start()
			defer srv.Close()
			protocol := map[bool]string{true: "grpc", false: "http/protobuf"}[c.grpc]
			e, err := newExporter(lookup(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_EXPORTER_OTLP_TIMEOUT": "10000"}), protocol)
			if err != nil {
				t.Fatal(err)
			}
			waits := fakeClock(e)
			err = e.ExportSpans(context.Background(), spans(t))
			if (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("error %v, want %q", err, c.wantErr)
			}
			if calls != c.wantCalls || len(*waits) != len(c.waits) {
				t.Fatalf("%d requests after waits %v; want %d requests after %d waits", calls, *waits, c.wantCalls, len(c.waits))
			}
			backoff := retryInitial
			for i, w := range c.waits {
				got := (*waits)[i]
				if w == 0 {
					if got < backoff/2 || got >= backoff {
						t.Errorf("backoff %d: %v, want in [%v, %v)", i, got, backoff/2, backoff)
					}
					backoff *= 2
					continue
				}
				if got != w {
					t.Errorf("wait %d: %v, want %v (the collector's advice)", i, got, w)
				}
			}
		})
	}
}

// TestExportRetriesAtMost: however often the collector asks, an export
// makes at most retryAttempts requests.
func TestExportRetriesAtMost(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls++
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	e, err := newExporter(lookup(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_EXPORTER_OTLP_TIMEOUT": "600000"}), "http/protobuf")
	if err != nil {
		t.Fatal(err)
	}
	fakeClock(e)
	if err := e.ExportSpans(context.Background(), spans(t)); err == nil || calls != retryAttempts {
		t.Errorf("%v after %d requests, want an error after %d", err, calls, retryAttempts)
	}
}

// TestGRPCRetryDelay: RetryInfo is found among other details; malformed
// or absent details are no advice.
func TestGRPCRetryDelay(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{retryInfo(5), 5 * time.Second, true},
		{retryInfo(5) + "==", 5 * time.Second, true}, // padded base64
		{retryInfo(3600), maxRetryAfter, true},
		{"", 0, false},
		{"!!!", 0, false},
		{base64.RawStdEncoding.EncodeToString([]byte{0x1a, 0xff}), 0, false}, // truncated detail
	} {
		if got, ok := grpcRetryDelay(c.in); got != c.want || ok != c.ok {
			t.Errorf("%q: %v %v, want %v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
