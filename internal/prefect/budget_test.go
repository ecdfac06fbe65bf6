package prefect

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCountContainers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{``, 0},
		{`7`, 0},
		{`[]`, 1},
		{`[{},{"a":[1,2]}]`, 4},
		{`{"s":"{[not counted]}"}`, 1},
		{`{"s":"quote \" {[ still in string"}`, 1},
		{`{"s":"backslash \\","t":{}}`, 2},
		{`[{"a":"\\\"{"},[]]`, 3},
	} {
		if got := countContainers([]byte(tc.in)); got != tc.want {
			t.Errorf("countContainers(%s) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// free reports the bytes of b not charged to anyone.
func free(b *Budget) int64 {
	lo, hi := int64(0), b.total
	for lo < hi { // the largest n that TryAcquire grants
		mid := (lo + hi + 1) / 2
		if b.sem.TryAcquire(mid) {
			b.sem.Release(mid)
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// bodyServer answers every request with body; chunked hides its length.
func bodyServer(t *testing.T, body string, chunked bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if !chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		for i := 0; i < len(body); i += 1000 {
			_, _ = w.Write([]byte(body[i:min(i+1000, len(body))]))
			if chunked {
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestBudget(t *testing.T) {
	const total = 64 << 10
	list := `[{"name":"` + strings.Repeat("x", 10<<10) + `"}]` // 10 KiB, 2 containers
	want := int64(len(list)+1) + int64(len(list)) + 2*containerCost

	t.Run("an answer is charged while the request runs, then released", func(t *testing.T) {
		srv, _ := bodyServer(t, list, false)
		b := NewBudget(total)
		c := newTestClient(t, srv.URL, nil, func(cfg *Config) { cfg.Budget = b })
		var out []map[string]any
		if err := c.Get(context.Background(), "/flows", nil, &out); err != nil {
			t.Fatal(err)
		}
		if got := free(b); got != total {
			t.Fatalf("free after the request = %d, want %d", got, total)
		}
	})

	t.Run("under Hold the charge lasts until the call ends", func(t *testing.T) {
		srv, _ := bodyServer(t, list, false)
		b := NewBudget(total)
		c := newTestClient(t, srv.URL, nil, func(cfg *Config) { cfg.Budget = b })
		ctx, release := Hold(context.Background())
		var out []map[string]any
		if err := c.Get(ctx, "/flows", nil, &out); err != nil {
			t.Fatal(err)
		}
		if got := free(b); got != total-want {
			t.Fatalf("free while held = %d, want %d", got, total-want)
		}
		release()
		if got := free(b); got != total {
			t.Fatalf("free after release = %d, want %d", got, total)
		}
	})

	refusals := []struct {
		name     string
		body     string
		chunked  bool
		prefill  int64 // charged by "other calls" beforehand
		wantBusy bool
	}{
		{name: "announced body larger than the budget", body: strings.Repeat(" ", total) + "7"},
		{name: "chunked body larger than the budget", body: strings.Repeat(" ", total) + "7", chunked: true},
		{name: "small body of many empty objects", body: "[" + strings.Repeat("{},", 2000) + "{}]"},
		{name: "budget in use by other calls", body: list, prefill: total - 1000, wantBusy: true},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := bodyServer(t, tc.body, tc.chunked)
			b := NewBudget(total)
			if tc.prefill > 0 && !b.sem.TryAcquire(tc.prefill) {
				t.Fatal("prefill")
			}
			c := newTestClient(t, srv.URL, nil, func(cfg *Config) { cfg.Budget = b })
			var out any
			err := c.Get(context.Background(), "/flows", nil, &out)
			be, ok := errors.AsType[*BudgetError](err)
			if !ok || !errors.Is(err, ErrBudget) {
				t.Fatalf("err = %v, want a *BudgetError", err)
			}
			if be.Busy != tc.wantBusy || be.Total != total || be.Path != "/flows" {
				t.Fatalf("BudgetError = %+v", be)
			}
			if n := calls.Load(); n != 1 {
				t.Fatalf("%d requests; a refusal is not retried", n)
			}
			if got := free(b); got != total-tc.prefill {
				t.Fatalf("free after the refusal = %d, want %d", got, total-tc.prefill)
			}
		})
	}
}
