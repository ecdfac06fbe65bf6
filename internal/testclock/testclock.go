// Package testclock gives the test suites their fixed "now". CI shifts it
// with PREFECT_MCP_TEST_CLOCK_SHIFT to prove the suites hold on any date:
// the fake Prefect takes its clock from the fixture, the tools from the
// harness, and neither reads the wall clock. Only tests import this package.
package testclock

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// EnvShift names the variable CI sets, e.g. "1mo", "1y", "10y", "-36h".
const EnvShift = "PREFECT_MCP_TEST_CLOCK_SHIFT"

// At is base moved by the shift in EnvShift (base itself when unset). It
// panics on a malformed shift: a CI run that silently ignored it would
// prove nothing.
func At(base time.Time) time.Time {
	t, err := Shift(base, os.Getenv(EnvShift))
	if err != nil {
		panic(err)
	}
	return t
}

var calendar = regexp.MustCompile(`^([+-]?)(\d+)(y|mo|d)$`)

// Shift moves base by spec: a calendar step ("1y", "+1mo", "-10d") or a Go
// duration ("36h"). An empty spec is no shift.
func Shift(base time.Time, spec string) (time.Time, error) {
	if spec == "" {
		return base, nil
	}
	if m := calendar.FindStringSubmatch(spec); m != nil {
		n, err := strconv.Atoi(m[2])
		if err != nil {
			return time.Time{}, fmt.Errorf("%s=%q: %w", EnvShift, spec, err)
		}
		if m[1] == "-" {
			n = -n
		}
		switch m[3] {
		case "y":
			return base.AddDate(n, 0, 0), nil
		case "mo":
			return base.AddDate(0, n, 0), nil
		default:
			return base.AddDate(0, 0, n), nil
		}
	}
	d, err := time.ParseDuration(spec)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s=%q: want a calendar step like 1mo, 1y, 10y or a Go duration like 36h", EnvShift, spec)
	}
	return base.Add(d), nil
}

// Manual is a clock a test moves by hand, for code that takes a Now func.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual is a Manual clock standing at at.
func NewManual(at time.Time) *Manual { return &Manual{now: at} }

// Now is the clock's time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
