package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

const (
	countLookback     = 24 * time.Hour
	defaultCountRows  = 30
	maxCountRows      = 100
	maxTimeBuckets    = 100 // Prefect allows 1000; a model reads far fewer
	autoBucketsTarget = 48
)

var countables = []string{"event", "resource", "day", "time"}

var timeUnits = []struct {
	name string
	d    time.Duration
}{{"second", time.Second}, {"minute", time.Minute}, {"hour", time.Hour}, {"day", 24 * time.Hour}, {"week", 7 * 24 * time.Hour}}

// autoSteps are the bucket sizes tried, smallest first, when no time_unit is
// given: the first that covers the window in autoBucketsTarget buckets wins.
var autoSteps = []struct {
	unit     string
	interval float64
}{{"minute", 1}, {"minute", 5}, {"minute", 15}, {"hour", 1}, {"hour", 6}, {"day", 1}, {"week", 1}}

type countEventsInput struct {
	Countable       string  `json:"countable,omitempty" jsonschema:"default event"`
	EventTypePrefix string  `json:"event_type_prefix,omitempty"`
	ResourceID      string  `json:"resource_id,omitempty" jsonschema:"trailing * for a prefix"`
	Since           string  `json:"since,omitempty" jsonschema:"RFC 3339, date or -6h"`
	Until           string  `json:"until,omitempty" jsonschema:"default now"`
	TimeUnit        string  `json:"time_unit,omitempty" jsonschema:"countable time only"`
	TimeInterval    float64 `json:"time_interval,omitempty" jsonschema:"units per bucket"`
	Limit           int     `json:"limit,omitempty" jsonschema:"default 30"`
	Workspace
}

func countEventsTool() Definition {
	return define(Definition{
		Name: ToolCountEvents, Title: "Count events", Group: GroupEvents,
		Summary: "Event counts grouped by event type, resource, day or time bucket over a window (default the last 24 h).",
	}, `Count events by event (default), resource, day or time bucket over a window (default: the last 24 h): how often, not what.
Example: {"countable":"event","event_type_prefix":"prefect.flow-run.","since":"-7d"}`,
		func(s *jsonschema.Schema) {
			bound(s, "limit", 1, maxCountRows)
			s.Properties["countable"].Enum = []any{"event", "resource", "day", "time"}
			s.Properties["time_unit"].Enum = []any{"second", "minute", "hour", "day", "week"}
		},
		countEvents)
}

