package prefect

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry defaults: a few quick attempts that stay well inside a tool call.
const (
	DefaultMaxAttempts = 4
	DefaultMaxElapsed  = 30 * time.Second
	DefaultBaseDelay   = 500 * time.Millisecond
	DefaultMaxDelay    = 8 * time.Second
)

// RetryPolicy bounds retries of 429, 502, 503, 504 and reset connections.
// Zero fields take the defaults; MaxAttempts 1 disables retries.
type RetryPolicy struct {
	MaxAttempts int           // attempts in total, first included
	MaxElapsed  time.Duration // total time budget across attempts and waits
	BaseDelay   time.Duration // first backoff; doubles on each retry
	MaxDelay    time.Duration // cap on one backoff wait

	// Injectable for tests; nil means the real clock, timer and random jitter.
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = sleepContext
	}
	if p.Jitter == nil {
		p.Jitter = equalJitter
	}
	return p
}

// backoff is the wait before retry number n (1-based): BaseDelay·2^(n-1),
// capped at MaxDelay, then jittered.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return p.Jitter(min(d, p.MaxDelay))
}

// equalJitter waits between half and all of d so that clients retrying the
// same outage spread out, yet never retry immediately.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). Fractional seconds are accepted as Prefect's own client
// does. It reports false for a missing, malformed or absurd value.
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	const maxRetryAfter = 24 * time.Hour // anything beyond is a broken header
	if isDecimal(value) {
		seconds, err := strconv.ParseFloat(value, 64)
		if err != nil || seconds < 0 || seconds > maxRetryAfter.Seconds() {
			return 0, false
		}
		return time.Duration(seconds * float64(time.Second)), true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	wait := at.Sub(now)
	if wait > maxRetryAfter {
		return 0, false
	}
	return max(wait, 0), true
}

// isDecimal accepts "120" and "1.5" but not signs, exponents or hex.
func isDecimal(s string) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '.':
			dots++
		case s[i] < '0' || s[i] > '9':
			return false
		}
	}
	return dots <= 1 && s[0] != '.' && s[len(s)-1] != '.'
}
