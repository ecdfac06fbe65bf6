package tools

import (
	"strings"
	"testing"
	"time"
)

var clock = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestParseTime(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{"now", clock},
		{" NOW ", clock},
		{"today", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
		{"yesterday", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"-24h", clock.Add(-24 * time.Hour)},
		{"-30m", clock.Add(-30 * time.Minute)},
		{"-7d", clock.AddDate(0, 0, -7)},
		{"-2w", clock.AddDate(0, 0, -14)},
		{"-90s", clock.Add(-90 * time.Second)},
		{"-1h30m", clock.Add(-90 * time.Minute)},
		{"-1.5h", clock.Add(-90 * time.Minute)},
		{"+1h", clock.Add(time.Hour)},
		{"2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"2026-11-25T10:00:00Z", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"2026-11-25T10:00:00.123456Z", time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)},
		{"2026-11-25T12:00:00+02:00", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"2026-11-25T10:00:00", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"2026-11-25T10:00", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"2026-11-25 10:00:00", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		got, err := parseTime("since", tc.in, clock)
		if err != nil {
			t.Errorf("parseTime(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseTimeErrorsNameTheForms(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "since is empty"},
		{"last tuesday", `since "last tuesday" is not a time`},
		{"2026-13-45", "is not a time"},
		{"-24", "is not a relative time"},
		{"-24y", "is not a relative time"},
		{"-h", "is not a relative time"},
		{"--1h", "is not a relative time"},
		{"-1..5h", "is not a relative time"},
		{"-999999999999d", "is not a relative time"},
		{"24h", "has no sign; write -24h for the past"},
	}
	for _, tc := range cases {
		_, err := parseTime("since", tc.in, clock)
		if err == nil {
			t.Errorf("parseTime(%q) succeeded", tc.in)
			continue
		}
		if !isInputError(err) {
			t.Errorf("parseTime(%q): %T is not an input error", tc.in, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("parseTime(%q) = %q, want it to contain %q", tc.in, msg, tc.want)
		}
		if tc.want != "has no sign; write -24h for the past" {
			for _, form := range []string{"RFC 3339", "2026-11-25", `"now"`, "-24h", "-7d"} {
				if !strings.Contains(msg, form) {
					t.Errorf("parseTime(%q) error %q does not name the form %s", tc.in, msg, form)
				}
			}
		}
	}
}

func TestResolveWindow(t *testing.T) {
	w, err := resolveWindow("after", "", "before", "", clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Defaulted || w.Since != "2026-11-26T11:00:00Z" || w.Until != "2026-11-26T12:00:00Z" {
		t.Errorf("default window = %+v", w)
	}
	w, err = resolveWindow("after", "-7d", "before", "-1d", clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if w.Defaulted || w.Since != "2026-11-19T12:00:00Z" || w.Until != "2026-11-25T12:00:00Z" {
		t.Errorf("explicit window = %+v", w)
	}
	// A lone until moves the default window with it.
	w, err = resolveWindow("after", "", "before", "2026-11-20", clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Defaulted || w.Since != "2026-11-19T23:00:00Z" {
		t.Errorf("window before a date = %+v", w)
	}
	if _, err := resolveWindow("after", "now", "before", "-1h", clock, time.Hour); err == nil || !strings.Contains(err.Error(), "after (2026-11-26T12:00:00Z) is after before") {
		t.Errorf("inverted window: %v", err)
	}
	if _, err := resolveWindow("after", "soon", "before", "", clock, time.Hour); err == nil || !strings.Contains(err.Error(), `after "soon"`) {
		t.Errorf("bad since: %v", err)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"now", "-24h", "-7d", "+1h30m", "2026-11-25", "2026-11-25T10:00:00Z", "-1.5h", "-9999999999999999999w", "-.h", "-1e9h", "2026-11-25 10:00:00+01:00", "\xff", "-0s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTime("since", s, clock)
		if err != nil {
			if !isInputError(err) {
				t.Fatalf("parseTime(%q): %T is not an input error", s, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("parseTime(%q) = %v is not UTC", s, got)
		}
		if d := got.Sub(clock); (strings.HasPrefix(strings.TrimSpace(s), "-") || strings.HasPrefix(strings.TrimSpace(s), "+")) && (d > maxRelative || d < -maxRelative) {
			t.Fatalf("parseTime(%q) = %v is beyond the relative bound", s, got)
		}
	})
}
