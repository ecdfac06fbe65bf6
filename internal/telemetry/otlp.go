package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
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
	e := &exporter{grpc: protocol == "grpc", protocol: protocol, headers: http.Header{}, timeout: 10 * time.Second}
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return err
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
		return fmt.Errorf("OTLP export: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxExportResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("OTLP export: the collector answered HTTP %d", resp.StatusCode)
	}
	if e.grpc {
		status := resp.Trailer.Get("Grpc-Status")
		if status == "" {
			status = resp.Header.Get("Grpc-Status") // a trailers-only answer
		}
		if status != "0" {
			return fmt.Errorf("OTLP export: gRPC status %q: %s", status, resp.Trailer.Get("Grpc-Message")+resp.Header.Get("Grpc-Message"))
		}
	}
	return nil
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
