package tools

import (
	"slices"
	"sort"
	"testing"
)

func TestToolNamesListsTheRegistry(t *testing.T) {
	got := toolNames()
	sort.Strings(got)
	var want []string
	for _, d := range All() {
		want = append(want, d.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("toolNames() = %v, registry %v", got, want)
	}
}

func TestOfferedPrune(t *testing.T) {
	o := Offered{ToolGetFlowRuns: true, ToolSearch: true}
	for _, tc := range []struct{ in, want string }{
		{"Nothing named.", "Nothing named."},
		{"List with get_flow_runs. Or diagnose_flow_run.", "List with get_flow_runs."},
		{"Call diagnose_flow_run first. Then get_flow_runs.", "Then get_flow_runs."},
		{"One line.\nSee get_work_pools.\nLast line with search.", "One line.\nLast line with search."},
		{"get_flow_runs_extra is not a tool name. ok", "get_flow_runs_extra is not a tool name. ok"},
		{"Ends with a space. ", "Ends with a space. "},
	} {
		if got := o.Prune(tc.in); got != tc.want {
			t.Errorf("Prune(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := o.steps([]string{"a (get_flow_runs)", "b (get_work_pools)", "c"}); !slices.Equal(got, []string{"a (get_flow_runs)", "c"}) {
		t.Errorf("steps = %v", got)
	}
	if got := Offered(nil).Prune("x get_work_pools"); got != "x get_work_pools" {
		t.Errorf("nil Offered pruned: %q", got)
	}
}
