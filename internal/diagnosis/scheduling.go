package diagnosis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/shape"
	tn "github.com/prefect-mcp/prefect-mcp/internal/toolname"
)

// SchedulingFacts is what tells whether the scheduler creates runs for one
// deployment (diagnose_late_runs with a deployment in scope).
type SchedulingFacts struct {
	Deployment prefect.Deployment
	Next       *prefect.FlowRun // the earliest Scheduled run
	Latest     *prefect.FlowRun // the run with the latest expected start, any state
	Now        time.Time
}

// SchedulingJobs reads a deployment's scheduling facts: three requests,
// run with the caller's other reads. A missing deployment is a not-found
// error.
func SchedulingJobs(api API, deploymentID string, f *SchedulingFacts) []func(context.Context) error {
	var next, latest []prefect.FlowRun
	runs := func(filter map[string]any, sort string, into *[]prefect.FlowRun, set **prefect.FlowRun) func(context.Context) error {
		return func(ctx context.Context) error {
			filter["deployment_id"] = map[string]any{"any_": []string{deploymentID}}
			if err := api.Post(ctx, "/flow_runs/filter", map[string]any{"flow_runs": filter, "sort": sort, "limit": 1}, into); err != nil {
				return err
			}
			if len(*into) > 0 {
				*set = &(*into)[0]
			}
			return nil
		}
	}
	return []func(context.Context) error{
		func(ctx context.Context) error {
			return api.Get(ctx, prefect.Path("/deployments/%s", deploymentID), nil, &f.Deployment)
		},
		runs(map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"SCHEDULED"}}, "name": map[string]any{"any_": []string{"Scheduled"}}}},
			"EXPECTED_START_TIME_ASC", &next, &f.Next),
		runs(map[string]any{}, "EXPECTED_START_TIME_DESC", &latest, &f.Latest),
	}
}

// Scheduling is a deployment's scheduling health.
type Scheduling struct {
	Deployment  string           `json:"deployment"`
	Paused      bool             `json:"paused"`
	Schedules   []ScheduleHealth `json:"schedules"`
	NextRun     string           `json:"next_scheduled_run,omitempty"`
	LatestRun   string           `json:"latest_run,omitempty"`
	LastCreated string           `json:"scheduler_last_created,omitempty"`
	Conclusion  string           `json:"conclusion"`
	CreatesRuns bool             `json:"scheduler_creates_runs"`
}

// ScheduleHealth is one schedule of the deployment.
type ScheduleHealth struct {
	Schedule string `json:"schedule"`
	Active   bool   `json:"active"`
	Slug     string `json:"slug,omitempty"`
}

// farNext is when an upcoming run is far enough to explain "no new runs".
const farNext = 24 * time.Hour

// DiagnoseScheduling says whether the scheduler creates runs for the
// deployment and, if not, why: paused (Prefect's scheduler skips paused
// deployments and pausing deletes their scheduled runs), no schedule, all
// schedules inactive, or the next occurrence far away.
func DiagnoseScheduling(f SchedulingFacts) Scheduling {
	d := f.Deployment
	s := Scheduling{Deployment: d.Name, Paused: d.Paused, Schedules: []ScheduleHealth{}}
	active := 0
	for _, sc := range d.Schedules {
		s.Schedules = append(s.Schedules, ScheduleHealth{Schedule: describeSchedule(sc.Schedule), Active: sc.Active, Slug: sc.Slug})
		if sc.Active {
			active++
		}
	}
	if f.Next != nil && f.Next.ExpectedStartTime != nil {
		s.NextRun = shape.TS(*f.Next.ExpectedStartTime) + " (" + f.Next.Name + ")"
	}
	if f.Latest != nil {
		s.LatestRun = shape.TSP(f.Latest.ExpectedStartTime) + " (" + f.Latest.Name + ", " + shape.StateLabel(f.Latest.StateType, f.Latest.StateName) + ")"
		if f.Latest.AutoScheduled {
			s.LastCreated = shape.TS(f.Latest.Created)
		}
	}
	switch {
	case d.Paused:
		s.Conclusion = "paused: the scheduler creates no runs for it (pausing also deleted its scheduled runs); resume it to schedule again"
	case len(d.Schedules) == 0:
		s.Conclusion = "no schedule: runs start only when triggered (UI, API, automation, event trigger)"
	case active == 0:
		s.Conclusion = fmt.Sprintf("all %d schedule(s) are inactive: the scheduler creates no runs; activate one to schedule again", len(d.Schedules))
	case f.Next == nil:
		s.Conclusion = "schedules are active but no run is scheduled: the scheduler service is not creating runs (is the server's scheduler service running?)"
	case f.Next.ExpectedStartTime != nil && f.Next.ExpectedStartTime.Sub(f.Now) > farNext:
		s.CreatesRuns = true
		s.Conclusion = "scheduled, but the next run is not until " + shape.TS(*f.Next.ExpectedStartTime) + " (in " + shape.Dur(f.Next.ExpectedStartTime.Sub(f.Now).Seconds()) + ")"
	default:
		s.CreatesRuns = true
		s.Conclusion = "healthy: the scheduler creates runs; the next is " + s.NextRun
	}
	return s
}

// SchedulingSteps are the next steps for an unhealthy schedule.
func SchedulingSteps(s Scheduling) []string {
	switch {
	case s.Paused:
		return []string{"Resume deployment " + s.Deployment + " (prefect deployment resume, or the UI); " + tn.GetDeployments + " shows its state."}
	case len(s.Schedules) == 0:
		return []string{"Add a schedule to deployment " + s.Deployment + " if it should run by itself (prefect deployment schedule create)."}
	case !s.CreatesRuns:
		return []string{"Check deployment " + s.Deployment + "'s schedules with " + tn.GetDeployments + " and the server's scheduler service (" + tn.GetServerStatus + ")."}
	}
	return nil
}

// describeSchedule names an interval, cron or rrule schedule.
func describeSchedule(sc map[string]any) string {
	tz, _ := sc["timezone"].(string)
	withTZ := func(s string) string {
		if tz != "" && tz != "UTC" {
			return s + " " + tz
		}
		return s
	}
	switch {
	case sc["interval"] != nil:
		secs, _ := sc["interval"].(float64)
		return "every " + shape.Dur(secs)
	case sc["cron"] != nil:
		c, _ := sc["cron"].(string)
		return withTZ("cron " + strings.TrimSpace(c))
	case sc["rrule"] != nil:
		r, _ := sc["rrule"].(string)
		return withTZ("rrule " + shape.Clip(r, 120))
	}
	return "unknown schedule"
}