type countRow struct {
	Value string `json:"value,omitempty"`
	Label string `json:"label,omitempty"`
	Start string `json:"start,omitempty"`
	Count int    `json:"count"`
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`
}

type countResult struct {
	Countable string     `json:"countable"`
	Window    timeWindow `json:"window"`
	Bucket    string     `json:"bucket,omitempty"`
	Filter    string     `json:"filter,omitempty"`
	Total     int        `json:"total"`
	Distinct  int        `json:"distinct,omitempty"`
	Rows      []countRow `json:"rows"`
	Page
	Note string `json:"note,omitempty"`
}

func countEvents(ctx context.Context, c *call, in countEventsInput) (*countResult, error) {
	countable := strings.ToLower(strings.TrimSpace(in.Countable))
	if countable == "" {
		countable = "event"
	}
	if !slices.Contains(countables, countable) {
		return nil, badInput("countable %q is not valid; use one of %s", clip(in.Countable, 40), strings.Join(countables, ", "))
	}
	limit, _, err := pageArgs(in.Limit, 0, defaultCountRows, maxCountRows)
	if err != nil {
		return nil, err
	}
	w, err := resolveWindow("since", in.Since, "until", in.Until, c.deps.now(), countLookback)
	if err != nil {
		return nil, err
	}
	filter := prefect.Where{"occurred": prefect.Occurred(w.since, w.until)}
	var described []string
	if p := strings.TrimSpace(in.EventTypePrefix); p != "" {
		filter["event"] = prefect.EventPrefix(p)
		described = append(described, "event type "+clip(p, 120)+"*")
	}
	if r := strings.TrimSpace(in.ResourceID); r != "" {
		if prefix, ok := strings.CutSuffix(r, "*"); ok {
			filter["resource"] = prefect.ResourceIDPrefix(prefix)
		} else {
			filter["resource"] = prefect.ResourceID(r)
		}
		described = append(described, "resource "+clip(r, 120))
	}
	body := prefect.Body{"filter": filter}
	res := &countResult{Countable: countable, Window: w, Filter: strings.Join(described, ", ")}
	if countable == "time" {
		unit, interval, err := bucketSize(in.TimeUnit, in.TimeInterval, w)
		if err != nil {
			return nil, err
		}
		body["time_unit"], body["time_interval"] = unit, interval
		res.Bucket = fmt.Sprintf("%g %s", interval, unit)
	} else if in.TimeUnit != "" || in.TimeInterval != 0 {
		return nil, badInput("time_unit and time_interval apply to countable=time only (countable=day counts by calendar day)")
	} else if countable == "day" {
		if n := bucketCount(w, 24*time.Hour); n > maxTimeBuckets {
			return nil, badInput("the window spans %d days; at most %d day buckets are returned: shorten the window or use countable=time with time_unit=week", n, maxTimeBuckets)
		}
		res.Bucket = "1 day"
	}
	var counts []prefect.EventCount
	if err := c.target.Client.Post(ctx, prefect.Path("/events/count-by/%s", countable), body, &counts); err != nil {
		return nil, err
	}
	for _, n := range counts {
		res.Total += n.Count
	}
	if countable == "day" || countable == "time" {
		res.Rows = make([]countRow, len(counts))
		for i, n := range counts {
			res.Rows[i] = countRow{Start: ts(n.StartTime), Count: n.Count}
		}
		res.Page = Page{Count: len(res.Rows)}
		if res.Total == 0 {
			res.Note = "no events matched in the window"
		}
		return res, nil
	}
	slices.SortStableFunc(counts, func(a, b prefect.EventCount) int { return b.Count - a.Count })
	res.Distinct = len(counts)
	more := len(counts) > limit
	if more {
		counts = counts[:limit]
	}
	res.Rows = make([]countRow, len(counts))
	for i, n := range counts {
		r := countRow{Value: n.Value, Count: n.Count, First: ts(n.StartTime), Last: ts(n.EndTime)}
		if n.Label != n.Value {
			r.Label = n.Label
		}
		res.Rows[i] = r
	}
	res.Page = Page{Count: len(res.Rows), Truncated: more}
	switch {
	case more:
		res.Note = fmt.Sprintf("%d more %s values with smaller counts are left out; narrow with event_type_prefix or resource_id", res.Distinct-len(counts), countable)
	case res.Total == 0:
		res.Note = "no events matched in the window"
	}
	return res, nil
}

// bucketSize validates or chooses the time bucket of countable=time so the
// answer stays within maxTimeBuckets rows.
func bucketSize(unitArg string, interval float64, w timeWindow) (string, float64, error) {
	unit := strings.ToLower(strings.TrimSpace(unitArg))
	if unit == "" {
		if interval != 0 {
			return "", 0, badInput("time_interval needs a time_unit (second, minute, hour, day or week)")
		}
		for _, s := range autoSteps {
			if bucketCount(w, unitLength(s.unit, s.interval)) <= autoBucketsTarget {
				return s.unit, s.interval, nil
			}
		}
		return "week", 1, checkBuckets(w, "week", 1)
	}
	valid := false
	for _, u := range timeUnits {
		valid = valid || u.name == unit
	}
	if !valid {
		return "", 0, badInput("time_unit %q is not valid; use one of second, minute, hour, day, week", clip(unitArg, 40))
	}
	if interval == 0 {
		interval = 1
	}
	if interval < 0.01 {
		return "", 0, badInput("time_interval must be at least 0.01 (got %g)", interval)
	}
	return unit, interval, checkBuckets(w, unit, interval)
}

func checkBuckets(w timeWindow, unit string, interval float64) error {
	if n := bucketCount(w, unitLength(unit, interval)); n > maxTimeBuckets {
		return badInput("%g %s buckets over %s..%s make %d rows; at most %d are returned: use a larger time_unit or time_interval, or a shorter window (omit time_unit to have one chosen)",
			interval, unit, w.Since, w.Until, n, maxTimeBuckets)
	}
	return nil
}

func unitLength(unit string, interval float64) time.Duration {
	for _, u := range timeUnits {
		if u.name == unit {
			return time.Duration(float64(u.d) * interval)
		}
	}
	return 0
}

// bucketCount is how many buckets Prefect makes: the window's start is
// truncated to the bucket size, then every bucket up to until is returned.
func bucketCount(w timeWindow, step time.Duration) int {
	if step <= 0 {
		return 0
	}
	start := w.since.Truncate(step)
	return int(w.until.Sub(start)/step) + 1
}
