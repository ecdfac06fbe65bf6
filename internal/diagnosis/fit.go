package diagnosis

import (
	"encoding/json"
	"fmt"

	"github.com/prefect-mcp/prefect-mcp/internal/shape"
)

// Fit applies cuts, least useful first, until v encodes within budget
// bytes; it is the one budget fitter of the diagnosis answers.
func Fit(v any, budget int, cuts ...func()) {
	for _, cut := range cuts {
		if size(v) <= budget {
			return
		}
		cut()
	}
}

func size(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// FitRun keeps a run diagnosis within Budget: older history, deeper
// tracebacks and task lists first.
func FitRun(d *RunDiagnosis) {
	ev := &d.Evidence
	clipTB := func(n int) func() {
		return func() {
			if e := ev.Exception; e != nil {
				e.Traceback = clipHeadKeep(e.Traceback, n)
			}
			for i := range d.Subflows {
				if e := d.Subflows[i].Exception; e != nil {
					e.Traceback = clipHeadKeep(e.Traceback, n)
				}
			}
		}
	}
	Fit(d, Budget,
		func() {
			if n := len(ev.History); n > 5 {
				ev.History = ev.History[n-5:]
			}
		},
		func() {
			for i := range d.Subflows {
				if d.Subflows[i].Exception != nil && i < len(d.Subflows)-1 {
					d.Subflows[i].Exception.Traceback = ""
				}
			}
		},
		clipTB(1200),
		func() { ev.History = nil },
		func() {
			if len(ev.FailedTasks) > 3 {
				ev.FailedTasks = ev.FailedTasks[:3]
			}
			ev.NotReady = nil
		},
		clipTB(500),
		func() {
			ev.TaskRuns, ev.Attempts = nil, trimAttempts(ev.Attempts)
			for i := range d.Subflows {
				d.Subflows[i].Failed = nil
			}
		},
		clipTB(0),
	)
}

func trimAttempts(a []Attempt) []Attempt {
	if len(a) > 2 {
		return []Attempt{a[0], a[len(a)-1]}
	}
	return a
}

// FitLate keeps a late diagnosis within Budget: fewer examples and
// secondary blockers first, group by group, then the smallest groups.
func FitLate(d *LateDiagnosis) {
	var cuts []func()
	for i := range d.Groups {
		cuts = append(cuts, func() {
			g := &d.Groups[i]
			if len(g.Examples) > 1 {
				g.Examples = g.Examples[:1]
			}
			g.AlsoBlocking = nil
		})
	}
	for range len(d.Groups) - 1 {
		cuts = append(cuts, func() { d.Groups, d.Truncated = d.Groups[:len(d.Groups)-1], true })
	}
	Fit(d, Budget, cuts...)
}

// FitStuck keeps a stuck diagnosis within Budget: the shortest-stuck runs
// go first.
func FitStuck(d *StuckDiagnosis) {
	var cuts []func()
	for range len(d.Stuck) - 1 {
		cuts = append(cuts, func() { d.Stuck, d.Truncated = d.Stuck[:len(d.Stuck)-1], true })
	}
	Fit(d, Budget, cuts...)
}

// FitAutomation keeps an automation diagnosis within Budget: examples,
// then the action list beyond five, then failure texts, then the trigger
// text are cut.
func FitAutomation(d *AutomationDiagnosis) {
	ev := &d.Evidence
	clipFailures := func(n int) func() {
		return func() {
			for i := range ev.ActionFailures {
				f := &ev.ActionFailures[i]
				f.Reason, f.Validation, f.Action = shape.Clip(f.Reason, n), shape.Clip(f.Validation, n), shape.Clip(f.Action, n)
			}
		}
	}
	Fit(d, Budget,
		func() { ev.Examples = ev.Examples[:min(len(ev.Examples), 1)] },
		func() {
			if n := len(d.Automation.Actions); n > 5 {
				d.Automation.Actions = append(d.Automation.Actions[:5:5], fmt.Sprintf("…and %d more actions", n-5))
			}
		},
		func() { ev.Examples = nil },
		clipFailures(120),
		func() {
			for i, a := range d.Automation.Actions {
				d.Automation.Actions[i] = shape.Clip(a, 80)
			}
		},
		func() { d.Automation.Trigger = shape.Clip(d.Automation.Trigger, 200) },
		func() { ev.ActionFailures = ev.ActionFailures[:min(len(ev.ActionFailures), 1)] },
	)
}
