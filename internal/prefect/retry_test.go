package prefect

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRetries(t *testing.T) {
	const ok = `[{"id":"a"}]`
	retryAt := clockStart().Add(5 * time.Second).Format(http.TimeFormat)
	hdr := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	tests := []struct {
		name       string
		steps      []step
		policy     func(*RetryPolicy)
		wantCalls  int64
		wantSleeps []time.Duration
		wantStatus int // 0: success
		wantAfter  time.Duration
	}{
		{name: "429 with Retry-After seconds",
			steps:     []step{{status: 429, header: hdr("3")}, {status: 200, body: ok}},
			wantCalls: 2, wantSleeps: []time.Duration{3 * time.Second}},
		{name: "429 with fractional Retry-After",
			steps:     []step{{status: 429, header: hdr("0.25")}, {status: 200, body: ok}},
			wantCalls: 2, wantSleeps: []time.Duration{250 * time.Millisecond}},
		{name: "429 with Retry-After date",
			steps:     []step{{status: 429, header: hdr(retryAt)}, {status: 200, body: ok}},
			wantCalls: 2, wantSleeps: []time.Duration{5 * time.Second}},
		{name: "429 without Retry-After backs off",
			steps:     []step{{status: 429}, {status: 200, body: ok}},
			wantCalls: 2, wantSleeps: []time.Duration{DefaultBaseDelay}},
		{name: "429 with garbage Retry-After backs off",
			steps:     []step{{status: 429, header: hdr("soon")}, {status: 200, body: ok}},
			wantCalls: 2, wantSleeps: []time.Duration{DefaultBaseDelay}},
		{name: "502 503 504 burst then success",
			steps:     []step{{status: 502, body: "<html>bad gateway</html>"}, {status: 503}, {status: 504}, {status: 200, body: ok}},
			wantCalls: 4, wantSleeps: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{name: "attempts exhausted",
			steps:     []step{{status: 503, body: `{"exception_message":"Service Unavailable"}`}},
			wantCalls: DefaultMaxAttempts, wantSleeps: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second},
			wantStatus: 503},
		{name: "retry disabled",
			steps:  []step{{status: 503}},
			policy: func(p *RetryPolicy) { p.MaxAttempts = 1 }, wantCalls: 1, wantStatus: 503},
		{name: "Retry-After beyond the budget stops at once",
			steps:     []step{{status: 429, header: hdr("60")}, {status: 200, body: ok}},
			wantCalls: 1, wantStatus: 429, wantAfter: time.Minute},
		{name: "Retry-After date beyond the budget",
			steps:     []step{{status: 503, header: hdr(clockStart().Add(time.Hour).Format(http.TimeFormat))}},
			wantCalls: 1, wantStatus: 503, wantAfter: time.Hour},
		{name: "backoff beyond the budget",
			steps: []step{{status: 502}},
			policy: func(p *RetryPolicy) {
				p.MaxElapsed = time.Second
				p.BaseDelay = 400 * time.Millisecond
				p.MaxAttempts = 10
			},
			wantCalls: 2, wantSleeps: []time.Duration{400 * time.Millisecond}, wantStatus: 502},
		{name: "backoff is capped",
			steps:     []step{{status: 503}},
			policy:    func(p *RetryPolicy) { p.MaxAttempts = 5; p.BaseDelay = time.Second; p.MaxDelay = 2 * time.Second },
			wantCalls: 5, wantSleeps: []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}, wantStatus: 503},
	}
	for _, status := range []int{400, 401, 403, 404, 409, 422, 500} {
		tests = append(tests, struct {
			name       string
			steps      []step
			policy     func(*RetryPolicy)
			wantCalls  int64
			wantSleeps []time.Duration
			wantStatus int
			wantAfter  time.Duration
		}{name: http.StatusText(status) + " is not retried",
			steps:     []step{{status: status, header: hdr("1"), body: `{"detail":"no"}`}, {status: 200, body: ok}},
			wantCalls: 1, wantStatus: status, wantAfter: time.Second})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := scriptedServer(t, tt.steps...)
			c, clock := newTestClientClock(t, srv.URL+"/api", nil, func(cfg *Config) {
				if tt.policy != nil {
					tt.policy(&cfg.Retry)
				}
			})
			var runs []FlowRun
			err := c.Post(context.Background(), "/flow_runs/filter", nil, &runs)
			if calls.Load() != tt.wantCalls {
				t.Errorf("attempts = %d, want %d", calls.Load(), tt.wantCalls)
			}
			if got := clock.Sleeps(); !slices.Equal(got, tt.wantSleeps) {
				t.Errorf("waits = %v, want %v", got, tt.wantSleeps)
			}
			if tt.wantStatus == 0 {
				if err != nil || len(runs) != 1 {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("want *APIError, got %#v", err)
			}
			if apiErr.Status != tt.wantStatus || apiErr.RetryAfter != tt.wantAfter ||
				apiErr.Retryable != isRetryableStatus(tt.wantStatus) || apiErr.Method != "POST" || apiErr.Path != "/flow_runs/filter" {
				t.Fatalf("got %+v", apiErr)
			}
		})
	}
}

