package prefect

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/semaphore"
)

// DefaultBudgetBytes is the default process-wide budget of upstream body
// bytes (see Budget).
const DefaultBudgetBytes int64 = 128 << 20

// containerCost is what one JSON object or array is charged on top of its
// bytes: decoding `{}` (2 bytes) into a response struct costs hundreds
// (FlowRun is 544), so a body of empty objects must not pass as small.
const containerCost = 128

// Budget bounds the memory Prefect answers take, for the whole process: every
// body read is charged its bytes twice (the raw bytes and what they decode
// into) plus containerCost per JSON object or array, and a charge that does
// not fit is refused at once with a *BudgetError, never waited for, so no
// call holds bytes while it waits for more. Charges last until the request
// returns, or, under Hold, until the tool call ends, since a call keeps its
// decoded answers until then. A nil *Budget charges nothing.
type Budget struct {
	sem   *semaphore.Weighted
	total int64
}

// NewBudget returns a budget of total bytes.
func NewBudget(total int64) *Budget {
	return &Budget{sem: semaphore.NewWeighted(total), total: total}
}

// Total is the size of the budget in bytes.
func (b *Budget) Total() int64 { return b.total }

// ErrBudget is matched (errors.Is) by every *BudgetError.
var ErrBudget = errors.New("over the budget for Prefect answers")

// BudgetError is a body refused because the budget could not hold it.
type BudgetError struct {
	Method, Path string
	Need, Total  int64
	// Busy: the body fits the budget, but other calls hold too much of it now.
	Busy bool
}

func (e *BudgetError) Error() string {
	if e.Busy {
		return fmt.Sprintf("prefect: %s %s: the %d-byte budget for Prefect answers is in use by other calls", e.Method, e.Path, e.Total)
	}
	return fmt.Sprintf("prefect: %s %s: the answer needs about %d bytes, more than the %d-byte budget for Prefect answers", e.Method, e.Path, e.Need, e.Total)
}

func (e *BudgetError) Is(target error) bool { return target == ErrBudget }

type holdKey struct{}

// hold collects the charges of one tool call.
type hold struct {
	mu    sync.Mutex
	taken map[*Budget]int64
	done  bool
}

// Hold makes budget charges made under the returned context last until
// release is called: a tool call's decoded answers live until it ends.
func Hold(ctx context.Context) (context.Context, func()) {
	h := &hold{taken: map[*Budget]int64{}}
	return context.WithValue(ctx, holdKey{}, h), func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for b, n := range h.taken {
			b.sem.Release(n)
		}
		h.taken, h.done = nil, true
	}
}

// ledger is the charges of one request.
type ledger struct {
	b            *Budget
	method, path string
	taken        int64
	keep         bool // the answer was decoded and is handed to the caller
}

// take charges n more bytes, or fails without waiting.
func (l *ledger) take(n int64) error {
	if l.b == nil || n <= 0 {
		return nil
	}
	need := l.taken + n
	if need > l.b.total {
		return &BudgetError{Method: l.method, Path: l.path, Need: need, Total: l.b.total}
	}
	if !l.b.sem.TryAcquire(n) {
		return &BudgetError{Method: l.method, Path: l.path, Need: need, Total: l.b.total, Busy: true}
	}
	l.taken += n
	return nil
}

// settle ends the request: the charges of a kept answer pass to the call's
// Hold, if any and still open; all others are released.
func (l *ledger) settle(ctx context.Context) {
	if l.b == nil || l.taken == 0 {
		return
	}
	n := l.taken
	l.taken = 0
	if h, ok := ctx.Value(holdKey{}).(*hold); ok && l.keep {
		h.mu.Lock()
		defer h.mu.Unlock()
		if !h.done {
			h.taken[l.b] += n
			return
		}
	}
	l.b.sem.Release(n)
}

// countContainers counts the JSON objects and arrays in data, skipping
// strings. It assumes nothing about validity: the decoder judges that.
func countContainers(data []byte) int64 {
	var n int64
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			n++
		}
	}
	return n
}
