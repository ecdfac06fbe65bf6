package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// exporter sends spans over OTLP: encoded as the OTLP protobuf messages
// (opentelemetry-proto, collector/trace/v1 and trace/v1), written field by
// field with protowire, and sent with net/http — to POST …/v1/traces
// (http/protobuf) or as a unary gRPC call to TraceService/Export over
// HTTP/2. The official exporters link gRPC and the generated collector
// packages even for HTTP (+9 MB binary, +4 MB idle memory here); this
// exporter needs neither.
type exporter struct {
	hc       *http.Client
	url      string
	grpc     bool
	gzip     bool
	headers  http.Header
	timeout  time.Duration
	protocol string
	// now and sleep are the clock of the retries (tests inject them).
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// gRPC path of the OTLP trace service.
const grpcExportPath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// maxExportResponse bounds what is read of a collector's answer.
const maxExportResponse = 64 << 10

// newExporter reads the standard OTEL_EXPORTER_OTLP_* variables (the
// traces-specific one winning over the general one): endpoint, headers,
// timeout, compression, insecure, certificate, client certificate and key.
func newExporter(lookup func(string) (string, bool), protocol string) (*exporter, error) {
	get := func(name string) string {
		if v, ok := lookup("OTEL_EXPORTER_OTLP_TRACES_" + name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		v, _ := lookup("OTEL_EXPORTER_OTLP_" + name)
		return strings.TrimSpace(v)
	}
	e := &exporter{grpc: protocol == "grpc", protocol: protocol, headers: http.Header{}, timeout: 10 * time.Second, now: time.Now, sleep: sleepCtx}
	endpoint, err := exportURL(lookup, e.grpc, strings.EqualFold(get("INSECURE"), "true"))
	if err != nil {
		return nil, err
	}
	e.url = endpoint
	if t := get("TIMEOUT"); t != "" {
		ms, err := strconv.Atoi(t)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_TIMEOUT %q: milliseconds, a positive integer", t)
		}
		e.timeout = time.Duration(ms) * time.Millisecond
	}
	switch c := get("COMPRESSION"); c {
	case "", "none":
	case "gzip":
		e.gzip = true
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_COMPRESSION %q: use gzip or none", c)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		v, _ := lookup(name)
		if err := parseHeaders(v, e.headers); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := get("CERTIFICATE"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_CERTIFICATE: %w", err)
		}
		tlsConfig.RootCAs = x509.NewCertPool()
		if !tlsConfig.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_CERTIFICATE %s holds no PEM certificate", ca)
		}
	}
	if cert, key := get("CLIENT_CERTIFICATE"), get("CLIENT_KEY"); cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE / _CLIENT_KEY: %w", err)
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	}
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("http.DefaultTransport is not an *http.Transport")
	}
	tr := base.Clone()
	tr.TLSClientConfig = tlsConfig
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 2, 2
	if e.grpc {
		// gRPC is HTTP/2 only: over TLS by ALPN, in clear text with prior
		// knowledge (h2c) for http:// endpoints.
		var p http.Protocols
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	}
	e.hc = &http.Client{Transport: tr, Timeout: e.timeout}
	return e, nil
}

// exportURL applies the specification's endpoint rules: the traces
// endpoint is used as is; the general one gets /v1/traces appended (HTTP);
// for gRPC only scheme and host count, and a bare host:port is TLS unless
// insecure is set.
func exportURL(lookup func(string) (string, bool), grpc, insecure bool) (string, error) {
	raw, signal := "", false
	if v, ok := lookup("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); ok && strings.TrimSpace(v) != "" {
		raw, signal = strings.TrimSpace(v), true
	} else if v, ok := lookup("OTEL_EXPORTER_OTLP_ENDPOINT"); ok && strings.TrimSpace(v) != "" {
		raw = strings.TrimSpace(v)
	}
	if grpc {
		if raw == "" {
			raw = "http://localhost:4317"
		}
		if !strings.Contains(raw, "://") {
			scheme := "https://"
			if insecure {
				scheme = "http://"
			}
			raw = scheme + raw
		}
	} else if raw == "" {
		raw, signal = "http://localhost:4318/v1/traces", true
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("the OTLP endpoint must be an http:// or https:// URL")
	}
	switch {
	case grpc:
		return u.Scheme + "://" + u.Host + grpcExportPath, nil
	case signal:
		return u.String(), nil
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	return u.String(), nil
}

// parseHeaders reads "k1=v1,k2=v2" with percent-encoded values.
func parseHeaders(s string, into http.Header) error {
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return errors.New("want key=value pairs separated by commas")
		}
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("header %s: %w", k, err)
		}
		into.Set(k, value)
	}
	return nil
}

