package openapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The checks below follow what pydantic v2 (lax mode, as FastAPI uses it) accepts,
// because the goal is to reject what Prefect rejects and nothing more.

// formatError is returned by the format checks; its message is pydantic's reason.
type formatError string

func (e formatError) Error() string { return string(e) }

// uuidProblem returns "" for a string the Rust uuid crate (used by pydantic) parses,
// else that crate's description of the problem.
func uuidProblem(s string) string {
	switch {
	case len(s) == 32 && isHex(s):
		return ""
	case len(s) == 36 && isHyphenatedUUID(s):
		return ""
	case len(s) == 38 && s[0] == '{' && s[37] == '}' && isHyphenatedUUID(s[1:37]):
		return ""
	case len(s) == 45 && strings.HasPrefix(s, "urn:uuid:") && isHyphenatedUUID(s[9:]):
		return ""
	}
	body, offset := s, 0
	if rest, ok := strings.CutPrefix(s, "urn:uuid:"); ok {
		body, offset = rest, 9
	} else if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		body, offset = s[1:len(s)-1], 1
	}
	for i, c := range body {
		if c != '-' && !isHexRune(c) {
			return fmt.Sprintf("invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `%c` at %d", c, i+offset+1)
		}
	}
	groups := strings.Split(body, "-")
	if len(groups) == 1 {
		return fmt.Sprintf("invalid length: expected length 32 for simple format, found %d", utf8.RuneCountInString(body))
	}
	if len(groups) != 5 {
		return fmt.Sprintf("invalid group count: expected 5, found %d", len(groups))
	}
	for i, g := range groups {
		if want := uuidGroupLengths[i]; len(g) != want {
			return fmt.Sprintf("invalid group length in group %d: expected %d, found %d", i, want, len(g))
		}
	}
	return "failed to parse a UUID"
}

var uuidGroupLengths = [5]int{8, 4, 4, 4, 12}

func isHyphenatedUUID(s string) bool {
	for i, want := range uuidGroupLengths {
		if len(s) < want || !isHex(s[:want]) {
			return false
		}
		s = s[want:]
		if i < 4 {
			if s == "" || s[0] != '-' {
				return false
			}
			s = s[1:]
		}
	}
	return s == ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexRune(rune(s[i])) {
			return false
		}
	}
	return true
}

func isHexRune(c rune) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// dateTimeProblem returns "" for a string pydantic accepts as a datetime: an
// RFC 3339-like date-time (separator T, t, _ or space; seconds, fraction and offset
// optional), a bare date (midnight), or a unix timestamp. Otherwise it returns the
// reason pydantic gives, which comes from re-reading the input as a date.
func dateTimeProblem(s string) string {
	if isSpeedateDateTime(s) || isNumericString(s) {
		return ""
	}
	return dateProblem(s)
}

// dateProblem mirrors speedate's date parser and its error texts.
func dateProblem(s string) string {
	if len(s) < 10 {
		return "input is too short"
	}
	if !isDigits(s[0:4]) {
		return "invalid character in year"
	}
	if s[4] != '-' {
		return "invalid date separator, expected `-`"
	}
	if !isDigits(s[5:7]) {
		return "invalid character in month"
	}
	if s[7] != '-' {
		return "invalid date separator, expected `-`"
	}
	if !isDigits(s[8:10]) {
		return "invalid character in day"
	}
	year, _ := strconv.Atoi(s[0:4])
	month, _ := strconv.Atoi(s[5:7])
	day, _ := strconv.Atoi(s[8:10])
	if month < 1 || month > 12 {
		return "month value is outside expected range of 1-12"
	}
	if day < 1 || day > daysIn(year, month) {
		return "day value is outside expected range"
	}
	if len(s) > 10 {
		return "unexpected extra characters at the end of the input"
	}
	return ""
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func isSpeedateDateTime(s string) bool {
	if len(s) < 16 || dateProblem(s[:10]) != "" {
		return false
	}
	switch s[10] {
	case 'T', 't', ' ', '_':
	default:
		return false
	}
	rest := s[11:]
	hour, minute, ok := twoDigitPair(rest)
	if !ok || hour > 23 || minute > 59 {
		return false
	}
	rest = rest[5:]
	if strings.HasPrefix(rest, ":") {
		if len(rest) < 3 || !isDigits(rest[1:3]) {
			return false
		}
		if second, _ := strconv.Atoi(rest[1:3]); second > 59 {
			return false
		}
		rest = rest[3:]
		if rest != "" && (rest[0] == '.' || rest[0] == ',') {
			n := 1
			for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
				n++
			}
			if n == 1 {
				return false
			}
			rest = rest[n:]
		}
	}
	return isTimezone(rest)
}

// twoDigitPair reads "HH:MM".
func twoDigitPair(s string) (int, int, bool) {
	if len(s) < 5 || !isDigits(s[0:2]) || s[2] != ':' || !isDigits(s[3:5]) {
		return 0, 0, false
	}
	a, _ := strconv.Atoi(s[0:2])
	b, _ := strconv.Atoi(s[3:5])
	return a, b, true
}

func isTimezone(s string) bool {
	switch {
	case s == "", s == "Z", s == "z":
		return true
	case s[0] != '+' && s[0] != '-':
		return false
	}
	s = s[1:]
	if len(s) < 2 || !isDigits(s[:2]) {
		return false
	}
	hours, _ := strconv.Atoi(s[:2])
	if hours > 23 {
		return false
	}
	s = strings.TrimPrefix(s[2:], ":")
	if s == "" {
		return true
	}
	if len(s) != 2 || !isDigits(s) {
		return false
	}
	minutes, _ := strconv.Atoi(s)
	return minutes <= 59
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isNumericString reports a string speedate reads as a unix timestamp.
func isNumericString(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(s, ".")
	if !isDigits(whole) {
		return false
	}
	return !hasDot || frac == "" || isDigits(frac)
}

var (
	isoDurationPattern  = regexp.MustCompile(`^[-+]?[Pp](\d+(\.\d+)?[YyMmWwDd])*([Tt](\d+(\.\d+)?[HhMmSs])+)?$`)
	timeDurationPattern = regexp.MustCompile(`^[-+]?(\d+ days?,? ?)?\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?$`)
)

// durationProblem accepts what pydantic reads as a timedelta: ISO 8601 durations,
// "[D day[s], ]HH:MM[:SS[.f]]" and numbers of seconds.
func durationProblem(s string) string {
	if s == "" || strings.EqualFold(s, "p") || strings.EqualFold(s, "pt") {
		return "invalid duration"
	}
	if isoDurationPattern.MatchString(s) || timeDurationPattern.MatchString(s) || isNumericString(strings.TrimPrefix(s, "+")) {
		return ""
	}
	return "invalid duration"
}

// Lax coercions pydantic applies to strings and numbers (FastAPI validates in lax mode).

func laxInt(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "+-")
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && strings.Trim(frac, "0") != "" {
		return false
	}
	for _, part := range strings.Split(whole, "_") {
		if !isDigits(part) {
			return false
		}
	}
	return true
}

func laxFloat(s string) bool {
	_, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 64)
	return err == nil
}

var laxBoolStrings = map[string]bool{
	"0": true, "off": true, "f": true, "false": true, "n": true, "no": true,
	"1": true, "on": true, "t": true, "true": true, "y": true, "yes": true,
}

func laxBool(s string) bool {
	return laxBoolStrings[strings.ToLower(strings.TrimSpace(s))]
}
