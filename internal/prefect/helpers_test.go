package prefect

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock makes retry waits instant: Sleep advances Now and records the wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func clockStart() time.Time { return time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC) }

func newFakeClock() *fakeClock { return &fakeClock{now: clockStart()} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

func noJitter(d time.Duration) time.Duration { return d }

// newTestClient builds a Client with an instant, deterministic retry policy.
func newTestClient(t testing.TB, baseURL string, hc *http.Client, mutate func(*Config)) *Client {
	c, _ := newTestClientClock(t, baseURL, hc, mutate)
	return c
}

func newTestClientClock(t testing.TB, baseURL string, hc *http.Client, mutate func(*Config)) (*Client, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	cfg := Config{
		BaseURL:   baseURL,
		UserAgent: "prefect-mcp/test",
		Retry:     RetryPolicy{Now: clock.Now, Sleep: clock.Sleep, Jitter: noJitter},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if hc == nil {
		var err error
		if hc, err = NewHTTPClient(TLSOptions{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(cfg, hc)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, clock
}

// step is one scripted answer of scriptedServer.
type step struct {
	status int
	header http.Header
	body   string
}

// scriptedServer answers with steps in order, repeating the last one, and
// counts the requests it saw.
func scriptedServer(t testing.TB, steps ...step) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		s := steps[min(n, len(steps))-1]
		for k, v := range s.header {
			w.Header()[k] = v
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(s.status)
		fmt.Fprint(w, s.body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// assertNoSecrets fails if any credential appears in err's text.
func assertNoSecrets(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error text leaks a credential %q: %v", s, err)
		}
	}
}
