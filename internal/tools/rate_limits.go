package tools

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// rateLimitGroups are Prefect Cloud's rate-limited operation groups: the
// "keys" of the usage endpoint (not API keys).
var rateLimitGroups = []string{
	"artifacts", "block_documents", "block_schemas", "block_types", "concurrency_limits",
	"deployments", "flows", "runs", "variables", "work_pools", "work_queues",
	"reading-events", "writing-events", "reading-logs", "writing-logs",
}

const (
	rateLimitLookback = 72 * time.Hour
	// rateLimitMaxWindow bounds the usage read: 7 days is about 10,000
	// minutes per group, a few MB of counters.
	rateLimitMaxWindow = 7 * 24 * time.Hour
	// A run failing because of 429s ends shortly after the throttled minute
	// (the client's retries); runs ending this long after still count.
	throttleGrace          = 2 * time.Minute
	maxPeriodsPerGroup     = 10
	maxCorrelatedRuns      = 50
	correlationRunsPerPage = 200
	logsPerPage            = 200
	nearLimitRatio         = 0.8
)

var rateLimitLine = regexp.MustCompile(`(?i)\b429\b|rate[ -]?limit|too many requests`)

type rateLimitsInput struct {
	Since string `json:"since,omitempty" jsonschema:"RFC 3339 or relative (-24h); default until-3d"`
	Until string `json:"until,omitempty" jsonschema:"default a minute ago"`
}

func rateLimitsTool() Definition {
	return define(Definition{
		Name: ToolReviewRateLimits, Title: "Review rate limits", Group: GroupDiagnosis, Scope: CloudOnly,
		Summary: "Prefect Cloud only: when each operation group was rate limited (429s), and the failed runs and 429 log lines in those periods.",
	}, `Prefect Cloud: when each operation group (runs, deployments, reading-logs…; not API keys) was throttled by 429s, denied totals and peaks, and failed runs and 429 log lines in those periods. Default: the last 3 days.
Example: {"since":"-24h"}`,
		nil, reviewRateLimits)
}

type rateLimitsResult struct {
	Window      timeWindow       `json:"window"`
	Summary     string           `json:"summary"`
	Groups      []groupThrottle  `json:"throttled_groups,omitempty"`
	NearLimit   []nearLimit      `json:"near_limit,omitempty"`
	Correlation *rateCorrelation `json:"correlation,omitempty"`
	Note        string           `json:"note"`
}

type groupThrottle struct {
	Group            string             `json:"group"`
	Denied           int64              `json:"denied"`
	ThrottledMinutes int                `json:"throttled_minutes"`
	PeakDenied       int64              `json:"peak_denied_per_minute"`
	PeakMinute       string             `json:"peak_minute"`
	Limit            int64              `json:"limit_per_minute,omitempty"`
	Periods          []*throttledPeriod `json:"periods"`
	MorePeriods      int                `json:"more_periods,omitempty"`
}

type throttledPeriod struct {
	Start      string `json:"start"`
	End        string `json:"end"`
	Minutes    int    `json:"minutes"`
	Denied     int64  `json:"denied"`
	PeakDenied int64  `json:"peak_denied_per_minute"`
	FailedRuns int    `json:"failed_runs,omitempty"`

	group      string
	start, end time.Time
}

type nearLimit struct {
	Group        string `json:"group"`
	PeakRequests int64  `json:"peak_requests_per_minute"`
	Limit        int64  `json:"limit_per_minute"`
	At           string `json:"at"`
}

type rateCorrelation struct {
	Searched   string          `json:"searched"`
	Summary    string          `json:"summary"`
	FailedRuns []correlatedRun `json:"failed_runs,omitempty"`
	Truncated  bool            `json:"truncated,omitempty"`
}

