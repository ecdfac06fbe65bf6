package tools

import (
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

func TestActivityVerdict(t *testing.T) {
	since := time.Date(2026, 10, 27, 12, 0, 0, 0, time.UTC)
	inWindow := since.Add(24 * time.Hour)
	n := func(v int) *int { return &v }
	run := func(state string) *prefect.FlowRun {
		typ := map[string]string{"Failed": "FAILED", "Crashed": "CRASHED", "Completed": "COMPLETED", "Cancelled": "CANCELLED", "Running": "RUNNING"}[state]
		return &prefect.FlowRun{Name: "r", StateType: typ, StateName: state, StartTime: &inWindow}
	}
	for _, tc := range []struct {
		name       string
		runs       activityCounts
		expected   *int
		last       *prefect.FlowRun
		incomplete bool
		want       string
	}{
		{"daily, 1 cancelled, 0 completed in 30 days", activityCounts{Cancelled: n(1), Total: n(1)}, n(30), run("Cancelled"), false, "behind_schedule"},
		{"unscheduled, only cancelled", activityCounts{Cancelled: n(1), Total: n(1)}, nil, run("Cancelled"), false, "not_completing"},
		{"daily, every run cancelled", activityCounts{Cancelled: n(30), Total: n(30)}, n(30), run("Cancelled"), false, "not_completing"},
		{"daily, all completed", activityCounts{Completed: n(30), Total: n(30)}, n(30), run("Completed"), false, "healthy"},
		{"daily, 16 of 30 runs exist", activityCounts{Completed: n(16), Total: n(16)}, n(30), run("Completed"), false, "healthy"},
		{"daily, 14 of 30 runs exist", activityCounts{Completed: n(14), Total: n(14)}, n(30), run("Completed"), false, "behind_schedule"},
		{"scheduled, the scheduler made none", activityCounts{Total: n(0)}, n(30), nil, false, "behind_schedule"},
		{"last run failed", activityCounts{Completed: n(29), Failed: n(1), Total: n(30)}, n(30), run("Failed"), false, "failing"},
		{"half failed", activityCounts{Completed: n(2), Crashed: n(2), Total: n(4)}, nil, run("Completed"), false, "failing"},
		{"counts missing", activityCounts{Completed: n(2)}, nil, run("Completed"), true, "unknown"},
		{"late, none started", activityCounts{Late: n(3), Total: n(3)}, n(30), nil, false, "stuck"},
		{"nothing at all, unscheduled", activityCounts{Total: n(0)}, nil, nil, false, "dormant"},
		{"running, unscheduled", activityCounts{Total: n(1)}, nil, run("Running"), false, "healthy"},
	} {
		r := &activityRow{Runs: tc.runs, ExpectedRuns: tc.expected}
		got, why := activityVerdict(r, tc.last, since, tc.incomplete)
		if got != tc.want || why == "" {
			t.Errorf("%s: %s (%s), want %s", tc.name, got, why, tc.want)
		}
	}
}

func TestExpectedRuns(t *testing.T) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(30 * 24 * time.Hour)
	for _, tc := range []struct {
		name     string
		schedule map[string]any
		from, to time.Time
		want     int
		ok       bool
	}{
		{"daily interval", map[string]any{"interval": 86400.0}, from, to, 30, true},
		{"hourly interval, anchored off the hour", map[string]any{"interval": 3600.0, "anchor_date": "2020-01-01T00:30:00Z"}, from, from.Add(3 * time.Hour), 3, true},
		{"interval anchored after the window", map[string]any{"interval": 3600.0, "anchor_date": "2027-01-01T00:00:00Z"}, from, from.Add(2 * time.Hour), 2, true},
		{"cron daily", map[string]any{"cron": "0 2 * * *"}, from, to, 30, true},
		{"cron @hourly", map[string]any{"cron": "@hourly"}, from, from.Add(24 * time.Hour), 24, true},
		{"cron every 15 min on weekdays", map[string]any{"cron": "*/15 * * * mon-fri"}, from, from.Add(7 * 24 * time.Hour), 5 * 96, true},
		{"cron weekly sunday as 7", map[string]any{"cron": "0 0 * * 7"}, from, to, 5, true},
		// Nov 2026: the 1st is a Sunday; dom 1 OR Mondays = 1 + 5 Mondays.
		{"cron day_or", map[string]any{"cron": "0 0 1 * mon"}, from, to, 6, true},
		{"cron day_or false", map[string]any{"cron": "0 0 1-7 * mon", "day_or": false}, from, to, 1, true},
		{"cron in a timezone", map[string]any{"cron": "0 0 * * *", "timezone": "America/New_York"}, from, from.Add(24 * time.Hour), 1, true},
		{"cron months by name", map[string]any{"cron": "0 0 1 jan,dec *"}, from, to.Add(24 * time.Hour), 1, true},
		{"rrule is not counted", map[string]any{"rrule": "FREQ=DAILY"}, from, to, 0, false},
		{"bad cron", map[string]any{"cron": "61 * * * *"}, from, to, 0, false},
		{"bad timezone", map[string]any{"cron": "0 0 * * *", "timezone": "Mars/Olympus"}, from, to, 0, false},
		{"empty window", map[string]any{"interval": 60.0}, to, from, 0, true},
	} {
		got, ok := expectedRuns(tc.schedule, tc.from, tc.to)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %d %v, want %d %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
