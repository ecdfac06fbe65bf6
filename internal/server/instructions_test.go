package server

import (
	"strings"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// The instructions describe what the late and stuck diagnoses cover, only
// when the server offers them, and stay small.
func TestInstructionsDescribeDiagnoses(t *testing.T) {
	all := instructions(tools.Offer(tools.All()), false)
	for _, want := range []string{"scheduling health", "next occurrence", "max(10× usual duration, 2 min)", "alive_slow, zombie, silent, orphaned, stuck_pending"} {
		if !strings.Contains(all, want) {
			t.Errorf("instructions lack %q:\n%s", want, all)
		}
	}
	if len(all) > 1536 {
		t.Errorf("instructions are %d bytes, budget 1.5 KiB", len(all))
	}
	var rest []tools.Definition
	for _, d := range tools.All() {
		if d.Name != tools.ToolDiagnoseLateRuns && d.Name != tools.ToolDiagnoseStuckRuns {
			rest = append(rest, d)
		}
	}
	if without := instructions(tools.Offer(rest), false); strings.Contains(without, "stuck past") {
		t.Errorf("instructions describe diagnoses the server does not offer:\n%s", without)
	}
}
