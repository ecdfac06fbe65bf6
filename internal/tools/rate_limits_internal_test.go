package tools

import (
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Cloud's series may be shorter than minutes, and minutes may have gaps:
// only index-aligned, time-adjacent throttled minutes form one period.
func TestAnalyseUsageShortSeriesAndGaps(t *testing.T) {
	u := &prefect.RateLimitUsage{
		Minutes: []string{"2026-11-26T10:00:00Z", "2026-11-26T10:01:00Z", "2026-11-26T10:03:00Z", "2026-11-26T10:04:00", "not a time", "2026-11-26T10:06:00Z"},
		Keys: map[string]prefect.RateLimitSeries{
			// 10:00 and 10:01 adjacent; 10:03 and 10:04 (zone-less = UTC)
			// adjacent after a gap; 10:06 has no entry (series too short).
			"runs": {Limit: []float64{10, 10, 10}, Requested: []float64{12, 15, 11, 13, 50}, Granted: []float64{10, 10, 10, 10, 10}},
			// Shorter than minutes and never throttled.
			"flows":       {Limit: []float64{100}, Requested: []float64{95}, Granted: []float64{95}},
			"variables":   {},
			"work_queues": {Requested: []float64{5, 6}, Granted: []float64{5, 6, 7, 8, 9, 10, 11}},
		},
	}
	groups, near, all := analyseUsage(u)
	if len(groups) != 1 || groups[0].Group != "runs" {
		t.Fatalf("groups = %+v", groups)
	}
	g := groups[0]
	if g.Denied != 11 || g.ThrottledMinutes != 4 || g.PeakDenied != 5 || g.PeakMinute != "2026-11-26T10:01:00Z" || g.Limit != 10 {
		t.Errorf("runs = %+v", g)
	}
	type period struct {
		start, end string
		minutes    int
		denied, pk int64
	}
	want := []period{{"2026-11-26T10:00:00Z", "2026-11-26T10:02:00Z", 2, 7, 5}, {"2026-11-26T10:03:00Z", "2026-11-26T10:05:00Z", 2, 4, 3}}
	if len(g.Periods) != len(want) || len(all) != 2 {
		t.Fatalf("periods = %+v", g.Periods)
	}
	for i, w := range want {
		p := g.Periods[i]
		if got := (period{p.Start, p.End, p.Minutes, p.Denied, p.PeakDenied}); got != w {
			t.Errorf("period %d = %+v, want %+v", i, got, w)
		}
	}
	if len(near) != 1 || near[0].Group != "flows" || near[0].PeakRequests != 95 {
		t.Errorf("near = %+v", near)
	}
}
