package prefect

import (
	"context"
	"net/http"
	"testing"
)

func TestWithoutRetries(t *testing.T) {
	srv, calls := scriptedServer(t, step{status: http.StatusServiceUnavailable, body: `{"exception_message":"Service Unavailable"}`})
	c := newTestClient(t, srv.URL+"/api", nil, nil)

	once := c.WithoutRetries()
	if err := once.Get(context.Background(), "/health", nil, nil); StatusOf(err) != http.StatusServiceUnavailable {
		t.Fatalf("WithoutRetries: err = %v, want a 503", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("WithoutRetries made %d attempts, want 1", n)
	}

	// The original keeps its policy: the copy must not share it.
	calls.Store(0)
	if err := c.Get(context.Background(), "/health", nil, nil); StatusOf(err) != http.StatusServiceUnavailable {
		t.Fatalf("original: err = %v, want a 503", err)
	}
	if n := calls.Load(); n != DefaultMaxAttempts {
		t.Fatalf("original made %d attempts, want %d", n, DefaultMaxAttempts)
	}
	if once.BaseURL() != c.BaseURL() {
		t.Fatalf("base URL changed: %q vs %q", once.BaseURL(), c.BaseURL())
	}
}
