package diagnosis

import (
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

func TestSchedulingRules(t *testing.T) {
	every := prefect.DeploymentSchedule{Active: true, Schedule: map[string]any{"interval": 3600.0}}
	cron := prefect.DeploymentSchedule{Active: false, Schedule: map[string]any{"cron": "0 3 1 * *", "timezone": "Europe/Berlin"}}
	next := func(in time.Duration) *prefect.FlowRun {
		return &prefect.FlowRun{Name: "next", ExpectedStartTime: ptr(at(in)), StateType: "SCHEDULED", StateName: "Scheduled"}
	}
	for _, tc := range []struct {
		name    string
		f       SchedulingFacts
		creates bool
		want    string
	}{
		{"paused", SchedulingFacts{Deployment: prefect.Deployment{Name: "d", Paused: true, Schedules: []prefect.DeploymentSchedule{every}}}, false, "paused: the scheduler creates no runs"},
		{"no schedule", SchedulingFacts{Deployment: prefect.Deployment{Name: "d"}}, false, "no schedule"},
		{"inactive", SchedulingFacts{Deployment: prefect.Deployment{Name: "d", Schedules: []prefect.DeploymentSchedule{cron}}}, false, "all 1 schedule(s) are inactive"},
		{"scheduler idle", SchedulingFacts{Deployment: prefect.Deployment{Name: "d", Schedules: []prefect.DeploymentSchedule{every}}}, false, "no run is scheduled"},
		{"far", SchedulingFacts{Deployment: prefect.Deployment{Name: "d", Schedules: []prefect.DeploymentSchedule{every}}, Next: next(20 * 24 * time.Hour)}, true, "not until"},
		{"healthy", SchedulingFacts{Deployment: prefect.Deployment{Name: "d", Schedules: []prefect.DeploymentSchedule{every, cron}}, Next: next(time.Hour)}, true, "healthy"},
	} {
		tc.f.Now = t0
		s := DiagnoseScheduling(tc.f)
		if s.CreatesRuns != tc.creates || !strings.Contains(s.Conclusion, tc.want) {
			t.Errorf("%s: creates %v, conclusion %q; want %v, %q", tc.name, s.CreatesRuns, s.Conclusion, tc.creates, tc.want)
		}
		if steps := SchedulingSteps(s); (len(steps) == 0) != s.CreatesRuns && tc.name != "far" {
			t.Errorf("%s: next steps %v", tc.name, steps)
		}
	}
	if got := describeSchedule(cron.Schedule); got != "cron 0 3 1 * * Europe/Berlin" {
		t.Errorf("describe cron = %q", got)
	}
}
