package diagnosis

import (
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// TestSchedulingRules: each scheduling verdict from facts alone; the next
// occurrence comes from the schedule, the scheduler's activity from its runs.
func TestSchedulingRules(t *testing.T) {
	sched := func(active bool, s map[string]any) prefect.DeploymentSchedule {
		return prefect.DeploymentSchedule{Active: active, Schedule: s}
	}
	hourly := sched(true, map[string]any{"interval": 3600.0, "anchor_date": "2020-01-01T00:30:00Z"}) // next: t0+30m
	monthly := sched(true, map[string]any{"cron": "0 3 1 * *", "timezone": "Europe/Berlin"})         // next: April 1st
	inactive := sched(false, map[string]any{"cron": "0 3 1 * *", "timezone": "Europe/Berlin"})
	ended := sched(true, map[string]any{"rrule": "DTSTART:20250101T000000\nRRULE:FREQ=DAILY;COUNT=2"})
	unsupported := sched(true, map[string]any{"rrule": "FREQ=MONTHLY;BYDAY=1MO"})
	scheduled := func(name string, in time.Duration) prefect.FlowRun {
		return prefect.FlowRun{Name: name, ExpectedStartTime: ptr(at(in)), Created: at(-time.Hour), StateType: "SCHEDULED", StateName: "Scheduled", AutoScheduled: true}
	}
	dep := func(paused bool, s ...prefect.DeploymentSchedule) prefect.Deployment {
		return prefect.Deployment{Name: "d", Paused: paused, Schedules: s, Updated: at(-24 * time.Hour)}
	}
	for _, tc := range []struct {
		name    string
		f       SchedulingFacts
		verdict string
		creates bool
		want    string
	}{
		{"paused", SchedulingFacts{Deployment: dep(true, hourly)}, SchedPaused, false, "paused: the scheduler creates no runs"},
		{"no schedule", SchedulingFacts{Deployment: dep(false)}, SchedNoSchedule, false, "no schedule"},
		{"inactive", SchedulingFacts{Deployment: dep(false, inactive)}, SchedInactive, false, "all 1 schedule(s) are inactive"},
		{"ended", SchedulingFacts{Deployment: dep(false, ended)}, SchedEnded, false, "no future occurrence"},
		{"scheduler idle", SchedulingFacts{Deployment: dep(false, hourly)}, SchedNotCreating, false, "2026-03-02T12:30:00Z (in 30m0s), but no upcoming Scheduled run exists"},
		{"scheduler idle, only a manual run ahead", SchedulingFacts{Deployment: dep(false, hourly), Recent: []prefect.FlowRun{{Name: "manual", ExpectedStartTime: ptr(at(time.Hour)), StateType: "SCHEDULED", StateName: "Scheduled"}}}, SchedNotCreating, false, "not creating runs"},
		{"just resumed: the scheduler's next loop", SchedulingFacts{Deployment: prefect.Deployment{Name: "d", Schedules: []prefect.DeploymentSchedule{hourly}, Updated: at(-30 * time.Second)}}, SchedHealthy, true, "healthy"},
		{"far", SchedulingFacts{Deployment: dep(false, monthly), Recent: []prefect.FlowRun{scheduled("april", 29*24*time.Hour+13*time.Hour)}}, SchedNextFar, true, "not until 2026-04-01T01:00:00Z"},
		{"healthy", SchedulingFacts{Deployment: dep(false, hourly, inactive), Recent: []prefect.FlowRun{scheduled("soon", 30*time.Minute)}}, SchedHealthy, true, "next is due 2026-03-02T12:30:00Z"},
		{"unknown next, runs ahead", SchedulingFacts{Deployment: dep(false, unsupported), Recent: []prefect.FlowRun{scheduled("soon", time.Hour)}}, SchedHealthy, true, "the latest is 2026-03-02T13:00:00Z (soon, Scheduled)"},
		{"unknown next, nothing ahead", SchedulingFacts{Deployment: dep(false, unsupported)}, SchedUnknownNext, false, "could not be computed"},
	} {
		tc.f.Now = t0
		s := DiagnoseScheduling(tc.f)
		if s.Verdict != tc.verdict || s.CreatesRuns != tc.creates || !strings.Contains(s.Conclusion, tc.want) {
			t.Errorf("%s: %s, creates %v, conclusion %q; want %s, %v, %q", tc.name, s.Verdict, s.CreatesRuns, s.Conclusion, tc.verdict, tc.creates, tc.want)
		}
		if steps := SchedulingSteps(s); (len(steps) == 0) != (s.Verdict == SchedHealthy) {
			t.Errorf("%s: next steps %v", tc.name, steps)
		}
	}
	s := DiagnoseScheduling(SchedulingFacts{Deployment: dep(false, hourly, unsupported), Recent: []prefect.FlowRun{scheduled("soon", 30*time.Minute)}, Now: t0})
	if s.Schedules[0].Next != "2026-03-02T12:30:00Z" || !strings.Contains(s.Schedules[1].Note, "BYDAY=1MO is not supported") {
		t.Errorf("schedules = %+v", s.Schedules)
	}
	if s.LatestScheduled != "2026-03-02T12:30:00Z (soon, Scheduled)" || s.LastCreated != "2026-03-02T11:00:00Z" {
		t.Errorf("latest %q, created %q", s.LatestScheduled, s.LastCreated)
	}
	if got := describeSchedule(inactive.Schedule); got != "cron 0 3 1 * * Europe/Berlin" {
		t.Errorf("describe cron = %q", got)
	}
}
