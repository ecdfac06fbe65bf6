package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// Sampling of get_server_status: a few rounds so an intermittent failure or
// replicas on different versions show, each probe bounded on its own so one
// stalled endpoint cannot hold the whole call.
const (
	statusRounds       = 3
	statusMaxRounds    = 5
	statusProbeTimeout = 2 * time.Second
	statusRoundGap     = 100 * time.Millisecond
)

// statusProbes are the endpoints sampled, with what each one tells.
var statusProbes = []struct{ path, checks string }{
	{"/health", "the API process answers"},
	{"/ready", "the API can reach its database"},
	{"/admin/version", "Prefect release of the replica that answered"},
	{"/version", "REST API version"},
}

type serverStatusInput struct {
	Rounds int `json:"rounds,omitempty" jsonschema:"default 3"`
	Workspace
}

func serverStatusTool() Definition {
	return define(Definition{
		Name: ToolGetServerStatus, Title: "Get server status", Group: GroupInfrastructure, Scope: SelfHostedOnly,
		Summary: "Health of a self-hosted Prefect server: /health, /ready and version probes sampled a few times, latency, error classes, version skew between replicas.",
	}, `Self-hosted: probes /health, /ready and the versions a few times (no retries): status, latency, error class, version skew between replicas. Check first when everything is Late or every call fails.
Example: {}`,
		func(s *jsonschema.Schema) { bound(s, "rounds", 1, statusMaxRounds) },
		getServerStatus)
}

type probeSummary struct {
	Path      string         `json:"path"`
	Checks    string         `json:"checks"`
	OK        int            `json:"ok"`
	Failed    int            `json:"failed,omitempty"`
	MedianMS  float64        `json:"median_ms"`
	MaxMS     float64        `json:"max_ms"`
	Errors    map[string]int `json:"errors,omitempty"`
	LastError string         `json:"last_error,omitempty"`
	Values    map[string]int `json:"values,omitempty"`
}

type serverStatusResult struct {
	APIURL         string         `json:"api_url"`
	CheckedAt      string         `json:"checked_at"`
	Verdict        string         `json:"verdict"`
	Summary        string         `json:"summary"`
	Rounds         int            `json:"rounds"`
	ProbeTimeoutMS int            `json:"probe_timeout_ms"`
	Probes         []probeSummary `json:"probes"`
	PrefectVersion string         `json:"prefect_version,omitempty"`
	APIVersion     string         `json:"api_version,omitempty"`
	VersionSkew    bool           `json:"version_skew,omitempty"`
	Notes          []string       `json:"notes,omitempty"`
	CannotTell     []string       `json:"cannot_tell"`
	NextSteps      []string       `json:"next_steps,omitempty"`
}

// statusCannotTell is what no probe of the REST API can reveal.
var statusCannotTell = []string{
	"database health beyond /ready's connectivity check (slow queries, connection pool exhaustion, disk, pending migrations)",
	"which replica answered each probe: a load balancer hides them; version_skew is the only hint of several",
	"whether the server's background services (scheduler, late-run marker, cancellation cleanup, event persister) are alive: a stopped scheduler shows as deployments that get no new runs, a stopped late-run marker as past-due runs still Scheduled",
	"worker hosts and their resources (worker heartbeats: " + ToolGetWorkPools + "), queue backlog age (" + ToolDiagnoseLateRuns + ", " + ToolGetWorkQueues + ")",
	"the network path from workers to the API, which may differ from this server's",
}

// sample is one probe's outcome in one round.
type sample struct {
	latency time.Duration
	err     error
	value   string // the version string of a version probe
}

