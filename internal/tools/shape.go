package tools

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Byte budgets for long strings in results. Cut strings say how much was cut
// so the model knows to ask for more (logs, detail mode) instead of guessing.
const (
	messageBudget   = 300  // state messages in list rows
	detailBudget    = 2000 // state messages and values in detail views
	logLineBudget   = 4000 // one log message (tracebacks matter)
	parameterBudget = 1500 // a run's parameters, JSON-encoded
)

// clip cuts s to at most max bytes on a rune boundary, with a marker.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…[%d more chars cut]", s[:cut], len(s)-cut)
}

// clipJSON encodes v compactly and keeps it raw when it fits the budget,
// so small parameter objects stay structured and large ones are cut.
func clipJSON(v any, max int) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "{}" || string(b) == "null" || string(b) == "[]" {
		return nil
	}
	if len(b) <= max {
		return json.RawMessage(b)
	}
	return clip(string(b), max)
}

// ts formats a time compactly for a model (UTC, seconds).
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// tsp is ts for Prefect's nullable times.
func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

// dur formats seconds as a short human duration ("1h2m3s", "850ms").
func dur(seconds float64) string {
	if seconds <= 0 || math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		return ""
	}
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// stateLabel merges type and name: "Failed", or "Late (SCHEDULED)" when the
// name is not the type's usual name, which is how Prefect marks Late,
// AwaitingRetry, AwaitingConcurrencySlot and friends.
func stateLabel(stateType, stateName string) string {
	if stateType == "" {
		return stateName
	}
	if stateName == "" || strings.EqualFold(strings.ReplaceAll(stateName, "_", ""), strings.ReplaceAll(stateType, "_", "")) {
		return titleState(stateType)
	}
	return stateName + " (" + stateType + ")"
}

func titleState(t string) string {
	if t == "" {
		return ""
	}
	return strings.ToUpper(t[:1]) + strings.ToLower(t[1:])
}

// page is the standard paging trailer of list results.
type page struct {
	Count      int  `json:"count"`
	Truncated  bool `json:"truncated,omitempty"`
	NextOffset int  `json:"next_offset,omitempty"`
}

func newPage(n, offset int, more bool) page {
	p := page{Count: n}
	if more {
		p.Truncated, p.NextOffset = true, offset+n
	}
	return p
}

// Log levels as Prefect (Python logging) numbers them.
var levelNames = []struct {
	n    int
	name string
}{{50, "CRITICAL"}, {40, "ERROR"}, {30, "WARNING"}, {20, "INFO"}, {10, "DEBUG"}}

func levelName(n int) string {
	for _, l := range levelNames {
		if n == l.n {
			return l.name
		}
	}
	for _, l := range levelNames {
		if n > l.n {
			return fmt.Sprintf("%s+%d", l.name, n-l.n)
		}
	}
	return fmt.Sprintf("LEVEL%d", n)
}

// parseLevel accepts a level name (any case, WARN too) or number.
func parseLevel(s string) (int, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	if s == "WARN" {
		s = "WARNING"
	}
	for _, l := range levelNames {
		if s == l.name {
			return l.n, nil
		}
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && n >= 0 && n <= 100 {
		return n, nil
	}
	return 0, badInput("level %q is not valid; use one of debug, info, warning, error, critical (or a number 0-100)", s)
}
