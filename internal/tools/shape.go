package tools

import (
	"fmt"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/shape"
)

// Byte budgets for long strings in results. Cut strings say how much was cut
// so the model knows to ask for more (logs, detail mode) instead of guessing.
const (
	messageBudget   = shape.MessageBudget // state messages in list rows
	detailBudget    = 2000                // state messages and values in detail views
	logLineBudget   = 4000                // one log message (tracebacks matter)
	parameterBudget = 1500                // a run's parameters, JSON-encoded
)

// clip, ts, tsp, dur, stateLabel, levelName and clipJSON are package
// shape's, shared with the diagnosis rules.
func clip(s string, max int) string      { return shape.Clip(s, max) }
func ts(t time.Time) string              { return shape.TS(t) }
func tsp(t *time.Time) string            { return shape.TSP(t) }
func dur(seconds float64) string         { return shape.Dur(seconds) }
func stateLabel(typ, name string) string { return shape.StateLabel(typ, name) }
func levelName(n int) string             { return shape.LevelName(n) }
func clipJSON(v any, max int) any        { return shape.ClipJSON(v, max) }

// Page is the paging part of every list result.
type Page struct {
	Count      int  `json:"count"`
	Truncated  bool `json:"truncated,omitempty"`
	NextOffset int  `json:"next_offset,omitempty"`
}

func newPage(n, offset int, more bool) Page {
	p := Page{Count: n}
	if more {
		p.Truncated, p.NextOffset = true, offset+n
	}
	return p
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
	if n, ok := shape.LevelNumber(s); ok {
		return n, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && n >= 0 && n <= 100 {
		return n, nil
	}
	return 0, badInput("level %q is not valid; use one of debug, info, warning, error, critical (or a number 0-100)", s)
}
