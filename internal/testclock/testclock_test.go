package testclock

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShift(t *testing.T) {
	base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		spec string
		want time.Time
	}{
		{"", base},
		{"1mo", time.Date(2026, 12, 26, 12, 0, 0, 0, time.UTC)},
		{"+1y", time.Date(2027, 11, 26, 12, 0, 0, 0, time.UTC)},
		{"10y", time.Date(2036, 11, 26, 12, 0, 0, 0, time.UTC)},
		{"-3d", time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)},
		{"36h", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := Shift(base, tt.spec)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("Shift(%q) = %v, %v; want %v", tt.spec, got, err, tt.want)
		}
	}
	for _, bad := range []string{"1 year", "y", "1w", "10yy"} {
		if _, err := Shift(base, bad); err == nil {
			t.Errorf("Shift(%q) accepted", bad)
		}
	}
}

// TestCIRunsShiftedSuitesUncached guards the CI step that proves the suites
// hold on any date. The suites read the shift while their packages
// initialise (var now = testclock.At(...)), before go test starts recording
// environment reads for its cache key, so without -count=1 every shifted
// run is answered from the cached unshifted result: a pass that proves
// nothing (it did, until this test).
func TestCIRunsShiftedSuitesUncached(t *testing.T) {
	ci, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	shifted := 0
	for _, line := range strings.Split(string(ci), "\n") {
		if !strings.Contains(line, EnvShift+"=") || !strings.Contains(line, "go test") {
			continue
		}
		shifted++
		if !strings.Contains(line, "-count=1") {
			t.Errorf(".ci/run runs a shifted suite that go test may answer from its cache: add -count=1:\n%s", line)
		}
	}
	if shifted == 0 {
		t.Errorf(".ci/run runs no test suite with %s set", EnvShift)
	}
}
