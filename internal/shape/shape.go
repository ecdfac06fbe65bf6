// Package shape formats values for a model: times, durations, state labels,
// log levels and clipped strings. Both the tools and the diagnosis rules use
// it, so it imports nothing of the project.
package shape

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// MessageBudget is the byte budget of a state message in a list row.
const MessageBudget = 300

// Clip cuts s to at most max bytes on a rune boundary, with a marker.
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…[%d more chars cut]", s[:cut], len(s)-cut)
}

// ClipHead keeps the end of s (where a traceback's exception is) within max bytes.
func ClipHead(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := len(s) - max
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return fmt.Sprintf("[%d earlier chars cut]…%s", cut, s[cut:])
}

// TS formats a time compactly (UTC, seconds).
func TS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// TSP is TS for Prefect's nullable times.
func TSP(t *time.Time) string {
	if t == nil {
		return ""
	}
	return TS(*t)
}

// Dur formats seconds as a short human duration ("1h2m3s", "850ms").
func Dur(seconds float64) string {
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

// StateLabel merges type and name: "Failed", or "Late (SCHEDULED)" when the
// name is not the type's usual name, which is how Prefect marks Late,
// AwaitingRetry, AwaitingConcurrencySlot and friends.
func StateLabel(stateType, stateName string) string {
	if stateType == "" {
		return stateName
	}
	if stateName == "" || strings.EqualFold(strings.ReplaceAll(stateName, "_", ""), strings.ReplaceAll(stateType, "_", "")) {
		return TitleState(stateType)
	}
	return stateName + " (" + stateType + ")"
}

// TitleState turns "FAILED" into "Failed".
func TitleState(t string) string {
	if t == "" {
		return ""
	}
	return strings.ToUpper(t[:1]) + strings.ToLower(t[1:])
}

// Log levels as Prefect (Python logging) numbers them.
var levelNames = []struct {
	n    int
	name string
}{{50, "CRITICAL"}, {40, "ERROR"}, {30, "WARNING"}, {20, "INFO"}, {10, "DEBUG"}}

// LevelName names a Python log level ("ERROR", "WARNING+5").
func LevelName(n int) string {
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

// LevelNumber is the number of a level name, or false.
func LevelNumber(name string) (int, bool) {
	for _, l := range levelNames {
		if name == l.name {
			return l.n, true
		}
	}
	return 0, false
}

// FirstNonEmpty returns the first value that is not blank.
func FirstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// ClipJSON encodes v compactly and keeps it raw when it fits max bytes, so
// small parameter objects stay structured and large ones are cut; nil for
// nothing, an empty object or an empty list.
func ClipJSON(v any, max int) any {
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
	return Clip(string(b), max)
}
