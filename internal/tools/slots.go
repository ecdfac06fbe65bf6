package tools

import (
	"context"
	"sync"

	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tenant"
)

// Slots bounds the tool calls doing upstream work at once (memory stays flat
// when hundreds of clients call together) and shares them between tenants:
// one tenant holds at most half of them, rounded up, so another tenant's call
// finds a slot even while the first one's calls are stalled. Freed slots go
// to the waiting tenant holding the fewest, first come first served among
// equals.
type Slots struct {
	mu        sync.Mutex
	capacity  int
	perTenant int
	inUse     int
	held      map[string]int // tenant → slots held; absent when none
	waiting   []*slotWaiter
}

type slotWaiter struct {
	tenant  string
	granted chan struct{} // closed when the slot is this waiter's
}

// NewSlots returns room for capacity concurrent calls (at least 1).
func NewSlots(capacity int) *Slots {
	capacity = max(capacity, 1)
	return &Slots{capacity: capacity, perTenant: (capacity + 1) / 2, held: map[string]int{}}
}

// PerTenant is the most slots one tenant may hold.
func (s *Slots) PerTenant() int { return s.perTenant }

// acquire waits for a slot for tenant until ctx ends. The returned release
// must be called once the call is done.
func (s *Slots) acquire(ctx context.Context, tenant string) (release func(), err error) {
	release = func() { s.release(tenant) }
	s.mu.Lock()
	if s.grantable(tenant) {
		s.take(tenant)
		s.mu.Unlock()
		return release, nil
	}
	w := &slotWaiter{tenant: tenant, granted: make(chan struct{})}
	s.waiting = append(s.waiting, w)
	s.mu.Unlock()

	select {
	case <-w.granted:
		return release, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-w.granted: // granted while giving up: hand it on
		s.releaseLocked(tenant)
	default:
		for i, other := range s.waiting {
			if other == w {
				s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
				break
			}
		}
	}
	return nil, ctx.Err()
}

func (s *Slots) grantable(tenant string) bool {
	return s.inUse < s.capacity && s.held[tenant] < s.perTenant
}

func (s *Slots) take(tenant string) {
	s.inUse++
	s.held[tenant]++
}

func (s *Slots) release(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(tenant)
}

func (s *Slots) releaseLocked(tenant string) {
	s.inUse--
	if s.held[tenant]--; s.held[tenant] <= 0 {
		delete(s.held, tenant)
	}
	for s.inUse < s.capacity {
		next := -1
		for i, w := range s.waiting {
			if s.held[w.tenant] < s.perTenant && (next < 0 || s.held[w.tenant] < s.held[s.waiting[next].tenant]) {
				next = i
			}
		}
		if next < 0 {
			return
		}
		w := s.waiting[next]
		s.waiting = append(s.waiting[:next], s.waiting[next+1:]...)
		s.take(w.tenant)
		close(w.granted)
	}
}

// tenantOf names who a call is for (tenant.Key): its authenticated
// principal, else the credentials the request carries.
func tenantOf(req target.Request) string {
	var principal string
	if req.TokenInfo != nil {
		principal = req.TokenInfo.UserID
	}
	return tenant.Key(principal, req.Header)
}
