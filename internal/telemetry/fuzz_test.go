package telemetry

import (
	"testing"
	"time"
)

// FuzzCollectorRetryAdvice: a collector's Retry-After and gRPC status
// details are bytes from the network; reading them never panics and never
// advises a wait beyond maxRetryAfter or below zero.
func FuzzCollectorRetryAdvice(f *testing.F) {
	f.Add(retryInfo(5), "120")
	f.Add(retryInfo(3600), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("CAEaAA", "-1")
	f.Add("", "")
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, details, after string) {
		if d, _ := grpcRetryDelay(details); d < 0 || d > maxRetryAfter {
			t.Errorf("grpcRetryDelay(%q) = %v", details, d)
		}
		if d := retryAfter(after, now); d < 0 || d > maxRetryAfter {
			t.Errorf("retryAfter(%q) = %v", after, d)
		}
	})
}
