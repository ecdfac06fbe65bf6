package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/fakeprefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// toolRun is one tool measured against the serializing fakes.
type toolRun struct {
	name, args                 string
	reqDemo, reqLarge          int
	rounds                     int
	demo, large, parallel      time.Duration // medians
	bytesDemo, bytesLarge      int
	errDemo, errLarge, skipped string
}

// serialTools measures every tool (once per workspace) on the serializing
// fakes, demo and large, plus its rounds on the parallel-latency fake;
// P3 and P7 report from it.
func (b *bench) serialTools(ctx context.Context) ([]toolRun, error) {
	if b.toolRuns != nil {
		return b.toolRuns, nil
	}
	srv, err := b.shared(ctx)
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(4)
	sessions := map[*prefecttest.Server]*mcp.ClientSession{}
	for _, f := range []*prefecttest.Server{b.fakeSerialDemo, b.fakeSerialLarge, b.fakeSlow} {
		cs, err := httpSession(ctx, hc, srv.endpoint, f.URL)
		if err != nil {
			return nil, err
		}
		defer cs.Close()
		sessions[f] = cs
	}
	tools, err := toolsOf(ctx, sessions[b.fakeSerialDemo])
	if err != nil {
		return nil, err
	}
	slices.SortFunc(tools, func(a, c *mcp.Tool) int { return strings.Compare(a.Name, c.Name) })
	n := max(1, b.runs/4)
	// time calls the tool n times (after a warm-up) and returns the median,
	// the requests of one call and its result.
	time1 := func(f *prefecttest.Server, name string, args map[string]any) (time.Duration, int, string, bool, error) {
		cs := sessions[f]
		if _, _, err := callText(ctx, cs, name, args); err != nil { // warm-up (and the fake's indexes)
			return 0, 0, "", false, err
		}
		var d durations
		var text string
		var isErr bool
		for i := range n {
			if i == 0 {
				f.ResetLog()
			}
			t0 := time.Now()
			var err error
			if text, isErr, err = callText(ctx, cs, name, args); err != nil {
				return 0, 0, "", false, err
			}
			d = append(d, time.Since(t0))
			if i == 0 {
				text = strings.Clone(text)
			}
		}
		f.ResetLog()
		if _, _, err := callText(ctx, cs, name, args); err != nil {
			return 0, 0, "", false, err
		}
		return d.median(), len(f.Requests()), text, isErr, nil
	}
	var out []toolRun
	for _, t := range tools {
		args, ok := argsFor(t, b.demo)
		r := toolRun{name: t.Name, args: argsString(args)}
		if !ok {
			r.skipped = "required argument unknown"
			out = append(out, r)
			continue
		}
		b.logf("P7 %s", t.Name)
		var text string
		var isErr bool
		if r.demo, r.reqDemo, text, isErr, err = time1(b.fakeSerialDemo, t.Name, args); err != nil {
			return nil, err
		}
		if _, has := args["flow_run_id"]; isErr && !has && hasProperty(t, "flow_run_id") {
			// The schema cannot say "one of flow_run_id or ..."; give the run.
			args["flow_run_id"] = failedRunID(b.demo)
			r.args = argsString(args)
			if r.demo, r.reqDemo, text, isErr, err = time1(b.fakeSerialDemo, t.Name, args); err != nil {
				return nil, err
			}
		}
		r.bytesDemo = len(text)
		if isErr {
			r.errDemo = clipText(text, 60)
		}
		if r.large, r.reqLarge, text, isErr, err = time1(b.fakeSerialLarge, t.Name, args); err != nil {
			return nil, err
		}
		r.bytesLarge = len(text)
		if isErr {
			r.errLarge = clipText(text, 60)
		}
		// Rounds: on the fake that answers every request after the same
		// latency, in parallel, requests sent together arrive together.
		if r.parallel, _, _, _, err = time1(b.fakeSlow, t.Name, args); err != nil {
			return nil, err
		}
		b.waves.reset()
		if _, _, err := callText(ctx, sessions[b.fakeSlow], t.Name, args); err != nil {
			return nil, err
		}
		r.rounds = len(b.waves.waves(upstreamLatency))
		out = append(out, r)
	}
	b.toolRuns = out
	return out, nil
}

