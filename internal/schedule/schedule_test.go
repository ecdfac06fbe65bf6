package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestCount(t *testing.T) {
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
		got, ok := Count(tc.schedule, tc.from, tc.to)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %d %v, want %d %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestNext: each kind's next occurrence, as Prefect's scheduler computes it
// (interval from its anchor, cron in its timezone with day_or, rrule from
// DTSTART in the schedule's timezone), and the rules it refuses.
func TestNext(t *testing.T) {
	at := time.Date(2026, 11, 4, 10, 17, 30, 0, time.UTC) // a Wednesday
	rr := func(rule, tz string) map[string]any {
		s := map[string]any{"rrule": rule}
		if tz != "" {
			s["timezone"] = tz
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		schedule map[string]any
		want     string // RFC 3339, "" for none
		err      string
	}{
		{"interval from its anchor", map[string]any{"interval": 3600.0, "anchor_date": "2020-01-01T00:30:00Z"}, "2026-11-04T10:30:00Z", ""},
		{"interval on an occurrence", map[string]any{"interval": 60.0, "anchor_date": "2026-11-04T10:17:30Z"}, "2026-11-04T10:17:30Z", ""},
		{"interval anchored in the future", map[string]any{"interval": 86400.0, "anchor_date": "2027-01-01T00:00:00+01:00"}, "2026-11-04T23:00:00Z", ""},
		// Prefect jumps whole intervals in seconds from the anchor (03:00
		// Berlin summer time, 01:00Z), so after the change it runs at 02:00 local.
		{"daily interval after a DST change", map[string]any{"interval": 86400.0, "anchor_date": "2026-10-24T01:00:00Z", "timezone": "Europe/Berlin"}, "2026-11-05T01:00:00Z", ""},
		{"hourly interval across DST", map[string]any{"interval": 3600.0, "anchor_date": "2026-07-01T01:00:00Z", "timezone": "Europe/Berlin"}, "2026-11-04T11:00:00Z", ""},
		{"bad interval", map[string]any{"interval": -5.0}, "", "positive"},
		{"cron daily", map[string]any{"cron": "0 3 * * *"}, "2026-11-05T03:00:00Z", ""},
		{"cron in a timezone", map[string]any{"cron": "0 3 * * *", "timezone": "Europe/Berlin"}, "2026-11-05T02:00:00Z", ""},
		{"cron every 15 min", map[string]any{"cron": "*/15 * * * *"}, "2026-11-04T10:30:00Z", ""},
		{"cron day_or: the 1st or a Monday", map[string]any{"cron": "0 0 1 * mon"}, "2026-11-09T00:00:00Z", ""},
		{"cron day_or false: a Monday in the first week", map[string]any{"cron": "0 0 1-7 * mon", "day_or": false}, "2026-12-07T00:00:00Z", ""},
		{"cron that never comes", map[string]any{"cron": "0 0 30 2 *"}, "", ""},
		{"bad cron", map[string]any{"cron": "0 0 * *"}, "", "5 fields"},
		{"bad timezone", map[string]any{"cron": "0 0 * * *", "timezone": "Mars/Olympus"}, "", "unknown timezone"},
		{"rrule daily from the default DTSTART", rr("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", ""), "2026-11-05T09:00:00Z", ""},
		{"rrule weekly in New York", rr("DTSTART:20260101T080000\nRRULE:FREQ=WEEKLY;BYDAY=MO,FR", "America/New_York"), "2026-11-06T13:00:00Z", ""},
		{"rrule last day of the month", rr("RRULE:FREQ=MONTHLY;BYMONTHDAY=-1", "UTC"), "2026-11-30T00:00:00Z", ""},
		{"rrule every third day", rr("DTSTART:20261101T060000\nRRULE:FREQ=DAILY;INTERVAL=3", ""), "2026-11-07T06:00:00Z", ""},
		{"rrule every other week, this week", rr("DTSTART:20261102T120000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", ""), "2026-11-04T12:00:00Z", ""},
		{"rrule every other week, skipping one", rr("DTSTART:20261102T120000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", ""), "2026-11-16T12:00:00Z", ""},
		{"rrule every 6 hours", rr("DTSTART:20260101T000000\nRRULE:FREQ=HOURLY;INTERVAL=6", ""), "2026-11-04T12:00:00Z", ""},
		{"rrule yearly from DTSTART", rr("DTSTART:20200315T070000\nRRULE:FREQ=YEARLY", ""), "2027-03-15T07:00:00Z", ""},
		{"rrule COUNT left", rr("DTSTART:20261101T000000\nRRULE:FREQ=DAILY;COUNT=10", ""), "2026-11-05T00:00:00Z", ""},
		{"rrule COUNT used up", rr("DTSTART:20260101T000000\nRRULE:FREQ=DAILY;COUNT=3", ""), "", ""},
		{"rrule UNTIL passed", rr("FREQ=DAILY;UNTIL=20250101T000000Z", ""), "", ""},
		{"rrule ordinal weekday", rr("FREQ=MONTHLY;BYDAY=1MO", ""), "", "BYDAY=1MO is not supported"},
		{"rrule BYSETPOS", rr("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1", ""), "", "BYSETPOS is not supported"},
		{"rrule with RDATE", rr("RRULE:FREQ=DAILY\nRDATE:20261231T000000Z", ""), "", "not supported"},
		{"rrule SECONDLY", rr("FREQ=SECONDLY", ""), "", "FREQ=SECONDLY is not supported"},
		{"unknown kind", map[string]any{"every": "day"}, "", "not an interval"},
	} {
		got, err := Next(tc.schedule, at)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "" && !got.IsZero():
			t.Errorf("%s: %s, want none", tc.name, got)
		case tc.want != "" && got.Format(time.RFC3339) != tc.want:
			t.Errorf("%s: %s, want %s", tc.name, got.Format(time.RFC3339), tc.want)
		}
	}
}

// Prefect's last step is one calendar day in the schedule's timezone: across
// the change it keeps the wall-clock time (03:00 local, now 02:00Z), where
// adding 24 hours would give 01:00Z.
func TestNextIntervalStepsCalendarDays(t *testing.T) {
	s := map[string]any{"interval": 86400.0, "anchor_date": "2026-10-24T01:00:00Z", "timezone": "Europe/Berlin"}
	got, err := Next(s, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC))
	if err != nil || got.Format(time.RFC3339) != "2026-10-25T02:00:00Z" {
		t.Errorf("next = %v, %v; want 2026-10-25T02:00:00Z", got, err)
	}
}

// A dense rule is refused, not walked for ever.
func TestNextBounded(t *testing.T) {
	_, err := Next(map[string]any{"rrule": "DTSTART:20200101T000000\nRRULE:FREQ=MINUTELY;COUNT=99999999"}, time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "too dense") {
		t.Errorf("err = %v", err)
	}
}
