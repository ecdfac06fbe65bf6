package tools

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// grantedNow reports whether tenant gets a slot without waiting: acquire grants a
// free slot before it looks at the (already cancelled) context.
func grantedNow(s *Slots, tenant string) (func(), bool) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	release, err := s.acquire(ctx, tenant)
	return release, err == nil
}

func (s *Slots) waiters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting)
}

func waitForWaiters(t *testing.T, s *Slots, n int) {
	t.Helper()
	// A hang guard, not a timing assertion: waiters queue at once.
	for end := time.Now().Add(30 * time.Second); s.waiters() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d calls wait for a slot, want %d", s.waiters(), n)
		}
	}
}

func TestSlotsFairShare(t *testing.T) {
	for _, tc := range []struct{ capacity, perTenant int }{{1, 1}, {2, 1}, {3, 2}, {64, 32}, {0, 1}} {
		if got := NewSlots(tc.capacity).PerTenant(); got != tc.perTenant {
			t.Errorf("NewSlots(%d).PerTenant() = %d, want %d", tc.capacity, got, tc.perTenant)
		}
	}

	s := NewSlots(4)
	var held []func()
	for range 2 {
		r, ok := grantedNow(s, "A")
		if !ok {
			t.Fatal("A's first two calls must get slots")
		}
		held = append(held, r)
	}
	if _, ok := grantedNow(s, "A"); ok {
		t.Fatal("A got a third of four slots")
	}
	rb, ok := grantedNow(s, "B")
	if !ok {
		t.Fatal("B found no slot while A held its share")
	}

	// A and C queue; when a slot frees, C (holding none) goes before A.
	order := make(chan string, 2)
	var wg sync.WaitGroup
	rc, ok := grantedNow(s, "C")
	if !ok {
		t.Fatal("C found no slot")
	}
	wg.Go(func() { // A waits first
		r, err := s.acquire(context.Background(), "A")
		if err == nil {
			order <- "A"
			r()
		}
	})
	waitForWaiters(t, s, 1)
	wg.Go(func() {
		r, err := s.acquire(context.Background(), "C")
		if err == nil {
			order <- "C"
			r()
		}
	})
	waitForWaiters(t, s, 2)
	rb() // frees one slot: C holds 1, A holds 2 (its cap) → C
	if got := <-order; got != "C" {
		t.Fatalf("freed slot went to %s, want C (fewest held)", got)
	}
	held[0]() // A is under its cap again
	if got := <-order; got != "A" {
		t.Fatalf("then %s, want A", got)
	}
	wg.Wait()
	held[1]()
	rc()

	// Giving up while waiting leaves no trace.
	s2 := NewSlots(1)
	r1, _ := grantedNow(s2, "A")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := s2.acquire(ctx, "B"); done <- err }()
	waitForWaiters(t, s2, 1)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled wait got a slot")
	}
	r1()
	if r, ok := grantedNow(s2, "B"); !ok {
		t.Fatal("slot not free after everyone left")
	} else {
		r()
	}
	if s2.inUse != 0 || len(s2.held) != 0 || s2.waiters() != 0 {
		t.Fatalf("state left behind: inUse %d held %v waiters %d", s2.inUse, s2.held, s2.waiters())
	}
}

// TestSlowTenantDoesNotStarveAnother is issue 13's scenario through run:
// --max-concurrent-calls 2, tenant A's two calls stall upstream, and tenant
// B's call still answers while both of A's are unfinished.
func TestSlowTenantDoesNotStarveAnother(t *testing.T) {
	d := &Deps{Slots: NewSlots(2), CallTimeout: time.Hour}
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	h := func(ctx context.Context, c *call, _ struct{}) (any, error) {
		if c.treq.Header.Get("X-Prefect-Api-Key") == "key-A" {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return map[string]string{"tenant": c.treq.Header.Get("X-Prefect-Api-Key")}, nil
	}
	callAs := func(key string) *mcp.CallToolResult {
		req := &mcp.CallToolRequest{Extra: &mcp.RequestExtra{Header: http.Header{"X-Prefect-Api-Key": {key}}}}
		return run(context.Background(), d, req, struct{}{}, true, nil, h)
	}

	aDone := make(chan *mcp.CallToolResult, 2)
	for range 2 {
		go func() { aDone <- callAs("key-A") }()
	}
	<-started // one of A's calls runs; the other waits for a slot
	waitForWaiters(t, d.Slots, 1)

	res := callAs("key-B")
	if res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "key-B") {
		t.Fatalf("B's call: %+v", res.Content)
	}
	select {
	case r := <-aDone:
		t.Fatalf("one of A's calls ended before release: %+v", r.Content)
	default:
	}
	close(release)
	for range 2 {
		if r := <-aDone; r.IsError {
			t.Fatalf("A's call failed: %+v", r.Content)
		}
	}
}

// TestTenantKey: a call's tenant is its principal when there is one, else
// its credential headers (the rules themselves: tenant.TestKey).
func TestTenantKey(t *testing.T) {
	withKey := func(key string, ti *auth.TokenInfo) target.Request {
		return target.Request{Header: http.Header{"X-Prefect-Api-Key": {key}}, TokenInfo: ti}
	}
	alice := &auth.TokenInfo{UserID: "alice"}
	if tenantOf(withKey("pnu_1", alice)) != tenantOf(withKey("pnu_2", alice)) {
		t.Error("one principal is several tenants by varying X-Prefect-Api-Key")
	}
	if tenantOf(withKey("pnu_1", nil)) == tenantOf(withKey("pnu_2", nil)) {
		t.Error("without a principal, different credentials share a tenant")
	}
}

// TestSlotWaitCountsAgainstTheDeadline: a call that never gets a slot ends
// at its deadline with the server's message, and leaves no waiter behind.
func TestSlotWaitCountsAgainstTheDeadline(t *testing.T) {
	d := &Deps{Slots: NewSlots(1), CallTimeout: 50 * time.Millisecond}
	held, ok := grantedNow(d.Slots, tenantOf(target.Request{}))
	if !ok {
		t.Fatal("no slot")
	}
	defer held()
	h := func(context.Context, *call, struct{}) (any, error) { return "ran", nil }
	res := run(context.Background(), d, nil, struct{}{}, true, nil, h)
	text := res.Content[0].(*mcp.TextContent).Text
	if !res.IsError || !strings.Contains(text, "waited 50ms for a free slot") || !strings.Contains(text, "--max-concurrent-calls") {
		t.Fatalf("isError %v: %s", res.IsError, text)
	}
	if n := d.Slots.waiters(); n != 0 {
		t.Fatalf("%d waiters left", n)
	}
}
