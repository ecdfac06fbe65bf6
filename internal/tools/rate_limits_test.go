package tools_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

const (
	cloudAccount   = "6a3f0d4e-8f5b-4c1a-9e2d-7b8c9d0e1f2a"
	cloudWorkspace = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	cloudKey       = "pnu_ratelimitreviewtestkey"
)

var usageRoute = "GET /accounts/{account_id}/rate-limits/usage"

// today is the date of now, for times written as HH:MM today.
var today = now.Format("2006-01-02T")

// usage is one rate_limit_usage row of the fake: minute is HH:MM today.
func rlUsage(key, minute string, limit, requested, granted int) map[string]any {
	return map[string]any{
		"key": key, "minute": today + minute + ":00Z",
		"limit": limit, "usage": min(requested, granted), "requested": requested, "granted": granted,
	}
}

// throttledOtter fails at 10:30:40, inside the runs group's throttled
// minutes, after logging a 429 warning.
var throttledOtter = prefecttest.DemoID("flow_run", "throttled-otter")

func addThrottledRun(d *prefecttest.Data) {
	at := func(s string) string { return today + s + ".000000Z" }
	state := map[string]any{
		"id": prefecttest.DemoID("state", "throttled-otter/failed"), "type": "FAILED", "name": "Failed",
		"timestamp": at("10:30:40"), "message": "Flow run encountered an exception: PrefectHTTPStatusError: Client error '429 Too Many Requests'",
		"state_details": map[string]any{},
	}
	d.Add(prefecttest.FlowRuns, map[string]any{
		"id": throttledOtter, "name": "throttled-otter", "created": at("10:29:00"), "updated": at("10:30:40"),
		"flow_id": prefecttest.DemoID("flow", "etl-pipeline"), "deployment_id": prefecttest.DemoID("deployment", "etl-hourly"),
		"work_pool_name": prefecttest.DemoProcessPool, "work_queue_name": "default",
		"state": state, "run_count": 1, "expected_start_time": at("10:29:00"), "start_time": at("10:29:05"), "end_time": at("10:30:40"),
		"total_run_time": 95.0, "tags": []any{}, "parameters": map[string]any{}, "empirical_policy": map[string]any{},
	})
	logLine := func(n int, ts string, level int, msg string) map[string]any {
		return map[string]any{
			"id": prefecttest.DemoID("log", "throttled-otter/"+string(rune('a'+n))), "created": at(ts), "updated": at(ts),
			"name": "prefect.flow_runs", "level": level, "message": msg, "timestamp": at(ts), "flow_run_id": throttledOtter,
		}
	}
	d.Add(prefecttest.Logs,
		logLine(0, "10:30:10", 20, "Received 429 from the API once; info only"), // below WARNING: not searched
		logLine(1, "10:30:15", 30, "Task run 'load' is slow"),
		logLine(2, "10:30:20", 30, "HTTP Error 429: Too Many Requests for url 'https://api.prefect.cloud/api/accounts/x/workspaces/y/flow_runs/filter'; retrying in 12s"),
		logLine(3, "10:30:35", 30, "Rate limit reached again; retrying in 20s"),
		logLine(4, "10:30:40", 40, "Finished in state Failed"),
	)
}

func newCloudEnv(t *testing.T, rows ...map[string]any) *env {
	t.Helper()
	d := prefecttest.Demo(now)
	d.Add(prefecttest.RateLimitUsage, rows...)
	addThrottledRun(d)
	fake := prefecttest.New(prefecttest.WithCloud(cloudAccount, cloudWorkspace), prefecttest.WithAPIKey(cloudKey),
		prefecttest.WithData(d), prefecttest.WithClock(func() time.Time { return now }))
	t.Cleanup(fake.Close)
	return newEnvWithTarget(t, fake, target.Credentials{APIURL: fake.URL, APIKey: cloudKey})
}

