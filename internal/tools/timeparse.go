package tools

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// timeForms names the accepted time arguments in every error message.
const timeForms = `use RFC 3339 (2026-11-25T10:00:00Z or with an offset), a date (2026-11-25, midnight UTC), "now", "today", "yesterday", or a relative time such as -30m, -24h, -7d, -2w, -1h30m (units w, d, h, m, s)`

// maxRelative bounds relative times so arithmetic never overflows.
const maxRelative = 100 * 365 * 24 * time.Hour

// Layouts tried after RFC 3339; times without a zone are UTC.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTime reads a time argument named name relative to now (the call's
// clock). Errors name the accepted forms.
func parseTime(name, value string, now time.Time) (time.Time, error) {
	s := strings.TrimSpace(value)
	if s == "" {
		return time.Time{}, badInput("%s is empty; %s", name, timeForms)
	}
	switch strings.ToLower(s) {
	case "now":
		return now.UTC(), nil
	case "today":
		return midnight(now), nil
	case "yesterday":
		return midnight(now).AddDate(0, 0, -1), nil
	}
	if s[0] == '-' || s[0] == '+' {
		d, ok := parseRelative(s[1:])
		if !ok {
			return time.Time{}, badInput("%s %q is not a relative time; %s", name, clip(value, 80), timeForms)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.UTC().Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if _, ok := parseRelative(s); ok {
		short := clip(s, 40)
		return time.Time{}, badInput("%s %q has no sign; write -%s for the past or +%s for the future", name, clip(value, 80), short, short)
	}
	return time.Time{}, badInput("%s %q is not a time; %s", name, clip(value, 80), timeForms)
}

func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// parseRelative reads an unsigned sequence of <number><unit> ("1d12h",
// "1.5h"), units w, d, h, m, s, bounded by maxRelative.
func parseRelative(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, false
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, false
		}
		var unit time.Duration
		switch s[i] {
		case 'w':
			unit = 7 * 24 * time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		case 's':
			unit = time.Second
		default:
			return 0, false
		}
		total += n * float64(unit)
		if math.IsNaN(total) || total > float64(maxRelative) {
			return 0, false
		}
		s = s[i+1:]
	}
	return time.Duration(total), true
}

// timeWindow is a since/until range resolved from optional arguments; the
// result says when a default was used so the model knows what it saw.
type timeWindow struct {
	Since     string `json:"since"`
	Until     string `json:"until"`
	Defaulted bool   `json:"defaulted,omitempty"`

	since, until time.Time
}

// resolveWindow parses optional since/until arguments. A missing until is
// now; a missing since is until minus lookback (and the window is marked
// defaulted). since must not be after until.
func resolveWindow(sinceName, sinceArg, untilName, untilArg string, now time.Time, lookback time.Duration) (timeWindow, error) {
	w := timeWindow{until: now.UTC()}
	if strings.TrimSpace(untilArg) != "" {
		t, err := parseTime(untilName, untilArg, now)
		if err != nil {
			return w, err
		}
		w.until = t
	}
	if strings.TrimSpace(sinceArg) != "" {
		t, err := parseTime(sinceName, sinceArg, now)
		if err != nil {
			return w, err
		}
		w.since = t
	} else {
		w.since, w.Defaulted = w.until.Add(-lookback), true
	}
	if w.since.After(w.until) {
		return w, badInput("%s (%s) is after %s (%s); %s must be the earlier time", sinceName, ts(w.since), untilName, ts(w.until), sinceName)
	}
	w.Since, w.Until = ts(w.since), ts(w.until)
	return w, nil
}
