package tools_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// callBound is the deadline every faulted call must end within. Retries of
// the client stay inside DefaultMaxElapsed (30 s) and the backoffs here add up
// to a few seconds; a call that hangs shows up as a deadline error.
const callBound = 25 * time.Second

// swapResolver answers with whichever target is current, so a test can
// "fix the configuration" (DNS, TLS) between two calls of one session.
type swapResolver struct{ cur atomic.Pointer[target.Target] }

func (r *swapResolver) Resolve(context.Context, target.Request) (*target.Target, error) {
	return r.cur.Load(), nil
}

// faultEnv connects a session to apiURL through hc (its own TLS and timeout).
func faultEnv(t *testing.T, fake *prefecttest.Server, hc *http.Client, apiURL string) (*env, *swapResolver) {
	t.Helper()
	t.Cleanup(func() { noWrites(t, fake) })
	r := &swapResolver{}
	r.cur.Store(buildTarget(t, hc, apiURL))
	deps := &tools.Deps{Resolver: r, Spec: spec, Now: clockNow}
	return connect(t, fake, deps, tools.Selection{Kind: target.SelfHosted, KindKnown: true}), r
}

func buildTarget(t *testing.T, hc *http.Client, apiURL string) *target.Target {
	t.Helper()
	tgt, err := target.Builder{HTTPClient: hc, UserAgent: "prefect-mcp/test"}.Build(target.Credentials{APIURL: apiURL}, "")
	if err != nil {
		t.Fatal(err)
	}
	return tgt
}