func TestReviewRateLimitsFindsThrottlingAndFailedRuns(t *testing.T) {
	e := newCloudEnv(t,
		rlUsage("runs", "10:28", 400, 380, 380),
		rlUsage("runs", "10:29", 400, 450, 400),
		rlUsage("runs", "10:30", 400, 520, 400),
		rlUsage("runs", "10:31", 400, 390, 390),
		rlUsage("runs", "10:45", 400, 430, 400),
		rlUsage("deployments", "10:50", 100, 105, 100),
		rlUsage("reading-logs", "09:00", 100, 90, 90),
		rlUsage("flows", "09:00", 100, 10, 10),
	)
	text, isErr := e.call(t, "review_rate_limits", nil)
	if isErr {
		t.Fatal(text)
	}
	t.Logf("review_rate_limits: %d bytes\n%s", len(text), text)
	if len(text) > 8<<10 {
		t.Errorf("result is %d bytes, budget 8 KiB", len(text))
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	window := out["window"].(map[string]any)
	if window["since"] != ts(-72*time.Hour-time.Minute) || window["until"] != ts(-time.Minute) {
		t.Errorf("default window = %v, want 3 days until a minute ago", window)
	}
	summary := out["summary"].(string)
	for _, w := range []string{"2 operation groups", "runs denied 200 requests over 3 minutes in 2 periods (peak 120/min at " + today + "10:30:00Z)", "deployments denied 5"} {
		if !strings.Contains(summary, w) {
			t.Errorf("summary %q lacks %q", summary, w)
		}
	}
	if !strings.Contains(out["note"].(string), "not API keys") {
		t.Errorf("note does not say the keys are operation groups: %v", out["note"])
	}

	groups := rows(t, out, "throttled_groups")
	if len(groups) != 2 || groups[0]["group"] != "runs" || groups[1]["group"] != "deployments" {
		t.Fatalf("groups = %v, want runs then deployments (most denied first)", groups)
	}
	runs := groups[0]
	if runs["denied"] != 200.0 || runs["throttled_minutes"] != 3.0 || runs["peak_denied_per_minute"] != 120.0 || runs["limit_per_minute"] != 400.0 {
		t.Errorf("runs totals = %v", runs)
	}
	periods := rows(t, runs, "periods")
	want := []struct {
		start, end   string
		minutes      float64
		denied, peak float64
		failedRuns   any
	}{
		{today + "10:29:00Z", today + "10:31:00Z", 2, 170, 120, 2.0},
		{today + "10:45:00Z", today + "10:46:00Z", 1, 30, 30, nil},
	}
	if len(periods) != len(want) {
		t.Fatalf("runs periods = %v", periods)
	}
	for i, w := range want {
		p := periods[i]
		if p["start"] != w.start || p["end"] != w.end || p["minutes"] != w.minutes || p["denied"] != w.denied || p["peak_denied_per_minute"] != w.peak || p["failed_runs"] != w.failedRuns {
			t.Errorf("period %d = %v, want %+v", i, p, w)
		}
	}
	near := rows(t, out, "near_limit")
	if len(near) != 1 || near[0]["group"] != "reading-logs" || near[0]["peak_requests_per_minute"] != 90.0 {
		t.Errorf("near_limit = %v", near)
	}

	// Correlation: the two runs that failed in the 10:29-10:31 period, not
	// gentle-lynx, which failed at 10:40 between periods.
	corr := out["correlation"].(map[string]any)
	failed := rows(t, corr, "failed_runs")
	var names []string
	for _, r := range failed {
		names = append(names, r["name"].(string))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"crimson-falcon", "throttled-otter"}) {
		t.Fatalf("correlated runs = %v, want crimson-falcon and throttled-otter", names)
	}
	for _, r := range failed {
		during, _ := json.Marshal(r["during"])
		if !strings.Contains(string(during), "runs "+today+"10:29:00Z to "+today+"10:31:00Z") {
			t.Errorf("%s: during = %s", r["name"], during)
		}
		switch r["name"] {
		case "throttled-otter":
			if r["flow"] != "etl-pipeline" || r["deployment"] != "etl-hourly" || r["state"] != "Failed" || r["rate_limit_log_lines"] != 2.0 {
				t.Errorf("throttled-otter = %v", r)
			}
			if log, _ := r["rate_limit_log"].(string); !strings.HasPrefix(log, today+"10:30:20Z WARNING prefect.flow_runs: HTTP Error 429: Too Many Requests") {
				t.Errorf("429 log line = %q", log)
			}
		case "crimson-falcon":
			if _, ok := r["rate_limit_log"]; ok {
				t.Errorf("crimson-falcon has no 429 line, got %v", r["rate_limit_log"])
			}
		}
	}
	if s := corr["summary"].(string); !strings.Contains(s, "2 failed or crashed flow runs") || !strings.Contains(s, "1 of them logged HTTP 429") {
		t.Errorf("correlation summary = %q", s)
	}

	// One usage read for all 15 groups; one read each for runs, logs, flow
	// and deployment names, whatever the number of periods and runs.
	reqs := e.fake.Requests()
	if reqs[0].Route != usageRoute {
		t.Fatalf("first request = %s", reqs[0].Route)
	}
	q, _ := url.ParseQuery(reqs[0].Query)
	if len(q["keys"]) != 15 || !slices.Contains(q["keys"], "reading-logs") || q.Get("since") != ts(-72*time.Hour-time.Minute) || q.Get("until") != ts(-time.Minute) {
		t.Errorf("usage query = %v", q)
	}
	counts := map[string]int{usageRoute: 1, "POST /flow_runs/filter": 1, "POST /logs/filter": 1, "POST /flows/filter": 1, "POST /deployments/filter": 1}
	for route, n := range counts {
		if got := e.fake.Count(route); got != n {
			t.Errorf("%s: %d requests, want %d", route, got, n)
		}
	}
	if len(reqs) != 5 {
		t.Errorf("%d upstream requests, want 5", len(reqs))
	}
	noWrites(t, e.fake)
}