// TestRetryRespectsContextDeadline uses the real clock with a waiting-free
// Sleep: a deadline nearer than the requested wait ends the call at once.
func TestRetryRespectsContextDeadline(t *testing.T) {
	srv, calls := scriptedServer(t, step{status: 429, header: http.Header{"Retry-After": {"5"}}})
	var sleeps []time.Duration
	c := newTestClient(t, srv.URL+"/api", nil, func(cfg *Config) {
		cfg.Retry = RetryPolicy{Sleep: func(_ context.Context, d time.Duration) error {
			sleeps = append(sleeps, d)
			return nil
		}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := c.Get(ctx, "/health", nil, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.RetryAfter != 5*time.Second {
		t.Fatalf("want 429 with RetryAfter 5s, got %v", err)
	}
	if calls.Load() != 1 || len(sleeps) != 0 {
		t.Fatalf("retried past the deadline: %d calls, waits %v", calls.Load(), sleeps)
	}
}

func TestRetryStopsWhenSleepIsInterrupted(t *testing.T) {
	srv, calls := scriptedServer(t, step{status: 503})
	c := newTestClient(t, srv.URL+"/api", nil, func(cfg *Config) {
		cfg.Retry.Sleep = func(ctx context.Context, d time.Duration) error { return context.Canceled }
	})
	err := c.Get(context.Background(), "/health", nil, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 || calls.Load() != 1 {
		t.Fatalf("want the 503 after one attempt, got %v after %d", err, calls.Load())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := clockStart()
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"120", 2 * time.Minute, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Thursday, 26-Nov-26 08:00:30 GMT", 30 * time.Second, true}, // RFC 850
		{"Thu Nov 26 08:00:10 2026", 10 * time.Second, true},         // asctime
		{"", 0, false},
		{"-5", 0, false},
		{"+5", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"1.", 0, false},
		{".5", 0, false},
		{"1.2.3", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"99999999999999999999", 0, false},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), 0, false},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.value, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{"120", "1.5", "", "-1", "Thu, 26 Nov 2026 08:00:30 GMT", "1e309", "00000000000000000000.1"} {
		f.Add(seed)
	}
	now := clockStart()
	f.Fuzz(func(t *testing.T, value string) {
		d, ok := parseRetryAfter(value, now)
		if !ok && d != 0 {
			t.Fatalf("rejected %q but returned %v", value, d)
		}
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("parseRetryAfter(%q) = %v out of range", value, d)
		}
	})
}

func TestBackoffAndJitter(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Jitter: noJitter}.withDefaults()
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, p.backoff(n))
	}
	want := []time.Duration{100e6, 200e6, 400e6, 800e6, 1e9, 1e9}
	if !slices.Equal(got, want) {
		t.Fatalf("backoff = %v, want %v", got, want)
	}
	for range 1000 {
		if j := equalJitter(time.Second); j < 500*time.Millisecond || j > time.Second {
			t.Fatalf("equalJitter(1s) = %v, want within [0.5s, 1s]", j)
		}
	}
	if equalJitter(0) != 0 {
		t.Fatal("equalJitter(0) must be 0")
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := RetryPolicy{}.withDefaults()
	if p.MaxAttempts != 4 || p.MaxElapsed != 30*time.Second || p.Now == nil || p.Sleep == nil || p.Jitter == nil {
		t.Fatalf("defaults not applied: %+v", p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep ignored a canceled context: %v", err)
	}
	if err := p.Sleep(context.Background(), time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains((&APIError{Status: 429, RetryAfter: 3 * time.Second}).Error(), "retry after 3s") {
		t.Fatal("APIError text omits RetryAfter")
	}
}