func (e *exporter) Shutdown(context.Context) error {
	e.hc.CloseIdleConnections()
	return nil
}

func (e *exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	body := encodeRequest(spans)
	if e.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = buf.Bytes()
	}
	if e.grpc {
		frame := make([]byte, 5, 5+len(body))
		if e.gzip {
			frame[0] = 1
		}
		binary.BigEndian.PutUint32(frame[1:], uint32(len(body)))
		body = append(frame, body...)
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	stop, backoff := e.now().Add(e.timeout), retryInitial
	for attempt := 1; ; attempt++ {
		wait, err := e.send(ctx, body)
		if err == nil || wait < 0 || attempt == retryAttempts {
			return err
		}
		if wait == 0 { // no advice from the collector: exponential backoff with jitter
			wait = backoff/2 + rand.N(backoff/2)
			backoff = min(2*backoff, retryMax)
		}
		if e.now().Add(wait).After(stop) {
			return fmt.Errorf("%w (no retry in %v: past the export timeout)", err, wait)
		}
		if e.sleep(ctx, wait) != nil {
			return err
		}
	}
}

// Retries of one export (the OTLP specification, opentelemetry-proto
// docs/specification.md, "Failures" and "Throttling" for gRPC and HTTP):
// retryable answers are retried with exponential backoff, or after the
// collector's Retry-After / RetryInfo, within the export timeout. A
// collector that cannot be reached is not retried: a short stdio session
// would otherwise wait out the flush timeout at every exit.
const (
	retryAttempts = 5
	retryInitial  = time.Second
	retryMax      = 8 * time.Second
)

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send makes one export request. On failure wait says whether to retry:
// negative for never, zero for after a backoff, else after that long.
func (e *exporter) send(ctx context.Context, body []byte) (wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return -1, err
	}
	for k, v := range e.headers {
		req.Header[k] = v
	}
	if e.grpc {
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("Te", "trailers")
		if e.gzip {
			req.Header.Set("Grpc-Encoding", "gzip")
		}
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
		if e.gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return -1, fmt.Errorf("OTLP export: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxExportResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := fmt.Errorf("OTLP export: the collector answered HTTP %d", resp.StatusCode)
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return retryAfter(resp.Header.Get("Retry-After"), e.now()), err
		}
		return -1, err
	}
	if !e.grpc {
		return 0, nil
	}
	trailer := func(k string) string {
		if v := resp.Trailer.Get(k); v != "" {
			return v
		}
		return resp.Header.Get(k) // a trailers-only answer
	}
	status := trailer("Grpc-Status")
	if status == "0" {
		return 0, nil
	}
	err = fmt.Errorf("OTLP export: gRPC status %q: %s", status, trailer("Grpc-Message"))
	delay, hasInfo := grpcRetryDelay(trailer("Grpc-Status-Details-Bin"))
	switch status {
	case "1", "4", "10", "11", "14", "15": // CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS
		return delay, err
	case "8": // RESOURCE_EXHAUSTED: only when the collector says it will recover
		if hasInfo {
			return delay, err
		}
	}
	return -1, err
}

// maxRetryAfter bounds the collector's advice; the export timeout bounds it
// further.
const maxRetryAfter = time.Minute

