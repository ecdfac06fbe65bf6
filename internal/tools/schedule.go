package tools

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// expectedRuns counts the runs a Prefect schedule (interval or cron; the
// object of a deployment schedule) creates with an expected start in
// [from, to). ok is false for schedules it cannot count (rrule, malformed).
// Prefect's schedule semantics: src/prefect/client/schemas/schedules.py
// (IntervalSchedule anchor_date, CronSchedule day_or, timezone).
func expectedRuns(s map[string]any, from, to time.Time) (n int, ok bool) {
	if !to.After(from) {
		return 0, true
	}
	loc := time.UTC
	if tz, _ := s["timezone"].(string); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return 0, false
		}
		loc = l
	}
	switch {
	case s["interval"] != nil:
		secs, _ := s["interval"].(float64)
		if secs <= 0 {
			return 0, false
		}
		step := time.Duration(secs * float64(time.Second))
		anchor := from
		if a, _ := s["anchor_date"].(string); a != "" {
			if t, err := time.Parse(time.RFC3339Nano, a); err == nil {
				anchor = t
			}
		}
		// Runs fall at anchor + k*step: count the k inside [from, to).
		first := math.Ceil(float64(from.Sub(anchor)) / float64(step))
		last := math.Ceil(float64(to.Sub(anchor))/float64(step)) - 1
		if last < first {
			return 0, true
		}
		return int(last - first + 1), true
	case s["cron"] != nil:
		expr, _ := s["cron"].(string)
		dayOr := true
		if v, ok := s["day_or"].(bool); ok {
			dayOr = v
		}
		c, err := parseCron(expr)
		if err != nil {
			return 0, false
		}
		return c.count(from, to, loc, dayOr), true
	}
	return 0, false
}

// cronSpec is a parsed five-field cron expression: a set per field.
type cronSpec struct {
	minute, hour, dom, month, dow [60]bool
	domAny, dowAny                bool
}

var cronAliases = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

var cronNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
}

func parseCron(expr string) (*cronSpec, error) {
	expr = strings.ToLower(strings.TrimSpace(expr))
	if a, ok := cronAliases[expr]; ok {
		expr = a
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return nil, badInput("cron %q: want 5 fields", expr)
	}
	c := &cronSpec{domAny: f[2] == "*" || f[2] == "?", dowAny: f[4] == "*" || f[4] == "?"}
	for i, spec := range []struct {
		set    *[60]bool
		lo, hi int
	}{{&c.minute, 0, 59}, {&c.hour, 0, 23}, {&c.dom, 1, 31}, {&c.month, 1, 12}, {&c.dow, 0, 7}} {
		if err := cronField(f[i], spec.lo, spec.hi, spec.set); err != nil {
			return nil, err
		}
	}
	if c.dow[7] { // 7 is Sunday too
		c.dow[0] = true
	}
	return c, nil
}

func cronField(field string, lo, hi int, set *[60]bool) error {
	num := func(s string) (int, error) {
		if n, ok := cronNames[s]; ok {
			return n, nil
		}
		return strconv.Atoi(s)
	}
	for _, part := range strings.Split(field, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return badInput("cron step %q", part)
			}
			step = n
		}
		from, to := lo, hi
		if rng != "*" && rng != "?" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = num(a); err != nil {
				return badInput("cron value %q", part)
			}
			to = from
			if isRange {
				if to, err = num(b); err != nil {
					return badInput("cron value %q", part)
				}
			} else if hasStep {
				to = hi
			}
		}
		if from < lo || to > hi || from > to {
			return badInput("cron range %q", part)
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return nil
}

// count walks the days of [from, to) in loc and counts matching minutes.
func (c *cronSpec) count(from, to time.Time, loc *time.Location, dayOr bool) int {
	n := 0
	start := from.In(loc)
	for day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc); day.Before(to); day = day.AddDate(0, 0, 1) {
		if !c.month[int(day.Month())] {
			continue
		}
		dom, dow := c.dom[day.Day()], c.dow[int(day.Weekday())]
		var match bool
		switch {
		case c.domAny && c.dowAny:
			match = true
		case c.domAny:
			match = dow
		case c.dowAny:
			match = dom
		case dayOr:
			match = dom || dow
		default:
			match = dom && dow
		}
		if !match {
			continue
		}
		for h := range 24 {
			if !c.hour[h] {
				continue
			}
			for m := range 60 {
				if !c.minute[m] {
					continue
				}
				t := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
				if !t.Before(from) && t.Before(to) {
					n++
				}
			}
		}
	}
	return n
}
