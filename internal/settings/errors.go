package settings

import (
	"strconv"
	"strings"
)

// Error reports a configuration problem and where it is. Its text never
// contains a credential: values are quoted only for non-secret settings, and
// TOML syntax messages are scrubbed of the file content they may echo.
type Error struct {
	File     string // configuration file involved, if any
	Line     int    // 1-based line in File, when known
	Profile  string // profile involved, if any
	Variable string // setting (env-var style, e.g. PREFECT_API_URL) or key involved, if any
	Reason   string // what is wrong
	Fix      string // how to fix it, when there is a clear step
	Err      error  // underlying error, if any; not part of Error()
	// Watch lists the settings files read before the problem: a change to
	// any of them may fix it (a server watching them picks the fix up).
	Watch []string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("prefect settings: ")
	var where []string
	if e.File != "" {
		loc := e.File
		if e.Line > 0 {
			loc += " line " + strconv.Itoa(e.Line)
		}
		where = append(where, loc)
	}
	if e.Profile != "" {
		where = append(where, "profile "+strconv.Quote(e.Profile))
	}
	if e.Variable != "" {
		where = append(where, e.Variable)
	}
	if len(where) > 0 {
		b.WriteString(strings.Join(where, ", "))
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	if e.Fix != "" {
		b.WriteString(". Fix: ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// quoteForError quotes a non-secret value for an error message, bounded so a
// huge value cannot flood logs.
func quoteForError(v string) string {
	const maxRunes = 80
	if r := []rune(v); len(r) > maxRunes {
		v = string(r[:maxRunes]) + "…"
	}
	return strconv.Quote(v)
}
