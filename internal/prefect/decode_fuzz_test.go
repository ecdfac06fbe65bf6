package prefect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// bodyTransport answers every request with one canned response, without a
// network, so the fuzzer spends its time in our reading and decoding.
type bodyTransport struct {
	status int
	body   []byte
	header http.Header
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: b.status, Header: b.header, Request: r,
		Body: io.NopCloser(bytes.NewReader(b.body)), ContentLength: -1,
	}, nil
}

// FuzzDecodeFlowRuns feeds arbitrary bytes (and a status) as the answer to
// POST /flow_runs/filter: the client returns a value or a typed error, never
// panics, and never echoes its credential.
func FuzzDecodeFlowRuns(f *testing.F) {
	f.Add(200, []byte(`[{"id":"a","name":"n","state":{"type":"FAILED","name":"Failed"},"run_count":2,"start_time":"2026-11-26T07:40:14.301918Z"}]`))
	f.Add(200, []byte(`[{"id":1}]`))
	f.Add(200, []byte(`[{"start_time":"not a time"}]`))
	f.Add(200, []byte(`[{"parameters":{"a":[1,{"b":null}]},"empirical_policy":{"retries":-1}}]`))
	f.Add(200, []byte(`[`))
	f.Add(422, []byte(`{"exception_message":"Invalid request received.","exception_detail":[{"loc":["body","flows"],"msg":"extra","type":"extra_forbidden"}],"request_body":{}}`))
	f.Add(429, []byte(`{"detail":"rate limited pnu_fuzzcanary0123456789"}`))
	f.Add(503, []byte(`<html><title>503</title></html>`))
	const key = "pnu_fuzzcanary0123456789"
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		hc := &http.Client{Transport: bodyTransport{status: status, body: body, header: http.Header{"Retry-After": {"1"}}}}
		c, err := New(Config{BaseURL: "http://prefect.test/api", APIKey: key, MaxResponseBytes: 1 << 16, Retry: RetryPolicy{MaxAttempts: 1}}, hc)
		if err != nil {
			t.Fatal(err)
		}
		var runs []FlowRun
		err = c.Post(context.Background(), "/flow_runs/filter", map[string]any{"limit": 5}, &runs)
		if err == nil {
			if status < 200 || status > 299 {
				t.Fatalf("status %d accepted", status)
			}
			if _, err := json.Marshal(runs); err != nil {
				t.Fatalf("decoded runs do not encode: %v", err)
			}
			return
		}
		var apiErr *APIError
		var respErr *ResponseError
		if !errors.As(err, &apiErr) && !errors.As(err, &respErr) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if strings.Contains(err.Error(), key) {
			t.Fatalf("the API key is echoed: %v", err)
		}
		if apiErr != nil && len(apiErr.Detail) > maxDetailBytes {
			t.Fatalf("detail of %d bytes", len(apiErr.Detail))
		}
	})
}
