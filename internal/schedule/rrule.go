package schedule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The subset of RFC 5545 recurrence rules computed here: one RRULE with
// FREQ DAILY to YEARLY, HOURLY or MINUTELY, INTERVAL, COUNT, UNTIL,
// BYMONTH, BYMONTHDAY, BYDAY (weekdays without an ordinal), BYHOUR,
// BYMINUTE and BYSECOND, and an optional DTSTART. Anything else (RDATE,
// EXDATE, BYSETPOS, BYWEEKNO, BYYEARDAY, "1MO") is an error naming it.
//
// Like dateutil, which Prefect uses, the rule runs on wall-clock times in
// the schedule's timezone; DTSTART defaults to 2020-01-01T00:00:00
// (DEFAULT_ANCHOR_DATE in src/prefect/server/schemas/schedules.py).
type rrule struct {
	freq                                    string
	interval, count                         int
	until                                   time.Time // wall clock; zero: none
	start                                   time.Time // wall clock (stored as UTC)
	months, monthDays, hours, minutes, secs []int
	weekdays                                []time.Weekday
	loc                                     *time.Location
}

// maxRRuleSteps bounds the minutes one next() examines (a MINUTELY rule
// with COUNT counted from 2020).
const maxRRuleSteps = 3_000_000

var rruleDays = map[string]time.Weekday{"MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday, "TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday, "SU": time.Sunday}

var freqs = []string{"MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}

func parseRRule(text string, loc *time.Location) (*rrule, error) {
	r := &rrule{interval: 1, start: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), loc: loc}
	var rule string
	for _, line := range strings.FieldsFunc(text, func(c rune) bool { return c == '\n' || c == '\r' }) {
		line = strings.TrimSpace(line)
		name, value, _ := strings.Cut(line, ":")
		switch {
		case strings.HasPrefix(strings.ToUpper(name), "DTSTART"):
			t, err := rruleTime(value)
			if err != nil {
				return nil, fmt.Errorf("rrule DTSTART %q: %v", value, err)
			}
			r.start = t
		case strings.EqualFold(name, "RRULE") && rule == "":
			rule = value
		case strings.HasPrefix(strings.ToUpper(line), "FREQ=") && rule == "":
			rule = line
		default:
			return nil, fmt.Errorf("rrule line %q is not supported here (one RRULE and DTSTART only)", clip(line))
		}
	}
	if rule == "" {
		return nil, fmt.Errorf("rrule %q has no RRULE", clip(text))
	}
	for _, part := range strings.Split(rule, ";") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		key = strings.ToUpper(key)
		var err error
		switch key {
		case "FREQ":
			r.freq = strings.ToUpper(value)
			if !slices.Contains(freqs, r.freq) {
				return nil, fmt.Errorf("rrule FREQ=%s is not supported here", value)
			}
		case "INTERVAL":
			r.interval, err = strconv.Atoi(value)
			if err == nil && r.interval < 1 {
				err = fmt.Errorf("must be at least 1")
			}
		case "COUNT":
			r.count, err = strconv.Atoi(value)
		case "UNTIL":
			r.until, err = rruleTime(value)
		case "BYMONTH":
			r.months, err = ints(value, 1, 12)
		case "BYMONTHDAY":
			r.monthDays, err = ints(value, -31, 31)
		case "BYHOUR":
			r.hours, err = ints(value, 0, 23)
		case "BYMINUTE":
			r.minutes, err = ints(value, 0, 59)
		case "BYSECOND":
			r.secs, err = ints(value, 0, 59)
		case "BYDAY":
			for _, d := range strings.Split(strings.ToUpper(value), ",") {
				wd, ok := rruleDays[d]
				if !ok {
					return nil, fmt.Errorf("rrule BYDAY=%s is not supported here (weekdays without an ordinal only)", value)
				}
				r.weekdays = append(r.weekdays, wd)
			}
		case "WKST":
			if !strings.EqualFold(value, "MO") {
				err = fmt.Errorf("only MO is supported here")
			}
		case "":
		default:
			return nil, fmt.Errorf("rrule %s is not supported here", key)
		}
		if err != nil {
			return nil, fmt.Errorf("rrule %s=%s: %v", key, value, err)
		}
	}
	if r.freq == "" {
		return nil, fmt.Errorf("rrule %q has no FREQ", clip(rule))
	}
	// dateutil's defaults: with no day rule, the day comes from DTSTART.
	if len(r.monthDays) == 0 && len(r.weekdays) == 0 {
		switch r.freq {
		case "YEARLY":
			if len(r.months) == 0 {
				r.months = []int{int(r.start.Month())}
			}
			r.monthDays = []int{r.start.Day()}
		case "MONTHLY":
			r.monthDays = []int{r.start.Day()}
		case "WEEKLY":
			r.weekdays = []time.Weekday{r.start.Weekday()}
		}
	}
	if len(r.hours) == 0 && r.freq != "HOURLY" && r.freq != "MINUTELY" {
		r.hours = []int{r.start.Hour()}
	}
	if len(r.minutes) == 0 && r.freq != "MINUTELY" {
		r.minutes = []int{r.start.Minute()}
	}
	if len(r.secs) == 0 {
		r.secs = []int{r.start.Second()}
	}
	return r, nil
}

