package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
		return nil, fmt.Errorf("cron %q: want 5 fields", expr)
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
				return fmt.Errorf("cron step %q", part)
			}
			step = n
		}
		from, to := lo, hi
		if rng != "*" && rng != "?" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = num(a); err != nil {
				return fmt.Errorf("cron value %q", part)
			}
			to = from
			if isRange {
				if to, err = num(b); err != nil {
					return fmt.Errorf("cron value %q", part)
				}
			} else if hasStep {
				to = hi
			}
		}
		if from < lo || to > hi || from > to {
			return fmt.Errorf("cron range %q", part)
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return nil
}

// matchesDay applies the day-of-month, month and day-of-week fields;
// with both day fields restricted, day_or picks either (Prefect's default)
// or both.
func (c *cronSpec) matchesDay(day time.Time, dayOr bool) bool {
	if !c.month[int(day.Month())] {
		return false
	}
	dom, dow := c.dom[day.Day()], c.dow[int(day.Weekday())]
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	case dayOr:
		return dom || dow
	}
	return dom && dow
}

// times calls yield with each matching minute of day in loc, in order,
// until it returns false; it reports whether yield stopped it.
func (c *cronSpec) times(day time.Time, loc *time.Location, yield func(time.Time) bool) bool {
	for h := range 24 {
		if !c.hour[h] {
			continue
		}
		for m := range 60 {
			if c.minute[m] && !yield(time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)) {
				return true
			}
		}
	}
	return false
}

// count walks the days of [from, to) in loc and counts matching minutes.
func (c *cronSpec) count(from, to time.Time, loc *time.Location, dayOr bool) int {
	n := 0
	start := from.In(loc)
	for day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc); day.Before(to); day = day.AddDate(0, 0, 1) {
		if !c.matchesDay(day, dayOr) {
			continue
		}
		c.times(day, loc, func(t time.Time) bool {
			if !t.Before(from) && t.Before(to) {
				n++
			}
			return true
		})
	}
	return n
}

// next is the first matching minute at or after t, or zero within horizon.
func (c *cronSpec) next(t time.Time, loc *time.Location, dayOr bool) time.Time {
	start := t.In(loc)
	var found time.Time
	for day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc); day.Sub(t) < horizon; day = day.AddDate(0, 0, 1) {
		if !c.matchesDay(day, dayOr) {
			continue
		}
		if c.times(day, loc, func(m time.Time) bool {
			if m.Before(t) {
				return true
			}
			found = m
			return false
		}) {
			return found.UTC()
		}
	}
	return time.Time{}
}
