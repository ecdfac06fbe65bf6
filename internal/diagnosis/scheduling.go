package diagnosis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/schedule"
	"github.com/prefect-mcp/prefect-mcp/internal/shape"
	tn "github.com/prefect-mcp/prefect-mcp/internal/toolname"
)

// schedulingSample is how many of a deployment's runs with the latest
// expected start are read: the scheduler's newest runs are among them even
// when a few were started by hand.
const schedulingSample = 10

// SchedulingFacts is what tells whether the scheduler creates runs for one
// deployment (diagnose_late_runs with a deployment in scope).
type SchedulingFacts struct {
	Deployment prefect.Deployment
	Recent     []prefect.FlowRun // the runs with the latest expected start, latest first
	Now        time.Time
}

// SchedulingJobs reads a deployment's scheduling facts: two requests, run
// with the caller's other reads. A missing deployment is a not-found error.
func SchedulingJobs(api API, deploymentID string, f *SchedulingFacts) []func(context.Context) error {
	return []func(context.Context) error{
		func(ctx context.Context) error {
			return api.Get(ctx, prefect.Path("/deployments/%s", deploymentID), nil, &f.Deployment)
		},
		func(ctx context.Context) error {
			return api.Post(ctx, "/flow_runs/filter", prefect.Body{
				"flow_runs": prefect.Where{"deployment_id": prefect.AnyOf(deploymentID)},
				"sort":      "EXPECTED_START_TIME_DESC", "limit": schedulingSample,
			}, &f.Recent)
		},
	}
}

// Scheduling is a deployment's scheduling health.
type Scheduling struct {
	Deployment string           `json:"deployment"`
	Verdict    string           `json:"verdict"`
	Conclusion string           `json:"conclusion"`
	Paused     bool             `json:"paused"`
	Schedules  []ScheduleHealth `json:"schedules"`
	// NextOccurrence is the earliest next occurrence of the active
	// schedules, computed from the schedules themselves.
	NextOccurrence string `json:"next_occurrence,omitempty"`
	// LatestScheduled is the scheduler's run with the latest expected
	// start; LastCreated is when the scheduler created it.
	LatestScheduled string `json:"latest_scheduled_run,omitempty"`
	LastCreated     string `json:"scheduler_last_created,omitempty"`
	CreatesRuns     bool   `json:"scheduler_creates_runs"`
}

// ScheduleHealth is one schedule of the deployment.
type ScheduleHealth struct {
	Schedule string `json:"schedule"`
	Active   bool   `json:"active"`
	Slug     string `json:"slug,omitempty"`
	Next     string `json:"next_occurrence,omitempty"`
	Note     string `json:"note,omitempty"` // why Next is missing
}

// Scheduling verdicts, the first that holds.
const (
	SchedPaused       = "deployment_paused"
	SchedNoSchedule   = "no_schedule"
	SchedInactive     = "schedules_inactive"
	SchedEnded        = "schedules_ended"
	SchedNotCreating  = "scheduler_not_creating_runs"
	SchedNextFar      = "next_run_far_away"
	SchedHealthy      = "healthy"
	SchedUnknownNext  = "next_occurrence_unknown"
	farNext           = 24 * time.Hour
	schedulerLookhead = 100 * 24 * time.Hour // PREFECT_API_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME
	schedulerLoop     = 2 * time.Minute      // the scheduler service runs every 60 s
)