// rruleTime reads 20260102T030405[Z] or 20260102 as a wall-clock time.
func rruleTime(v string) (time.Time, error) {
	if i := strings.LastIndexByte(v, ':'); i >= 0 { // DTSTART;TZID=...:value
		v = v[i+1:]
	}
	v = strings.TrimSuffix(strings.TrimSpace(v), "Z")
	for _, layout := range []string{"20060102T150405", "20060102"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want YYYYMMDD[THHMMSS]")
}

func ints(v string, lo, hi int) ([]int, error) {
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
		if err != nil || n < lo || n > hi || n == 0 && lo < 0 {
			return nil, fmt.Errorf("%q is not a value from %d to %d", s, lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// dayMatches applies the day rules to a wall-clock day.
func (r *rrule) dayMatches(day time.Time) bool {
	if len(r.months) > 0 && !slices.Contains(r.months, int(day.Month())) {
		return false
	}
	if len(r.weekdays) > 0 && !slices.Contains(r.weekdays, day.Weekday()) {
		return false
	}
	if len(r.monthDays) == 0 {
		return true
	}
	last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return slices.ContainsFunc(r.monthDays, func(d int) bool { return d == day.Day() || d < 0 && last+1+d == day.Day() })
}

// inPeriod reports whether the wall-clock time falls in a period the
// INTERVAL keeps (every INTERVAL-th year, month, week, day, hour, minute
// counted from DTSTART's); t is at or after DTSTART.
func (r *rrule) inPeriod(t time.Time) bool {
	if r.interval == 1 {
		return true
	}
	s := r.start
	days := int(t.Sub(time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)).Hours()) / 24
	var n int
	switch r.freq {
	case "YEARLY":
		n = t.Year() - s.Year()
	case "MONTHLY":
		n = (t.Year()-s.Year())*12 + int(t.Month()) - int(s.Month())
	case "WEEKLY": // weeks start on Monday (WKST=MO)
		monday := func(d time.Time) time.Time {
			return time.Date(d.Year(), d.Month(), d.Day()-(int(d.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
		}
		n = int(monday(t).Sub(monday(s)).Hours()) / (24 * 7)
	case "DAILY":
		n = days
	case "HOURLY":
		n = days*24 + t.Hour() - s.Hour()
	case "MINUTELY":
		n = (days*24+t.Hour()-s.Hour())*60 + t.Minute() - s.Minute()
	}
	return n%r.interval == 0
}

// next walks the occurrences from DTSTART (with COUNT, which counts from
// there) or from t's day, and returns the first at or after t.
func (r *rrule) next(t time.Time) (time.Time, error) {
	wall := func(x time.Time) time.Time {
		x = x.In(r.loc)
		return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), 0, time.UTC)
	}
	from := wall(t)
	day := from
	if r.count > 0 || day.Before(r.start) {
		day = r.start
	}
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	end := from.Add(horizon)
	if !r.until.IsZero() && r.until.Before(end) {
		end = r.until.Add(time.Second)
	}
	hours, minutes, secs := sorted(r.hours), sorted(r.minutes), sorted(r.secs)
	if len(hours) == 0 {
		hours = seq(24)
	}
	if len(minutes) == 0 {
		minutes = seq(60)
	}
	seen, steps := 0, 0
	for ; day.Before(end); day = day.AddDate(0, 0, 1) {
		if !r.dayMatches(day) {
			continue
		}
		for _, h := range hours {
			for _, m := range minutes {
				if steps++; steps > maxRRuleSteps {
					return time.Time{}, fmt.Errorf("rrule too dense to compute here")
				}
				for _, sec := range secs {
					o := time.Date(day.Year(), day.Month(), day.Day(), h, m, sec, 0, time.UTC)
					if o.Before(r.start) || !r.inPeriod(o) {
						continue
					}
					if !o.Before(end) {
						return time.Time{}, nil
					}
					if seen++; r.count > 0 && seen > r.count {
						return time.Time{}, nil
					}
					if !o.Before(from) {
						return time.Date(o.Year(), o.Month(), o.Day(), o.Hour(), o.Minute(), o.Second(), 0, r.loc).UTC(), nil
					}
				}
			}
		}
	}
	return time.Time{}, nil
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func sorted(v []int) []int {
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}
