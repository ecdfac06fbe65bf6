package openapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ValidationError lists why a value does not fit its schema, one Detail per problem,
// in the shape pydantic v2 and FastAPI use.
type ValidationError struct {
	Subject string // what was validated, e.g. "FlowRunFilter" or "request body of POST /flow_runs/filter"
	Details []Detail
}

// Detail is one pydantic-style error. The JSON field order matches FastAPI's.
type Detail struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"` // strings for keys, ints for array indices; starts with "body" for request bodies
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`

	allowed []string // keys or values that would have been accepted, for Summary
}

// Limits keeping Summary short enough for a model's context.
const (
	maxSummarizedDetails = 5
	maxAllowedListed     = 30
	maxInputShown        = 80
)

// Error returns Summary: the error is meant to be read by a model.
func (e *ValidationError) Error() string { return e.Summary() }

// Summary describes the first few problems, each naming the dotted path of the
// offending value and, for unknown keys or bad enum values, what is allowed there.
func (e *ValidationError) Summary() string {
	lines := make([]string, 0, maxSummarizedDetails)
	for i, d := range e.Details {
		if i == maxSummarizedDetails {
			break
		}
		lines = append(lines, d.describe())
	}
	if len(e.Details) == 1 {
		return "invalid " + e.Subject + ": " + lines[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid %s (%d errors):", e.Subject, len(e.Details))
	for _, l := range lines {
		b.WriteString("\n- ")
		b.WriteString(l)
	}
	if more := len(e.Details) - len(lines); more > 0 {
		fmt.Fprintf(&b, "\n- and %d more", more)
	}
	return b.String()
}

// PrefectResponse is the JSON body Prefect sends with a 422: requestBody is the
// request's decoded JSON body (or its text when it was not JSON).
func (e *ValidationError) PrefectResponse(requestBody any) map[string]any {
	details := e.Details
	if details == nil {
		details = []Detail{}
	}
	return map[string]any{
		"exception_message": "Invalid request received.",
		"exception_detail":  details,
		"request_body":      requestBody,
	}
}

func (d Detail) describe() string {
	path := dottedPath(d.Loc)
	at := ""
	if path != "" {
		at = " at " + path
	}
	switch {
	case d.Type == "extra_forbidden" && len(d.Loc) > 0:
		parent := dottedPath(d.Loc[:len(d.Loc)-1])
		if parent != "" {
			parent = " at " + parent
		}
		return fmt.Sprintf("unknown key %q%s%s", fmt.Sprint(d.Loc[len(d.Loc)-1]), parent, allowedSuffix(d.allowed))
	case d.Type == "missing":
		if path == "" {
			if len(d.Loc) > 0 && d.Loc[0] == "body" {
				return "a request body is required"
			}
			return "a value is required"
		}
		parent := dottedPath(d.Loc[:len(d.Loc)-1])
		if parent != "" {
			parent = " at " + parent
		}
		return fmt.Sprintf("missing required key %q%s", fmt.Sprint(d.Loc[len(d.Loc)-1]), parent)
	case d.Type == "enum", d.Type == "literal_error":
		return fmt.Sprintf("invalid value %s%s%s", showInput(d.Input), at, allowedSuffix(d.allowed))
	case d.Type == "uuid_parsing", d.Type == "uuid_type":
		return fmt.Sprintf("invalid UUID %s%s (%s)", showInput(d.Input), at, reason(d))
	case d.Type == "datetime_from_date_parsing", d.Type == "datetime_parsing", d.Type == "datetime_type":
		return fmt.Sprintf("invalid date-time %s%s (%s); use RFC 3339, e.g. 2026-01-02T15:04:05Z", showInput(d.Input), at, reason(d))
	case d.Type == "json_invalid":
		return fmt.Sprintf("body is not valid JSON (%s)", reason(d))
	}
	if path == "" {
		path = "top level"
	}
	return fmt.Sprintf("%s: %s, got %s", path, lowerFirst(d.Msg), showInput(d.Input))
}

// reason is the part of a pydantic message after its generic lead-in.
func reason(d Detail) string {
	if e, ok := d.Ctx["error"].(string); ok && e != "" {
		return e
	}
	return lowerFirst(d.Msg)
}

func allowedSuffix(allowed []string) string {
	if len(allowed) == 0 {
		return ""
	}
	if len(allowed) > maxAllowedListed {
		return fmt.Sprintf("; allowed: %s, … (%d more)", strings.Join(allowed[:maxAllowedListed], ", "), len(allowed)-maxAllowedListed)
	}
	return "; allowed: " + strings.Join(allowed, ", ")
}

// dottedPath renders a loc as flow_runs.state.type.any_[0], without the "body" prefix.
func dottedPath(loc []any) string {
	if len(loc) > 0 && loc[0] == "body" {
		loc = loc[1:]
	}
	var b strings.Builder
	for _, part := range loc {
		switch p := part.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}

func showInput(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	s := string(raw)
	if len(s) > maxInputShown {
		cut := maxInputShown
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