func getServerStatus(ctx context.Context, c *call, in serverStatusInput) (*serverStatusResult, error) {
	rounds := in.Rounds
	if rounds == 0 {
		rounds = statusRounds
	}
	if rounds < 1 || rounds > statusMaxRounds {
		return nil, badInput("rounds must be between 1 and %d (got %d)", statusMaxRounds, rounds)
	}
	if c.target.Kind == target.Cloud {
		return nil, badInput(ToolGetServerStatus + " probes a self-hosted Prefect server; Prefect Cloud's health is published at https://status.prefect.io")
	}
	client := c.target.Client.WithoutRetries()
	samples := make([][]sample, len(statusProbes))
	var mu sync.Mutex
	for round := range rounds {
		if round > 0 && sleepCtx(ctx, statusRoundGap) != nil {
			break
		}
		jobs := make([]func(context.Context) error, len(statusProbes))
		for i, p := range statusProbes {
			jobs[i] = func(ctx context.Context) error {
				s := probe(ctx, client, p.path)
				mu.Lock()
				samples[i] = append(samples[i], s)
				mu.Unlock()
				return nil // a failed probe is a finding, not an error
			}
		}
		_ = parallel(ctx, len(jobs), jobs...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return summarizeStatus(c, rounds, samples), nil
}

// probe makes one attempt at path within its own timeout. Latency is wall
// time by nature, so it reads the real clock, not the call's.
func probe(ctx context.Context, client *prefect.Client, path string) sample {
	ctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
	defer cancel()
	var raw json.RawMessage
	start := time.Now()
	err := client.Get(ctx, path, nil, &raw)
	s := sample{latency: time.Since(start), err: err}
	if err == nil && strings.HasSuffix(path, "version") {
		if json.Unmarshal(raw, &s.value) != nil {
			s.value = clip(string(raw), 60)
		}
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// probeErrorClass names a failure the way an operator triages it.
func probeErrorClass(err error) string {
	var api *prefect.APIError
	var transport *prefect.TransportError
	var resp *prefect.ResponseError
	switch {
	case errors.As(err, &api):
		return fmt.Sprintf("http_%d", api.Status)
	case errors.As(err, &transport):
		return string(transport.Kind)
	case errors.As(err, &resp):
		return "bad_response"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

func summarizeStatus(c *call, rounds int, samples [][]sample) *serverStatusResult {
	res := &serverStatusResult{
		APIURL: c.target.APIURL, CheckedAt: ts(c.deps.now()), Rounds: rounds,
		ProbeTimeoutMS: int(statusProbeTimeout / time.Millisecond), CannotTell: statusCannotTell,
	}
	var answered int
	healthDown := false
	failed := map[string]int{} // failures that say something about health, by path
	for i, p := range statusProbes {
		ps := probeSummary{Path: p.path, Checks: p.checks}
		lat := make([]float64, 0, len(samples[i]))
		isHealth := p.path == "/health" || p.path == "/ready"
		for _, s := range samples[i] {
			lat = append(lat, float64(s.latency.Microseconds())/1000)
			if s.err == nil || gotAnswer(s.err) {
				answered++
			}
			if s.err == nil {
				ps.OK++
				if s.value != "" {
					if ps.Values == nil {
						ps.Values = map[string]int{}
					}
					ps.Values[s.value]++
				}
				continue
			}
			ps.Failed++
			class := probeErrorClass(s.err)
			if ps.Errors == nil {
				ps.Errors = map[string]int{}
			}
			ps.Errors[class]++
			ps.LastError = probeErrorText(s.err)
			// A refused version endpoint (4xx) is policy, not sickness.
			if isHealth || !strings.HasPrefix(class, "http_4") {
				failed[p.path]++
			}
		}
		ps.MedianMS, ps.MaxMS = median(lat), maxOf(lat)
		if isHealth && ps.Failed > 0 && ps.OK == 0 {
			healthDown = true
		}
		res.Probes = append(res.Probes, ps)
	}

	release, api := res.Probes[2], res.Probes[3]
	res.PrefectVersion, res.APIVersion = joinValues(release.Values), joinValues(api.Values)
	res.VersionSkew = len(release.Values) > 1 || len(api.Values) > 1
	if res.VersionSkew {
		res.Notes = append(res.Notes, "version_skew: the samples disagree on the version ("+describeValues(release.Values, api.Values)+"): several server replicas behind a load balancer run different releases, or an upgrade is half done; runs and workers may see different behaviour per request")
	}
	if len(api.Values) == 1 && res.APIVersion != prefect.APIVersion {
		res.Notes = append(res.Notes, fmt.Sprintf("the server's REST API version is %s; this client speaks %s: some answers may differ from what the tools expect", res.APIVersion, prefect.APIVersion))
	}
	for _, p := range res.Probes[2:] {
		if p.OK == 0 && p.Failed > 0 && onlyClientErrors(p.Errors) {
			res.Notes = append(res.Notes, p.Path+" is refused (a proxy or auth in front of the server may block it); that says nothing about health")
		}
	}
	if med := res.Probes[0].MedianMS; res.Probes[0].OK > 0 && med >= 1000 {
		res.Notes = append(res.Notes, fmt.Sprintf("/health takes %.0f ms at the median: the server is overloaded or far away", med))
	}

	switch {
	case answered == 0:
		res.Verdict = "unreachable"
		res.Summary = fmt.Sprintf("No probe got an answer in %d rounds (%s): the API is down or unreachable from here.", rounds, errorClasses(res.Probes))
		res.NextSteps = []string{
			"Check that the server process runs and listens on the configured PREFECT_API_URL (" + ToolGetIdentity + " shows it), and any proxy or load balancer in front of it.",
			"While the API is unreachable, workers cannot pick up runs (they go Late) and states cannot change.",
		}
	case healthDown:
		res.Verdict = "unhealthy"
		res.Summary = fmt.Sprintf("Health checks fail in every round (%s).", failedProbes(failed, rounds))
		res.NextSteps = []string{
			"Read the server's own logs; a failing /ready usually means the database is unreachable, overloaded or out of connections.",
			"Runs go Late and states stop updating while this lasts; fix the server before diagnosing workers or deployments.",
		}
	case len(failed) > 0 || res.VersionSkew:
		res.Verdict = "degraded"
		parts := []string{}
		if len(failed) > 0 {
			parts = append(parts, "failing probes ("+failedProbes(failed, rounds)+")")
		}
		if res.VersionSkew {
			parts = append(parts, "version skew between replicas")
		}
		res.Summary = "Server answers but with " + strings.Join(parts, " and ") + "."
		res.NextSteps = []string{
			"Occasional 503s from /ready are transient database errors, sustained ones a saturated database; timeouts mean an overloaded server or proxy. A replica on another version should be upgraded or drained.",
			"Then check workers and pools (" + ToolGetWorkPools + ", " + ToolDiagnoseLateRuns + ") if runs are Late.",
		}
	default:
		res.Verdict = "healthy"
		res.Summary = fmt.Sprintf("/health and /ready passed in all %d rounds (median /health %.1f ms).", rounds, res.Probes[0].MedianMS)
		res.NextSteps = []string{"The API itself is healthy: if runs are Late or stuck, look at workers, pools and limits (" + ToolDiagnoseLateRuns + ", " + ToolGetWorkPools + ", " + ToolGetConcurrencyLimits + ")."}
	}
	if res.PrefectVersion != "" {
		res.Summary += " Prefect " + res.PrefectVersion + "."
	}
	return res
}

// probeErrorText is a short account of a failed probe: the status and
// Prefect's detail, or the network cause without the repeated URL.
func probeErrorText(err error) string {
	var api *prefect.APIError
	var transport *prefect.TransportError
	switch {
	case errors.As(err, &api):
		text := fmt.Sprintf("HTTP %d", api.Status)
		if api.Detail != "" {
			text += ": " + api.Detail
		}
		return clip(text, messageBudget)
	case errors.As(err, &transport) && transport.Err != nil:
		return clip(string(transport.Kind)+": "+transport.Err.Error(), messageBudget)
	}
	return clip(err.Error(), messageBudget)
}

// gotAnswer reports a failure that still came with an HTTP response: the
// server is reachable even if it is unwell.
func gotAnswer(err error) bool {
	var api *prefect.APIError
	var resp *prefect.ResponseError
	return errors.As(err, &api) || errors.As(err, &resp)
}

func onlyClientErrors(errs map[string]int) bool {
	for class := range errs {
		if !strings.HasPrefix(class, "http_4") {
			return false
		}
	}
	return len(errs) > 0
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return math.Round(m*10) / 10
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return math.Round(slices.Max(xs)*10) / 10
}

// joinValues lists the values seen, most frequent first.
func joinValues(counts map[string]int) string {
	vals := make([]string, 0, len(counts))
	for v := range counts {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool {
		if counts[vals[i]] != counts[vals[j]] {
			return counts[vals[i]] > counts[vals[j]]
		}
		return vals[i] < vals[j]
	})
	return strings.Join(vals, ", ")
}

func describeValues(sets ...map[string]int) string {
	var parts []string
	for _, counts := range sets {
		if len(counts) > 1 {
			for _, v := range strings.Split(joinValues(counts), ", ") {
				parts = append(parts, fmt.Sprintf("%s ×%d", v, counts[v]))
			}
		}
	}
	return strings.Join(parts, ", ")
}

func errorClasses(probes []probeSummary) string {
	seen := map[string]int{}
	for _, p := range probes {
		for class, n := range p.Errors {
			seen[class] += n
		}
	}
	return joinValues(seen)
}

func failedProbes(failed map[string]int, rounds int) string {
	paths := make([]string, 0, len(failed))
	for p := range failed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	parts := make([]string, len(paths))
	for i, p := range paths {
		parts[i] = fmt.Sprintf("%s failed %d of %d", p, failed[p], rounds)
	}
	return strings.Join(parts, ", ")
}
