package tools_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// TestCallDeadlineStopsStalledUpstream: against a Prefect that sends headers
// and then nothing, with a per-attempt timeout far beyond the call's, every
// tool call ends at the server's per-call deadline, across all its rounds of
// requests and retries, with the server's own message; the stalled upstream
// requests are cancelled (the fault returns only when its client gives up).
func TestCallDeadlineStopsStalledUpstream(t *testing.T) {
	for _, tool := range []string{"get_flows", "get_dashboard", "diagnose_late_runs"} {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)), prefecttest.WithFault(prefecttest.Fault{Kind: prefecttest.FaultStall}))
			t.Cleanup(fake.Close)
			t.Cleanup(func() { noWrites(t, fake) })
			hc := httpClient(t, prefect.TLSOptions{}, time.Hour)
			deps := &tools.Deps{
				Resolver: target.Static{Target: buildTarget(t, hc, fake.URL)}, Spec: spec,
				Now: func() time.Time { return now }, CallTimeout: 200 * time.Millisecond,
			}
			e := connect(t, fake, deps, tools.Selection{Kind: target.SelfHosted, KindKnown: true})
			text, isErr := e.callWithin(t, tool, nil)
			if !isErr {
				t.Fatalf("a stalled upstream gave a result: %s", text)
			}
			for _, want := range []string{"per-call deadline of 200ms", "did not answer in time", fake.URL} {
				if !strings.Contains(text, want) {
					t.Errorf("message lacks %q: %s", want, text)
				}
			}
		})
	}
}
