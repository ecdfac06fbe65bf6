package main

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// waveLog records when each request reaches the fake (after its injected
// latency), to reconstruct a tool's critical path: requests sent together
// arrive together; a request that needed an earlier answer arrives at least
// one latency later.
type waveLog struct {
	mu      sync.Mutex
	arrived []arrival
}

type arrival struct {
	at    time.Time
	route string
}

func (w *waveLog) hook(_ http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	if i := strings.Index(p, "/api/"); i >= 0 {
		p = p[i+4:]
	}
	w.mu.Lock()
	w.arrived = append(w.arrived, arrival{time.Now(), r.Method + " " + p})
	w.mu.Unlock()
	return false
}

func (w *waveLog) reset() {
	w.mu.Lock()
	w.arrived = nil
	w.mu.Unlock()
}

// waves groups the recorded requests into sequential rounds.
func (w *waveLog) waves(latency time.Duration) [][]string {
	w.mu.Lock()
	a := slices.Clone(w.arrived)
	w.mu.Unlock()
	slices.SortFunc(a, func(x, y arrival) int { return x.at.Compare(y.at) })
	var out [][]string
	var start time.Time
	for _, r := range a {
		if len(out) == 0 || r.at.Sub(start) > latency/2 {
			out = append(out, nil)
			start = r.at
		}
		out[len(out)-1] = append(out[len(out)-1], r.route)
	}
	return out
}
