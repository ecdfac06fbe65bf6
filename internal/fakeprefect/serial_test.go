package fakeprefect

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSerialServesOneAtATime checks WithSerial: concurrent requests are
// served one after another, and all of them are answered.
func TestSerialServesOneAtATime(t *testing.T) {
	var active, peak atomic.Int32
	s := NewHandler(WithData(Demo(largeNow)), WithSerial(time.Millisecond), WithIntercept(func(http.ResponseWriter, *http.Request, string) bool {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // widen the window in which an overlap would show
		active.Add(-1)
		return false
	}))
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Go(func() {
			codes[i], _ = post(t, s, "/flow_runs/filter", `{"limit":5}`)
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d: status %d", i, c)
		}
	}
	if p := peak.Load(); p != 1 {
		t.Fatalf("%d requests were in service at once, want 1", p)
	}
}

// TestSerialWaitEnds checks that a request waiting for its turn (or in its
// service time) ends when its client gives up or the server closes.
func TestSerialWaitEnds(t *testing.T) {
	s := NewHandler(WithData(Demo(largeNow)), WithSerial(time.Hour))
	serve := func(ctx context.Context) <-chan int {
		done := make(chan int, 1)
		go func() {
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/health", strings.NewReader(""))
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			done <- rec.Code
		}()
		return done
	}
	ctx, cancel := context.WithCancel(context.Background())
	inService := serve(context.Background()) // holds the turn for an hour
	waiting := serve(ctx)
	cancel()
	wait(t, waiting, "a cancelled request")
	s.Close()
	wait(t, inService, "a request in service when the server closed")
	wait(t, serve(context.Background()), "a request after close")
}

// wait fails the test if done stays open: the only bound here is a
// deadlock guard, not a timing assertion.
func wait(t *testing.T, done <-chan int, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s was still waiting after 30 s", what)
	}
}