// P3: the fan-out tools against a Prefect that serves one request at a
// time (as one Prefect process on SQLite does): the large workspace
// against the demo, with the old model (20 ms per request, in parallel)
// beside it.
func (b *bench) p3FanOut(ctx context.Context) error {
	runs, err := b.serialTools(ctx)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if r.skipped != "" || (r.name != "get_dashboard" && r.name != "get_work_pools" && r.name != "get_deployment_activity" && !strings.HasPrefix(r.name, "diagnose_")) {
			continue
		}
		ratio := float64(r.large) / float64(r.demo)
		b.row("P3", fmt.Sprintf("`%s` %s, serializing upstream (%s per request, one at a time): %d → %d upstream requests/call in %d rounds",
			r.name, r.args, fakeprefect.ServiceTime, r.reqDemo, r.reqLarge, r.rounds),
			fmt.Sprintf("large workspace: median %s", ms(r.large)),
			fmt.Sprintf("demo: median %s (old model, %s per request in parallel: %s)", ms(r.demo), upstreamLatency, ms(r.parallel)),
			fmt.Sprintf("%.2f×", ratio), "≤ 2×", verdict(ratio, 2, false))
	}
	return nil
}

// P7: every tool's requests, rounds, latency and result size on the demo
// and on the large workspace, against a serializing upstream.
func (b *bench) p7PerTool(ctx context.Context) error {
	runs, err := b.serialTools(ctx)
	if err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Per tool against a serializing upstream (one request at a time, %s each, as one Prefect process on SQLite): "+
		"demo workspace vs the large one (%d work pools, %d deployments, %d flow runs, %d task runs, %d events). "+
		"Rounds: sequential groups of requests, measured on the demo with %s per request in parallel.\n\n",
		fakeprefect.ServiceTime, b.large.Len(prefecttest.WorkPools), b.large.Len(prefecttest.Deployments),
		b.large.Len(prefecttest.FlowRuns), b.large.Len(prefecttest.TaskRuns), b.large.Len(prefecttest.Events), upstreamLatency)
	sb.WriteString("| tool | arguments | requests demo | requests large | rounds | ms demo | ms large | large/demo | bytes demo | bytes large |\n")
	sb.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	var grows, slow []string
	for _, r := range runs {
		if r.skipped != "" {
			fmt.Fprintf(&sb, "| `%s` | (%s: skipped) | | | | | | | | |\n", r.name, r.skipped)
			continue
		}
		bytes := func(n int, errText string) string {
			if errText != "" {
				return fmt.Sprintf("%d (tool error: %s)", n, errText)
			}
			return fmt.Sprint(n)
		}
		mark := ""
		if r.reqLarge != r.reqDemo {
			mark = " **grows**"
			grows = append(grows, r.name)
		}
		ratio := float64(r.large) / float64(r.demo)
		if ratio > 2 && r.reqDemo+r.reqLarge > 0 { // a tool that reads nothing upstream is not paced by it
			slow = append(slow, r.name)
		}
		fmt.Fprintf(&sb, "| `%s` | %s | %d | %d%s | %d | %s | %s | %.2f× | %s | %s |\n", r.name, r.args, r.reqDemo, r.reqLarge, mark,
			r.rounds, ms(r.demo), ms(r.large), ratio, bytes(r.bytesDemo, r.errDemo), bytes(r.bytesLarge, r.errLarge))
	}
	b.extra = append(b.extra, sb.String())
	b.row("P7", "upstream requests per call, demo vs large workspace", listOr(grows, "constant for every tool", "grow: "), "—", "—", "constant",
		map[bool]string{true: "ok", false: "**miss**"}[len(grows) == 0])
	b.row("P7", fmt.Sprintf("latency per call on the large workspace vs the demo, serializing upstream (%s per request), tools that read upstream", fakeprefect.ServiceTime),
		listOr(slow, "within 2× for every tool", "over 2×: "), "—", "—", "≤ 2×", map[bool]string{true: "ok", false: "**miss**"}[len(slow) == 0])
	return nil
}

func listOr(names []string, none, prefix string) string {
	if len(names) == 0 {
		return none
	}
	return prefix + strings.Join(names, ", ")
}

// serialFakes starts the serializing fakes: the demo and the large
// workspace, as one Prefect process on SQLite serves them.
func (b *bench) serialFakes() {
	b.large = prefecttest.Large(b.now)
	b.fakeSerialDemo = prefecttest.New(prefecttest.WithSpec(b.spec), prefecttest.WithData(b.demo), prefecttest.WithSerial(fakeprefect.ServiceTime))
	b.fakeSerialLarge = prefecttest.New(prefecttest.WithSpec(b.spec), prefecttest.WithData(b.large), prefecttest.WithSerial(fakeprefect.ServiceTime))
}
