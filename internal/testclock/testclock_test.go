package testclock

import (
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