func httpClient(t *testing.T, tlsOpts prefect.TLSOptions, timeout time.Duration) *http.Client {
	t.Helper()
	hc, err := prefect.NewHTTPClient(tlsOpts, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// callWithin calls a tool under a context deadline: a call that does not
// end in time fails the test instead of hanging it.
func (e *env) callWithin(t *testing.T, name string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callBound)
	defer cancel()
	res, err := e.session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("%s did not end within %s", name, callBound)
	}
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// matrix collects fault -> observed text for the closing report.
type matrix struct {
	mu   sync.Mutex
	rows []string
}

func (m *matrix) add(fault, text string) {
	if len(text) > 100 {
		text = text[:100]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, fmt.Sprintf("%-34s -> %s", fault, text))
}

// onceHook applies bad to the first n routed requests, then lets the fake
// answer normally.
func onceHook(n int64, bad func(w http.ResponseWriter, r *http.Request)) prefecttest.Option {
	var seen atomic.Int64
	return prefecttest.WithFaultHook(func(w http.ResponseWriter, r *http.Request) bool {
		if seen.Add(1) > n {
			return false
		}
		bad(w, r)
		return true
	})
}

// TestUpstreamFaultMatrix drives every class of upstream failure through a
// real tool call: the result is an isError text that says what to do, the
// call ends within its deadline, and the next call works once the fault is
// gone.
func TestUpstreamFaultMatrix(t *testing.T) {
	m := &matrix{}
	t.Cleanup(func() {
		for _, r := range m.rows {
			t.Log(r)
		}
	})
	const route = "POST /flows/filter"
	demo := prefecttest.WithData(prefecttest.Demo(now))

	// Sequential and first: it measures the process's allocations.
	t.Run("100 MiB body is cut at the cap", func(t *testing.T) {
		fake := prefecttest.New(demo, prefecttest.WithFault(prefecttest.Fault{Route: route, Times: 1, Kind: prefecttest.FaultHugeBody, Size: 100 << 20}))
		t.Cleanup(fake.Close)
		e, _ := faultEnv(t, fake, httpClient(t, prefect.TLSOptions{}, 10*time.Second), fake.URL)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		text, isErr := e.callWithin(t, "get_flows", nil)
		runtime.ReadMemStats(&after)
		grown := after.TotalAlloc - before.TotalAlloc
		t.Logf("allocated during the 100 MiB call: %.1f MiB", float64(grown)/(1<<20))
		if !isErr || !strings.Contains(text, "larger than this server accepts") || !strings.Contains(text, "narrow") {
			t.Fatalf("huge body: %s", text)
		}
		if grown > 64<<20 {
			t.Errorf("the call allocated %d MiB for a 100 MiB body: the body cap does not bound memory", grown>>20)
		}
		m.add("FaultHugeBody 100 MiB", text)
		if text, isErr := e.callWithin(t, "get_flows", nil); isErr {
			t.Fatalf("next call after the huge body: %s", text)
		}
	})

	cases := []struct {
		name    string
		opts    []prefecttest.Option
		fault   *prefecttest.Fault
		timeout time.Duration // client per-attempt timeout; 0 means 10 s
		wantErr bool
		want    []string
	}{
		{name: "429 Retry-After 1 (within budget)", fault: &prefecttest.Fault{Route: route, Times: 1, Status: 429, RetryAfter: "1"}},
		{name: "429 Retry-After 120 (over budget)", fault: &prefecttest.Fault{Route: route, Times: 1, Status: 429, RetryAfter: "120"},
			wantErr: true, want: []string{"rate limiting", "429", "retry after 2m0s"}},
		{name: "429 x2 without Retry-After", fault: &prefecttest.Fault{Route: route, Times: 2, Status: 429}},
		{name: "429 always, no Retry-After", fault: &prefecttest.Fault{Route: route, Status: 429},
			wantErr: true, want: []string{"rate limiting", "retry after a little while"}},
		{name: "502 x3 then success", fault: &prefecttest.Fault{Route: route, Times: 3, Status: 502, Body: "<html><title>502 Bad Gateway</title></html>"}},
		{name: "503 x3 then success", fault: &prefecttest.Fault{Route: route, Times: 3, Status: 503}},
		{name: "504 x3 then success", fault: &prefecttest.Fault{Route: route, Times: 3, Status: 504}},
		{name: "503 always", fault: &prefecttest.Fault{Route: route, Status: 503},
			wantErr: true, want: []string{"503", "transient", "retry"}},
		{name: "timeout (latency > 300ms)", timeout: 300 * time.Millisecond,
			opts: []prefecttest.Option{onceHook(1, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			})},
			wantErr: true, want: []string{"did not answer in time", "PREFECT_API_REQUEST_TIMEOUT"}},
		{name: "headers then stall", timeout: 300 * time.Millisecond, fault: &prefecttest.Fault{Route: route, Times: 1, Kind: prefecttest.FaultStall},
			wantErr: true, want: []string{"did not answer in time"}},
		{name: "truncated body once (retried)", fault: &prefecttest.Fault{Route: route, Times: 1, Kind: prefecttest.FaultTruncate}},
		{name: "truncated body always", fault: &prefecttest.Fault{Route: route, Kind: prefecttest.FaultTruncate},
			wantErr: true, want: []string{"connection", "Prefect API at"}},
		{name: "malformed JSON", opts: []prefecttest.Option{onceHook(1, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`[{"id": "0000", "name": oops}]`))
		})}, wantErr: true, want: []string{"could not be read", "malformed", "Retry"}},
		{name: "wrong JSON shape", opts: []prefecttest.Option{onceHook(1, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"detail": "not a list"}`))
		})}, wantErr: true, want: []string{"could not be read", "malformed"}},
		{name: "connection reset once (retried)", fault: &prefecttest.Fault{Route: route, Times: 1, Kind: prefecttest.FaultReset}},
		{name: "connection reset always", fault: &prefecttest.Fault{Route: route, Kind: prefecttest.FaultReset},
			wantErr: true, want: []string{"connection", "Prefect API at"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := append([]prefecttest.Option{demo}, tc.opts...)
			if tc.fault != nil {
				opts = append(opts, prefecttest.WithFault(*tc.fault))
			}
			fake := prefecttest.New(opts...)
			t.Cleanup(fake.Close)
			timeout := cmpOr(tc.timeout, 10*time.Second)
			e, _ := faultEnv(t, fake, httpClient(t, prefect.TLSOptions{}, timeout), fake.URL)
			text, isErr := e.callWithin(t, "get_flows", nil)
			m.add(tc.name, map[bool]string{true: text, false: "(retried) ok"}[isErr])
			if isErr != tc.wantErr {
				t.Fatalf("isError = %v, want %v: %s", isErr, tc.wantErr, text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("error text lacks %q: %s", w, text)
				}
			}
			if !tc.wantErr && !strings.Contains(text, "etl-pipeline") {
				t.Errorf("retried call returned no flows: %s", text)
			}
			fake.ClearFaults()
			if text, isErr := e.callWithin(t, "get_flows", nil); isErr || !strings.Contains(text, "etl-pipeline") {
				t.Fatalf("the call after the fault: %s", text)
			}
		})
	}

	t.Run("DNS failure", func(t *testing.T) {
		t.Parallel()
		fake := prefecttest.New(demo)
		t.Cleanup(fake.Close)
		hc := httpClient(t, prefect.TLSOptions{}, 10*time.Second)
		e, r := faultEnv(t, fake, hc, "http://prefect.nonexistent.invalid/api")
		text, isErr := e.callWithin(t, "get_flows", nil)
		m.add("DNS failure (nonexistent.invalid)", text)
		if !isErr || !strings.Contains(text, "does not resolve") || !strings.Contains(text, "PREFECT_API_URL") {
			t.Fatalf("DNS failure: %s", text)
		}
		r.cur.Store(buildTarget(t, hc, fake.URL))
		if text, isErr := e.callWithin(t, "get_flows", nil); isErr {
			t.Fatalf("after fixing the URL: %s", text)
		}
	})

	t.Run("TLS", func(t *testing.T) {
		t.Parallel()
		fake := prefecttest.NewHandler(demo)
		srv := httptest.NewTLSServer(fake.Handler())
		t.Cleanup(srv.Close)
		apiURL := srv.URL + "/api"
		e, r := faultEnv(t, fake, httpClient(t, prefect.TLSOptions{}, 10*time.Second), apiURL)
		text, isErr := e.callWithin(t, "get_flows", nil)
		m.add("TLS self-signed, not trusted", text)
		for _, w := range []string{"TLS", "certificate", "PREFECT_API_SSL_CERT_FILE", "PREFECT_API_TLS_INSECURE_SKIP_VERIFY"} {
			if !isErr || !strings.Contains(text, w) {
				t.Errorf("untrusted certificate: text lacks %q: %s", w, text)
			}
		}
		r.cur.Store(buildTarget(t, httpClient(t, prefect.TLSOptions{InsecureSkipVerify: true}, 10*time.Second), apiURL))
		if text, isErr := e.callWithin(t, "get_flows", nil); isErr || !strings.Contains(text, "etl-pipeline") {
			t.Fatalf("with InsecureSkipVerify: %s", text)
		}
		m.add("TLS InsecureSkipVerify", "ok")
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(caFile, block, 0o600); err != nil {
			t.Fatal(err)
		}
		r.cur.Store(buildTarget(t, httpClient(t, prefect.TLSOptions{CAFile: caFile}, 10*time.Second), apiURL))
		if text, isErr := e.callWithin(t, "get_flows", nil); isErr || !strings.Contains(text, "etl-pipeline") {
			t.Fatalf("with the CA file: %s", text)
		}
		m.add("TLS CA file from the server cert", "ok")
	})
}

func cmpOr[T comparable](v, fallback T) T {
	var zero T
	if v == zero {
		return fallback
	}
	return v
}