// retryAfter reads an HTTP Retry-After (seconds or an HTTP date); zero when
// absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// grpcRetryDelay reads google.rpc.RetryInfo from a grpc-status-details-bin
// trailer: a base64 google.rpc.Status {details = 3: Any {type_url = 1,
// value = 2}}, RetryInfo {retry_delay = 1: Duration {seconds = 1, nanos =
// 2}}. ok reports whether RetryInfo was there.
func grpcRetryDelay(v string) (d time.Duration, ok bool) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
	if err != nil || len(raw) == 0 {
		return 0, false
	}
	for _, detail := range fields(raw, 3) {
		typeURL := fields(detail, 1)
		if len(typeURL) != 1 || string(typeURL[0]) != "type.googleapis.com/google.rpc.RetryInfo" {
			continue
		}
		var secs, nanos uint64
		for _, value := range fields(detail, 2) {
			for _, dur := range fields(value, 1) {
				secs, nanos = varintField(dur, 1), varintField(dur, 2)
			}
		}
		d = time.Duration(min(secs, uint64(maxRetryAfter/time.Second)))*time.Second + time.Duration(nanos%1e9)
		return min(d, maxRetryAfter), true
	}
	return 0, false
}

// fields returns the length-delimited values of field num in msg; nil when
// msg is malformed.
func fields(msg []byte, num protowire.Number) [][]byte {
	var out [][]byte
	if !eachField(msg, func(n protowire.Number, typ protowire.Type, value []byte) {
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(value)
			out = append(out, v)
		}
	}) {
		return nil
	}
	return out
}

// varintField is the last value of varint field num in msg, or 0.
func varintField(msg []byte, num protowire.Number) uint64 {
	var out uint64
	if !eachField(msg, func(n protowire.Number, typ protowire.Type, value []byte) {
		if n == num && typ == protowire.VarintType {
			out, _ = protowire.ConsumeVarint(value)
		}
	}) {
		return 0
	}
	return out
}

// eachField calls visit with each field of msg and its encoded value (tag
// removed); false when msg is malformed.
func eachField(msg []byte, visit func(n protowire.Number, typ protowire.Type, value []byte)) bool {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return false
		}
		msg = msg[l:]
		if l = protowire.ConsumeFieldValue(n, typ, msg); l < 0 {
			return false
		}
		visit(n, typ, msg[:l])
		msg = msg[l:]
	}
	return true
}

// The encoders below write the OTLP messages; field numbers are those of
// opentelemetry-proto (opentelemetry/proto/trace/v1/trace.proto,
// common/v1/common.proto, resource/v1/resource.proto).

// encodeRequest is an ExportTraceServiceRequest: ResourceSpans grouped by
// resource, then by instrumentation scope.
func encodeRequest(spans []sdktrace.ReadOnlySpan) []byte {
	type scopeKey struct {
		res   *resource.Resource
		scope instrumentation.Scope
	}
	var resources []*resource.Resource
	scopes := map[*resource.Resource][]instrumentation.Scope{}
	grouped := map[scopeKey][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		k := scopeKey{s.Resource(), s.InstrumentationScope()}
		if _, ok := scopes[k.res]; !ok {
			resources = append(resources, k.res)
			scopes[k.res] = nil
		}
		if _, ok := grouped[k]; !ok {
			scopes[k.res] = append(scopes[k.res], k.scope)
		}
		grouped[k] = append(grouped[k], s)
	}
	var req []byte
	for _, res := range resources {
		var rs []byte
		var r []byte
		if res != nil {
			for _, a := range res.Attributes() {
				r = appendMessage(r, 1, appendKeyValue(nil, a))
			}
		}
		rs = appendMessage(rs, 1, r)
		for _, sc := range scopes[res] {
			var ss, is []byte
			is = appendString(is, 1, sc.Name)
			is = appendString(is, 2, sc.Version)
			for _, a := range sc.Attributes.ToSlice() {
				is = appendMessage(is, 3, appendKeyValue(nil, a))
			}
			ss = appendMessage(ss, 1, is)
			for _, s := range grouped[scopeKey{res, sc}] {
				ss = appendMessage(ss, 2, encodeSpan(s))
			}
			ss = appendString(ss, 3, sc.SchemaURL)
			rs = appendMessage(rs, 2, ss)
		}
		if res != nil {
			rs = appendString(rs, 3, res.SchemaURL())
		}
		req = appendMessage(req, 1, rs)
	}
	return req
}