// DiagnoseScheduling says whether the scheduler creates runs for the
// deployment and, if not, why. Prefect's scheduler service
// (src/prefect/server/services/scheduler.py) skips paused deployments and
// inactive schedules, and creates each active schedule's runs up to 100
// days ahead; pausing a deployment deletes its scheduled runs.
func DiagnoseScheduling(f SchedulingFacts) Scheduling {
	d := f.Deployment
	s := Scheduling{Deployment: d.Name, Paused: d.Paused, Schedules: []ScheduleHealth{}}
	active, unknown := 0, 0
	var next time.Time
	for _, sc := range d.Schedules {
		h := ScheduleHealth{Schedule: describeSchedule(sc.Schedule), Active: sc.Active, Slug: sc.Slug}
		if sc.Active {
			active++
			switch n, err := schedule.Next(sc.Schedule, f.Now); {
			case err != nil:
				unknown++
				h.Note = "next occurrence not computed: " + err.Error()
			case n.IsZero():
				h.Note = "no future occurrence"
			default:
				h.Next = shape.TS(n)
				if next.IsZero() || n.Before(next) {
					next = n
				}
			}
		}
		s.Schedules = append(s.Schedules, h)
	}
	// A paused deployment's schedules say when they would fire, but it
	// has no next run.
	if !next.IsZero() && !d.Paused {
		s.NextOccurrence = shape.TS(next) + " (due now)"
		if in := next.Sub(f.Now); in >= time.Second {
			s.NextOccurrence = shape.TS(next) + " (in " + shape.Dur(in.Seconds()) + ")"
		}
	}
	var upcoming bool // a Scheduled run the scheduler made, still ahead
	var created time.Time
	for _, r := range f.Recent {
		if !r.AutoScheduled {
			continue
		}
		if s.LatestScheduled == "" {
			s.LatestScheduled = shape.TSP(r.ExpectedStartTime) + " (" + r.Name + ", " + shape.StateLabel(r.StateType, r.StateName) + ")"
		}
		if r.Created.After(created) {
			created = r.Created
			s.LastCreated = shape.TS(created)
		}
		upcoming = upcoming || r.StateName == "Scheduled" && r.ExpectedStartTime != nil && !r.ExpectedStartTime.Before(f.Now)
	}
	set := func(verdict, conclusion string, creates bool) Scheduling {
		s.Verdict, s.Conclusion, s.CreatesRuns = verdict, conclusion, creates
		return s
	}
	switch {
	case d.Paused:
		return set(SchedPaused, "paused: the scheduler creates no runs for it (pausing also deleted its scheduled runs); resume it to schedule again", false)
	case len(d.Schedules) == 0:
		return set(SchedNoSchedule, "no schedule: runs start only when triggered (UI, API, automation, event trigger)", false)
	case active == 0:
		return set(SchedInactive, fmt.Sprintf("all %d schedule(s) are inactive: the scheduler creates no runs; activate one to schedule again", len(d.Schedules)), false)
	case next.IsZero() && unknown == 0:
		return set(SchedEnded, "the active schedule(s) have no future occurrence (an rrule whose COUNT or UNTIL is reached, or a date that never comes): no run will be created", false)
	case !next.IsZero() && next.Sub(f.Now) <= schedulerLookhead && !upcoming && !d.Updated.After(f.Now.Add(-schedulerLoop)):
		return set(SchedNotCreating, "schedules are active and the next occurrence is "+s.NextOccurrence+", but no upcoming Scheduled run exists: the server's scheduler service is not creating runs", false)
	case !next.IsZero() && next.Sub(f.Now) > farNext:
		return set(SchedNextFar, "scheduled, but the next run is not until "+s.NextOccurrence+": nothing is due before then", true)
	case next.IsZero() && !upcoming:
		return set(SchedUnknownNext, "the next occurrence could not be computed here and no upcoming Scheduled run exists: check the schedule", false)
	}
	if next.IsZero() {
		return set(SchedHealthy, "the scheduler creates runs; the latest is "+s.LatestScheduled, true)
	}
	return set(SchedHealthy, "healthy: the scheduler creates runs; the next is due "+s.NextOccurrence, true)
}

// SchedulingSteps are the next steps for an unhealthy schedule.
func SchedulingSteps(s Scheduling) []string {
	switch s.Verdict {
	case SchedPaused:
		return []string{"Resume deployment " + s.Deployment + " (prefect deployment resume, or the UI); " + tn.GetDeployments + " shows its state."}
	case SchedNoSchedule:
		return []string{"Add a schedule to deployment " + s.Deployment + " if it should run by itself (prefect deployment schedule create)."}
	case SchedInactive, SchedEnded, SchedUnknownNext:
		return []string{"Check deployment " + s.Deployment + "'s schedules with " + tn.GetDeployments + " (prefect deployment schedule ls)."}
	case SchedNotCreating:
		return []string{"Check that the server's scheduler service runs (" + tn.GetServerStatus + "; PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED) and its logs."}
	case SchedNextFar:
		return []string{"If runs are expected sooner, check deployment " + s.Deployment + "'s schedule (" + tn.GetDeployments + "): cron fields, timezone, anchor date."}
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
		if dayOr, ok := sc["day_or"].(bool); ok && !dayOr {
			c += " (day_or false)"
		}
		return withTZ("cron " + strings.TrimSpace(c))
	case sc["rrule"] != nil:
		r, _ := sc["rrule"].(string)
		return withTZ("rrule " + shape.Clip(r, 120))
	}
	return "unknown schedule"
}