func TestReviewRateLimitsNoThrottling(t *testing.T) {
	e := newCloudEnv(t, rlUsage("runs", "10:29", 400, 120, 120), rlUsage("flows", "10:29", 100, 3, 3))
	out := e.ok(t, "review_rate_limits", map[string]any{"since": "-24h", "until": ts(-time.Hour)})
	want := "No throttling between " + ts(-24*time.Hour) + " and " + ts(-time.Hour)
	if s := out["summary"].(string); !strings.HasPrefix(s, want) {
		t.Errorf("summary = %q, want it to start with %q", s, want)
	}
	for _, key := range []string{"throttled_groups", "correlation", "near_limit"} {
		if _, ok := out[key]; ok {
			t.Errorf("%s present without throttling: %v", key, out[key])
		}
	}
	if n := len(e.fake.Requests()); n != 1 {
		t.Errorf("%d upstream requests, want only the usage read", n)
	}
}

func TestReviewRateLimitsBadWindow(t *testing.T) {
	e := newCloudEnv(t)
	tests := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"since": "last tuesday"}, "RFC 3339"},
		{map[string]any{"since": "-1h", "until": "-2h"}, "must be the earlier time"},
		{map[string]any{"since": "-30d"}, "longer than 7 days"},
	}
	for _, tt := range tests {
		if msg := e.fail(t, "review_rate_limits", tt.args); !strings.Contains(msg, tt.want) {
			t.Errorf("%v: error %q lacks %q", tt.args, msg, tt.want)
		}
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("bad input made %d upstream requests", n)
	}
}

func TestReviewRateLimitsIsCloudAPIKeyOnly(t *testing.T) {
	// Self-hosted with a known kind: not offered at all.
	e := newEnv(t)
	list, err := e.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range list.Tools {
		if tool.Name == "review_rate_limits" {
			t.Error("review_rate_limits offered for a self-hosted server")
		}
	}
	// Cloud with an API key: offered.
	cloud := newCloudEnv(t)
	list, err = cloud.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list.Tools, func(tool *mcp.Tool) bool { return tool.Name == "review_rate_limits" }) {
		t.Error("review_rate_limits not offered for Prefect Cloud")
	}

	// A shared server (kind unknown) offers it; the call is refused for a
	// self-hosted target and for a Cloud OAuth target.
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	selfHosted := rlTarget(t, target.Credentials{APIURL: fake.URL})
	cloudFake := prefecttest.New(prefecttest.WithCloud(cloudAccount, cloudWorkspace), prefecttest.WithAPIKey(cloudKey), prefecttest.WithData(prefecttest.Demo(now)))
	defer cloudFake.Close()
	oauth := rlTarget(t, target.Credentials{APIURL: cloudFake.URL, APIKey: cloudKey})
	oauth.Auth = target.AuthCloudOAuth
	for _, tt := range []struct {
		tgt  *target.Target
		fake *prefecttest.Server
		want string
	}{
		{selfHosted, fake, "needs Prefect Cloud"},
		{oauth, cloudFake, "needs a Prefect Cloud API key"},
	} {
		deps := &tools.Deps{Resolver: target.Static{Target: tt.tgt}, Spec: spec, Now: clockNow}
		e := connect(t, tt.fake, deps, tools.Selection{})
		if msg := e.fail(t, "review_rate_limits", nil); !strings.Contains(msg, tt.want) {
			t.Errorf("error %q lacks %q", msg, tt.want)
		}
		if n := len(tt.fake.Requests()); n != 0 {
			t.Errorf("refused call made %d upstream requests", n)
		}
	}
}

func rlTarget(t *testing.T, creds target.Credentials) *target.Target {
	t.Helper()
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := target.Builder{HTTPClient: hc, UserAgent: "prefect-mcp/test"}.Build(creds, "")
	if err != nil {
		t.Fatal(err)
	}
	return tgt
}