func encodeSpan(s sdktrace.ReadOnlySpan) []byte {
	var b []byte
	sc := s.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	b = appendBytes(b, 1, tid[:])
	b = appendBytes(b, 2, sid[:])
	b = appendString(b, 3, sc.TraceState().String())
	if p := s.Parent(); p.IsValid() {
		psid := p.SpanID()
		b = appendBytes(b, 4, psid[:])
	}
	b = appendString(b, 5, s.Name())
	b = appendVarint(b, 6, uint64(s.SpanKind())) // trace.SpanKind numbers OTLP's SpanKind
	b = protowire.AppendTag(b, 7, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(s.StartTime().UnixNano()))
	b = protowire.AppendTag(b, 8, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(s.EndTime().UnixNano()))
	for _, a := range s.Attributes() {
		b = appendMessage(b, 9, appendKeyValue(nil, a))
	}
	b = appendVarint(b, 10, uint64(s.DroppedAttributes()))
	for _, ev := range s.Events() {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.Fixed64Type)
		e = protowire.AppendFixed64(e, uint64(ev.Time.UnixNano()))
		e = appendString(e, 2, ev.Name)
		for _, a := range ev.Attributes {
			e = appendMessage(e, 3, appendKeyValue(nil, a))
		}
		e = appendVarint(e, 4, uint64(ev.DroppedAttributeCount))
		b = appendMessage(b, 11, e)
	}
	b = appendVarint(b, 12, uint64(s.DroppedEvents()))
	for _, l := range s.Links() {
		var e []byte
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		e = appendBytes(e, 1, ltid[:])
		e = appendBytes(e, 2, lsid[:])
		e = appendString(e, 3, l.SpanContext.TraceState().String())
		for _, a := range l.Attributes {
			e = appendMessage(e, 4, appendKeyValue(nil, a))
		}
		e = appendVarint(e, 5, uint64(l.DroppedAttributeCount))
		e = protowire.AppendTag(e, 6, protowire.Fixed32Type)
		e = protowire.AppendFixed32(e, uint32(l.SpanContext.TraceFlags()))
		b = appendMessage(b, 13, e)
	}
	b = appendVarint(b, 14, uint64(s.DroppedLinks()))
	var st []byte
	st = appendString(st, 2, s.Status().Description)
	switch s.Status().Code { // Go's codes order Error before Ok; OTLP's the reverse
	case codes.Ok:
		st = appendVarint(st, 3, 1)
	case codes.Error:
		st = appendVarint(st, 3, 2)
	}
	b = appendMessage(b, 15, st)
	b = protowire.AppendTag(b, 16, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, uint32(sc.TraceFlags()))
	return b
}

// appendKeyValue is a KeyValue {key = 1, value = 2}.
func appendKeyValue(b []byte, kv attribute.KeyValue) []byte {
	b = appendString(b, 1, string(kv.Key))
	return appendMessage(b, 2, appendAnyValue(nil, kv.Value))
}

// appendAnyValue is an AnyValue: string 1, bool 2, int 3, double 4, array 5.
func appendAnyValue(b []byte, v attribute.Value) []byte {
	array := func(n int, item func(i int) []byte) []byte {
		var arr []byte
		for i := range n {
			arr = appendMessage(arr, 1, item(i))
		}
		return appendMessage(b, 5, arr)
	}
	switch v.Type() {
	case attribute.BOOL:
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.AsInt64()))
	case attribute.FLOAT64:
		b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(v.AsFloat64()))
	case attribute.BOOLSLICE:
		s := v.AsBoolSlice()
		return array(len(s), func(i int) []byte { return appendAnyValue(nil, attribute.BoolValue(s[i])) })
	case attribute.INT64SLICE:
		s := v.AsInt64Slice()
		return array(len(s), func(i int) []byte { return appendAnyValue(nil, attribute.Int64Value(s[i])) })
	case attribute.FLOAT64SLICE:
		s := v.AsFloat64Slice()
		return array(len(s), func(i int) []byte { return appendAnyValue(nil, attribute.Float64Value(s[i])) })
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		return array(len(s), func(i int) []byte { return appendAnyValue(nil, attribute.StringValue(s[i])) })
	}
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	return protowire.AppendString(b, v.String())
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	return appendBytes(b, num, msg)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}
