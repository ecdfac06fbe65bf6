package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

func TestActivityVerdict(t *testing.T) {
	inWindow := time.Date(2026, 10, 28, 12, 0, 0, 0, time.UTC)
	cut := inWindow.Add(20 * 24 * time.Hour) // counts since here, when partial
	n := func(v int) *int { return &v }
	run := func(state string) *prefect.FlowRun {
		typ := map[string]string{"Failed": "FAILED", "Crashed": "CRASHED", "Completed": "COMPLETED", "Cancelled": "CANCELLED", "Running": "RUNNING"}[state]
		return &prefect.FlowRun{Name: "r", StateType: typ, StateName: state, StartTime: &inWindow}
	}
	yes, no := true, false
	// facts: failed, completed, finished, late, started over the whole window.
	facts := func(failed, completed, finished, late, started bool) windowFacts {
		b := func(v bool) *bool {
			if v {
				return &yes
			}
			return &no
		}
		return windowFacts{b(failed), b(completed), b(finished), b(late), b(started)}
	}
	// whole derives the window's facts from counts that cover it all.
	whole := func(c activityCounts, started bool) windowFacts {
		failed := val(c.Failed) + val(c.Crashed)
		return facts(failed > 0, val(c.Completed) > 0, failed+val(c.Completed)+val(c.Cancelled) > 0, val(c.Late) > 0, started)
	}
	unknownLate := facts(false, true, true, false, true)
	unknownLate.late = nil
	for _, tc := range []struct {
		name     string
		runs     activityCounts
		expected *int
		last     *prefect.FlowRun
		partial  bool
		window   *windowFacts // nil: whole(runs, last != nil)
		want     string
		why      string // a part of why, when it matters
	}{
		// Counts that cover the whole window.
		{"daily, 1 cancelled, 0 completed in 30 days", activityCounts{Cancelled: n(1), Total: n(1)}, n(30), run("Cancelled"), false, nil, "behind_schedule", "expects 30 run(s) in the window, 1 exist"},
		{"unscheduled, only cancelled", activityCounts{Cancelled: n(1), Total: n(1)}, nil, run("Cancelled"), false, nil, "not_completing", "none of its 1 finished run(s) completed"},
		{"daily, every run cancelled", activityCounts{Cancelled: n(30), Total: n(30)}, n(30), run("Cancelled"), false, nil, "not_completing", ""},
		{"daily, all completed", activityCounts{Completed: n(30), Total: n(30)}, n(30), run("Completed"), false, nil, "healthy", "30 of 30 finished run(s) in the window completed"},
		{"daily, 16 of 30 runs exist", activityCounts{Completed: n(16), Total: n(16)}, n(30), run("Completed"), false, nil, "healthy", ""},
		{"daily, 14 of 30 runs exist", activityCounts{Completed: n(14), Total: n(14)}, n(30), run("Completed"), false, nil, "behind_schedule", ""},
		{"scheduled, the scheduler made none", activityCounts{Total: n(0)}, n(30), nil, false, nil, "behind_schedule", ""},
		{"last run failed", activityCounts{Completed: n(29), Failed: n(1), Total: n(30)}, n(30), run("Failed"), false, nil, "failing", "latest run r ended Failed"},
		{"half failed", activityCounts{Completed: n(2), Crashed: n(2), Total: n(4)}, nil, run("Completed"), false, nil, "failing", "2 of 4 finished runs in the window"},
		{"late, none started", activityCounts{Late: n(3), Total: n(3)}, n(30), nil, false, nil, "stuck", ""},
		{"late but another started", activityCounts{Late: n(1), Completed: n(29), Total: n(30)}, n(30), run("Completed"), false, nil, "healthy", ""},
		{"nothing at all, unscheduled", activityCounts{Total: n(0)}, nil, nil, false, nil, "dormant", ""},
		{"running, unscheduled", activityCounts{Total: n(1)}, nil, run("Running"), false, nil, "healthy", "in progress"},
		// A fact could not be read.
		{"sample unreadable", activityCounts{}, nil, nil, false, &unknownLate, "unknown", ""},
		{"Late runs unknown", activityCounts{Completed: n(2), Total: n(2)}, nil, run("Completed"), false, &unknownLate, "unknown", ""},
		{"failing needs only the counts", activityCounts{Failed: n(2), Total: n(2)}, nil, run("Failed"), false, &unknownLate, "failing", ""},
		// Counts since a cut inside the window: the window's facts decide
		// what the counted interval does not show.
		{"partial, counted all completed", activityCounts{Completed: n(5), Total: n(5)}, n(5), run("Completed"), true, ptr(facts(true, true, true, false, true)), "healthy", "since "},
		{"partial, counted half failed", activityCounts{Completed: n(2), Failed: n(2), Total: n(4)}, nil, run("Completed"), true, ptr(facts(true, true, true, false, true)), "failing", "2 of 4 finished runs since "},
		{"partial, only cancelled counted, completed before", activityCounts{Cancelled: n(3), Total: n(3)}, nil, run("Cancelled"), true, ptr(facts(false, true, true, false, true)), "healthy", "0 of 3"},
		{"partial, only cancelled counted, none completed in the window", activityCounts{Cancelled: n(3), Total: n(3)}, nil, run("Cancelled"), true, ptr(facts(false, false, true, false, true)), "not_completing", "nor any before"},
		{"partial, none counted, failures before, no success", activityCounts{Total: n(0)}, nil, nil, true, ptr(facts(true, false, true, false, true)), "not_completing", "none of its finished runs in the window completed"},
		{"partial, none counted, cancelled before, no success", activityCounts{Total: n(0)}, nil, nil, true, ptr(facts(false, false, true, false, true)), "not_completing", "(none since "},
		{"partial, none counted, both before", activityCounts{Total: n(0)}, nil, nil, true, ptr(facts(true, true, true, false, true)), "unknown", ToolGetFlowRuns},
		{"partial, none counted, successes before", activityCounts{Total: n(0)}, nil, nil, true, ptr(facts(false, true, true, false, true)), "healthy", "runs before completed"},
		{"partial, none counted, scheduled", activityCounts{Total: n(0)}, n(4), nil, true, ptr(facts(false, true, true, false, true)), "behind_schedule", "expects 4 run(s) since "},
		{"partial, Late before, none started in the window", activityCounts{Total: n(0)}, nil, nil, true, ptr(facts(false, false, false, true, false)), "stuck", ""},
		{"partial, Late before, one started", activityCounts{Total: n(0)}, nil, nil, true, ptr(facts(false, true, true, true, true)), "healthy", ""},
		{"partial, a run started in the window, none finished", activityCounts{Total: n(0)}, nil, nil, true, ptr(facts(false, false, false, false, true)), "healthy", "in progress"},
		{"partial, nothing in the window", activityCounts{Total: n(0)}, nil, nil, true, ptr(facts(false, false, false, false, false)), "dormant", ""},
	} {
		f := activityFacts{runs: tc.runs, expected: tc.expected, last: tc.last}
		if tc.partial {
			f.countedSince = cut
		}
		if tc.window != nil {
			f.window = *tc.window
		} else {
			f.window = whole(tc.runs, tc.last != nil)
		}
		got, why := activityVerdict(f)
		if got != tc.want || why == "" || !strings.Contains(why, tc.why) {
			t.Errorf("%s: %s (%s), want %s (%q)", tc.name, got, why, tc.want, tc.why)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestSampleWindow(t *testing.T) {
	at := func(h int) *time.Time { v := time.Date(2026, 11, 1, h, 0, 0, 0, time.UTC); return &v }
	runs := []prefect.FlowRun{{ExpectedStartTime: at(9)}, {ExpectedStartTime: at(8)}, {ExpectedStartTime: at(7)}, {ExpectedStartTime: at(7)}}
	if got, cut := sampleWindow(runs, false); len(got) != 4 || !cut.IsZero() {
		t.Errorf("a sample holding the whole window: %d runs, cut %v", len(got), cut)
	}
	// Runs at the oldest instant may go on beyond the sample: not counted.
	if got, cut := sampleWindow(runs, true); len(got) != 2 || !cut.Equal(*at(7)) {
		t.Errorf("a full sample: %d runs, cut %v", len(got), cut)
	}
	same := []prefect.FlowRun{{ExpectedStartTime: at(7)}, {ExpectedStartTime: at(7)}}
	if got, cut := sampleWindow(same, true); len(got) != 0 || !cut.Equal(*at(7)) {
		t.Errorf("a full sample at one instant: %d runs, cut %v", len(got), cut)
	}
}
