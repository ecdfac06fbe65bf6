// Package schedule is the arithmetic of Prefect's deployment schedules
// (interval, cron, rrule): how many runs a schedule creates in a window,
// and when its next occurrence is. It reads the schedule object exactly as
// Prefect's API returns it (a deployment schedule's "schedule").
//
// Prefect's semantics: src/prefect/client/schemas/schedules.py and
// src/prefect/server/schemas/schedules.py (IntervalSchedule anchor_date,
// CronSchedule day_or and timezone, RRuleSchedule with DTSTART defaulting to
// 2020-01-01 in the schedule's timezone).
package schedule

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// horizon bounds the search for a next occurrence: a schedule that does
// not fire within it is reported as having none.
const horizon = 5 * 366 * 24 * time.Hour

// errUnknown is a schedule of no known kind.
var errUnknown = errors.New("not an interval, cron or rrule schedule")

// Count counts the runs a schedule creates with an expected start in
// [from, to). ok is false for schedules it cannot count (rrule, malformed).
// Intervals are counted as fixed durations from the anchor: across a DST
// change in the schedule's timezone the count may be off by one.
func Count(s map[string]any, from, to time.Time) (n int, ok bool) {
	if !to.After(from) {
		return 0, true
	}
	loc, err := location(s)
	if err != nil {
		return 0, false
	}
	switch {
	case s["interval"] != nil:
		step, anchor, err := interval(s, from)
		if err != nil {
			return 0, false
		}
		// Runs fall at anchor + k*step: count the k inside [from, to).
		first := math.Ceil(float64(from.Sub(anchor)) / float64(step))
		last := math.Ceil(float64(to.Sub(anchor))/float64(step)) - 1
		if last < first {
			return 0, true
		}
		return int(last - first + 1), true
	case s["cron"] != nil:
		c, dayOr, err := cron(s)
		if err != nil {
			return 0, false
		}
		return c.count(from, to, loc, dayOr), true
	}
	return 0, false
}

// Next is the schedule's first occurrence at or after t. A zero time with
// a nil error means it has none within five years (an rrule that ended, a
// cron date that never comes); an error says why it cannot be computed.
func Next(s map[string]any, t time.Time) (time.Time, error) {
	loc, err := location(s)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case s["interval"] != nil:
		step, anchor, err := interval(s, t)
		if err != nil {
			return time.Time{}, err
		}
		// Prefect's IntervalSchedule._get_dates: jump a whole number of
		// intervals from the anchor in seconds, then step by the interval's
		// days in the schedule's timezone (keeping the wall-clock time across
		// DST) and its remaining seconds until at or after t.
		k := math.Trunc(float64(t.Sub(anchor)) / float64(step))
		next := anchor.Add(time.Duration(k) * step).In(loc)
		days := int(step / (24 * time.Hour))
		rest := step - time.Duration(days)*24*time.Hour
		for next.Before(t) {
			next = next.AddDate(0, 0, days).Add(rest)
		}
		return next.UTC(), nil
	case s["cron"] != nil:
		c, dayOr, err := cron(s)
		if err != nil {
			return time.Time{}, err
		}
		return c.next(t, loc, dayOr), nil
	case s["rrule"] != nil:
		text, _ := s["rrule"].(string)
		r, err := parseRRule(text, loc)
		if err != nil {
			return time.Time{}, err
		}
		return r.next(t)
	}
	return time.Time{}, errUnknown
}

func location(s map[string]any) (*time.Location, error) {
	tz, _ := s["timezone"].(string)
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("unknown timezone %q", tz)
	}
	return loc, nil
}

// interval reads an interval schedule: its step and anchor (fallback when
// the schedule has none; Prefect always stores one).
func interval(s map[string]any, fallback time.Time) (time.Duration, time.Time, error) {
	secs, _ := s["interval"].(float64)
	if secs <= 0 {
		return 0, time.Time{}, fmt.Errorf("interval %v is not a positive number of seconds", s["interval"])
	}
	anchor := fallback
	if a, _ := s["anchor_date"].(string); a != "" {
		if t, err := time.Parse(time.RFC3339Nano, a); err == nil {
			anchor = t
		}
	}
	return time.Duration(secs * float64(time.Second)), anchor, nil
}

func cron(s map[string]any) (*cronSpec, bool, error) {
	expr, _ := s["cron"].(string)
	dayOr := true
	if v, ok := s["day_or"].(bool); ok {
		dayOr = v
	}
	c, err := parseCron(expr)
	return c, dayOr, err
}
