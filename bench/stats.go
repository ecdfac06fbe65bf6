package main

import (
	"fmt"
	"slices"
	"time"
)

// durations is a sample of measured wall times.
type durations []time.Duration

// quantile returns the q-quantile (nearest rank) of the sample.
func (d durations) quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

func (d durations) median() time.Duration { return d.quantile(0.5) }
func (d durations) p90() time.Duration    { return d.quantile(0.9) }

// ms formats a duration in milliseconds with sensible precision.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

func us(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// verdict compares a measured value with its target: lower is better unless
// higherBetter.
func verdict(v, target float64, higherBetter bool) string {
	if (higherBetter && v >= target) || (!higherBetter && v <= target) {
		return "ok"
	}
	return "**miss**"
}