type correlatedRun struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Flow          string   `json:"flow,omitempty"`
	Deployment    string   `json:"deployment,omitempty"`
	State         string   `json:"state"`
	End           string   `json:"end"`
	Message       string   `json:"message,omitempty"`
	During        []string `json:"during"`
	RateLimitLog  string   `json:"rate_limit_log,omitempty"`
	RateLimitLogs int      `json:"rate_limit_log_lines,omitempty"`
}

func reviewRateLimits(ctx context.Context, c *call, in rateLimitsInput) (*rateLimitsResult, error) {
	t := c.target
	switch {
	case t.Kind != target.Cloud:
		return nil, &target.Error{Msg: fmt.Sprintf(ToolReviewRateLimits+" needs Prefect Cloud: rate limits are a Prefect Cloud feature, and this server reads a %s Prefect API, which has none.", t.Kind)}
	case t.Grant != nil || t.Auth == target.AuthCloudOAuth:
		return nil, &target.Error{Msg: ToolReviewRateLimits + " needs a Prefect Cloud API key: rate-limit usage is an account-level read, which Cloud OAuth tokens (this server's mode) may not make. Check the account's rate limits in the Prefect Cloud UI."}
	case t.Auth != target.AuthAPIKey || t.CloudAPIRoot == "" || t.AccountID == "":
		return nil, &target.Error{Msg: ToolReviewRateLimits + " needs a Prefect Cloud API key (PREFECT_API_KEY) to read the account's rate-limit usage."}
	}
	now := c.deps.now()
	untilArg := in.Until
	if strings.TrimSpace(untilArg) == "" {
		untilArg = "-1m"
	}
	w, err := resolveWindow("since", in.Since, "until", untilArg, now, rateLimitLookback)
	if err != nil {
		return nil, err
	}
	if w.until.Sub(w.since) > rateLimitMaxWindow {
		return nil, badInput("the window %s to %s is longer than 7 days; narrow since/until (review a week at a time)", w.Since, w.Until)
	}
	acct, err := t.Client.WithBaseURL(t.CloudAPIRoot)
	if err != nil {
		return nil, err
	}
	q := url.Values{
		"since": {w.since.Format(time.RFC3339)},
		"until": {w.until.Format(time.RFC3339)},
		"keys":  slices.Clone(rateLimitGroups),
	}
	var usage prefect.RateLimitUsage
	if err := acct.Get(ctx, prefect.Path("/accounts/%s/rate-limits/usage", t.AccountID), q, &usage); err != nil {
		return nil, err
	}
	res := &rateLimitsResult{
		Window: w,
		Note:   "Groups are Prefect Cloud operation groups (the usage endpoint calls them keys), not API keys. A minute is throttled when more requests came than were granted; the difference was denied with HTTP 429.",
	}
	var periods []*throttledPeriod
	res.Groups, res.NearLimit, periods = analyseUsage(&usage)
	if len(res.Groups) == 0 {
		res.Summary = fmt.Sprintf("No throttling between %s and %s: no operation group had a request denied.", w.Since, w.Until)
		return res, nil
	}
	res.Summary = throttleSummary(res.Groups, w)
	res.Correlation, err = c.correlateThrottling(ctx, periods)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// usageMinute is one minute of one group.
type usageMinute struct {
	at                        time.Time
	limit, requested, granted float64
}

// analyseUsage merges consecutive throttled minutes per group into periods.
// It returns the throttled groups (most denied first, each with its periods
// most denied first), the groups that came close to their limit without
// being throttled, and every period (for correlation).
func analyseUsage(u *prefect.RateLimitUsage) ([]groupThrottle, []nearLimit, []*throttledPeriod) {
	minutes := make([]time.Time, len(u.Minutes))
	for i, m := range u.Minutes {
		minutes[i], _ = parseMinute(m)
	}
	var groups []groupThrottle
	var near []nearLimit
	var all []*throttledPeriod
	keys := make([]string, 0, len(u.Keys))
	for k := range u.Keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		s := u.Keys[key]
		n := min(len(minutes), len(s.Requested), len(s.Granted))
		g := groupThrottle{Group: key}
		var periods []*throttledPeriod
		var cur *throttledPeriod
		var peakReq usageMinute
		for i := range n {
			m := usageMinute{at: minutes[i], requested: s.Requested[i], granted: s.Granted[i]}
			if i < len(s.Limit) {
				m.limit = s.Limit[i]
			}
			if m.at.IsZero() {
				continue
			}
			if m.limit > 0 && m.requested/m.limit > peakReq.requested/math.Max(peakReq.limit, 1) {
				peakReq = m
			}
			denied := int64(math.Round(m.requested - m.granted))
			if denied <= 0 {
				continue
			}
			g.Denied += denied
			g.ThrottledMinutes++
			if denied > g.PeakDenied {
				g.PeakDenied, g.PeakMinute, g.Limit = denied, ts(m.at), int64(math.Round(m.limit))
			}
			if cur != nil && !m.at.After(cur.end) {
				cur.end = m.at.Add(time.Minute)
			} else {
				cur = &throttledPeriod{group: key, start: m.at, end: m.at.Add(time.Minute)}
				periods = append(periods, cur)
			}
			cur.Minutes++
			cur.Denied += denied
			cur.PeakDenied = max(cur.PeakDenied, denied)
		}
		if g.Denied == 0 {
			if peakReq.limit > 0 && peakReq.requested >= nearLimitRatio*peakReq.limit {
				near = append(near, nearLimit{Group: key, PeakRequests: int64(math.Round(peakReq.requested)), Limit: int64(math.Round(peakReq.limit)), At: ts(peakReq.at)})
			}
			continue
		}
		for _, p := range periods {
			p.Start, p.End = ts(p.start), ts(p.end)
		}
		all = append(all, periods...)
		slices.SortStableFunc(periods, func(a, b *throttledPeriod) int {
			if a.Denied != b.Denied {
				return cmpInt64(b.Denied, a.Denied)
			}
			return a.start.Compare(b.start)
		})
		if len(periods) > maxPeriodsPerGroup {
			g.MorePeriods = len(periods) - maxPeriodsPerGroup
			periods = periods[:maxPeriodsPerGroup]
		}
		g.Periods = periods
		groups = append(groups, g)
	}
	slices.SortStableFunc(groups, func(a, b groupThrottle) int { return cmpInt64(b.Denied, a.Denied) })
	return groups, near, all
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseMinute reads a minute timestamp; zone-less times are UTC.
func parseMinute(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func throttleSummary(groups []groupThrottle, w timeWindow) string {
	parts := make([]string, 0, len(groups))
	for _, g := range groups {
		n := len(g.Periods) + g.MorePeriods
		parts = append(parts, fmt.Sprintf("%s denied %d requests over %d minute%s in %d period%s (peak %d/min at %s)",
			g.Group, g.Denied, g.ThrottledMinutes, plural(g.ThrottledMinutes), n, plural(n), g.PeakDenied, g.PeakMinute))
	}
	return fmt.Sprintf("Throttling in %d operation group%s between %s and %s: %s.", len(groups), plural(len(groups)), w.Since, w.Until, strings.Join(parts, "; "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// correlateThrottling finds the failed and crashed runs that ended during
// throttled periods (one /flow_runs/filter over the whole throttled span)
// and their 429 warnings (one /logs/filter over those runs).
func (c *call) correlateThrottling(ctx context.Context, periods []*throttledPeriod) (*rateCorrelation, error) {
	spanStart, spanEnd := periods[0].start, periods[0].end
	for _, p := range periods {
		if p.start.Before(spanStart) {
			spanStart = p.start
		}
		if p.end.After(spanEnd) {
			spanEnd = p.end
		}
	}
	spanEnd = spanEnd.Add(throttleGrace)
	corr := &rateCorrelation{Searched: fmt.Sprintf("failed and crashed flow runs that ended during a throttled period (or within %s after it), between %s and %s", throttleGrace, ts(spanStart), ts(spanEnd))}
	var runs []prefect.FlowRun
	err := c.target.Client.Post(ctx, "/flow_runs/filter", prefect.Body{
		"flow_runs": prefect.Where{"state": prefect.StateTypeIn("FAILED", "CRASHED"), "end_time": prefect.Between(spanStart, spanEnd)},
		"sort":      "END_TIME_DESC", "limit": correlationRunsPerPage,
	}, &runs)
	if err != nil {
		return nil, err
	}
	corr.Truncated = len(runs) == correlationRunsPerPage
	var matched []prefect.FlowRun
	var during [][]string
	for _, r := range runs {
		if r.EndTime == nil {
			continue
		}
		end := r.EndTime.UTC()
		var labels []string
		for _, p := range periods {
			if !end.Before(p.start) && end.Before(p.end.Add(throttleGrace)) {
				p.FailedRuns++
				labels = append(labels, periodLabel(p))
			}
		}
		if len(labels) > 0 {
			matched = append(matched, r)
			during = append(during, labels)
		}
	}
	if len(matched) == 0 {
		corr.Summary = "No failed or crashed flow run ended during the throttled periods: the throttling did not visibly fail runs."
		return corr, nil
	}
	if len(matched) > maxCorrelatedRuns {
		matched, during, corr.Truncated = matched[:maxCorrelatedRuns], during[:maxCorrelatedRuns], true
	}
	ids := make([]string, len(matched))
	for i, r := range matched {
		ids[i] = r.ID
	}
	var names runNames
	var logs []prefect.LogEntry
	err = parallel(ctx, 3,
		func(ctx context.Context) error {
			var err error
			names, err = c.lookupNames(ctx, matched)
			return err
		},
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/logs/filter", prefect.Body{
				"logs": prefect.Where{"flow_run_id": prefect.AnyOf(ids...), "level": prefect.AtLeast(30)},
				"sort": "TIMESTAMP_ASC", "limit": logsPerPage,
			}, &logs)
		})
	if err != nil {
		return nil, err
	}
	firstLine := map[string]string{}
	lineCount := map[string]int{}
	for _, l := range logs {
		if !rateLimitLine.MatchString(l.Message) {
			continue
		}
		lineCount[l.FlowRunID]++
		if _, ok := firstLine[l.FlowRunID]; !ok {
			firstLine[l.FlowRunID] = ts(l.Timestamp) + " " + levelName(l.Level) + " " + l.Name + ": " + clip(l.Message, messageBudget)
		}
	}
	with429 := 0
	for i := range matched {
		r := &matched[i]
		row := correlatedRun{
			ID: r.ID, Name: r.Name, Flow: names.flows[strings.ToLower(r.FlowID)],
			State: stateLabel(r.StateType, r.StateName), End: tsp(r.EndTime),
			During: during[i], RateLimitLog: firstLine[r.ID], RateLimitLogs: lineCount[r.ID],
		}
		if r.DeploymentID != "" {
			row.Deployment = names.deployments[r.DeploymentID].Name
		}
		if r.State != nil {
			row.Message = clip(r.State.Message, messageBudget)
		}
		if row.RateLimitLogs > 0 {
			with429++
		}
		corr.FailedRuns = append(corr.FailedRuns, row)
	}
	corr.Summary = fmt.Sprintf("%d failed or crashed flow run%s ended during throttled periods; %d of them logged HTTP 429 / rate-limit warnings.", len(matched), plural(len(matched)), with429)
	if with429 > 0 {
		corr.Summary += " Those failures are likely caused by the rate limiting: spread the load (fewer concurrent runs or API calls in the named groups) or ask Prefect about higher limits."
	}
	if len(logs) == logsPerPage {
		corr.Summary += " (Only the first 200 warning lines of these runs were searched; " + ToolGetFlowRunLogs + " shows the rest.)"
	}
	return corr, nil
}

func periodLabel(p *throttledPeriod) string {
	return fmt.Sprintf("%s %s to %s", p.group, p.Start, p.End)
}
