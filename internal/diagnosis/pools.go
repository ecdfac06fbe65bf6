package diagnosis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/shape"
)

// Bounds of the late and stuck facts: a fixed set of filter calls plus the
// workers of one pool, whatever the number of runs and pools involved.
const (
	// MaxScanned is the most runs one filter read returns (Prefect's cap).
	MaxScanned = prefect.MaxLimit
	// workerReadPools: pools whose workers are read (the first involved);
	// the others are judged by their status, which Prefect derives from
	// their workers' heartbeats (READY: a worker is online).
	workerReadPools    = 1
	defaultBeatSeconds = 30 // a worker's default heartbeat interval
	heartbeatMisses    = 3  // Prefect marks a worker offline after ~3 missed beats
)

// PoolFacts is a work pool as read for the late and stuck diagnoses.
type PoolFacts struct {
	Name        string
	Pool        *prefect.WorkPool // nil: not found
	Workers     []prefect.Worker
	WorkersRead bool // false beyond workerReadPools: judged by the pool's status
}

// poolJobs reads the named pools (one request) and the workers of the first
// (one more), into into.
func poolJobs(api API, names []string, into map[string]*PoolFacts) []func(context.Context) error {
	if len(names) == 0 {
		return nil
	}
	for i, n := range names {
		into[n] = &PoolFacts{Name: n, WorkersRead: i < workerReadPools}
	}
	jobs := []func(context.Context) error{func(ctx context.Context) error {
		pools, err := prefect.ByNames[prefect.WorkPool](ctx, api, "work_pools", names)
		if err != nil {
			return err
		}
		for i := range pools {
			if p := into[pools[i].Name]; p != nil {
				p.Pool = &pools[i]
			}
		}
		return nil
	}}
	for _, n := range names[:min(len(names), workerReadPools)] {
		p := into[n]
		jobs = append(jobs, func(ctx context.Context) error {
			err := api.Post(ctx, prefect.Path("/work_pools/%s/workers/filter", n), prefect.Body{"limit": maxWorkersRead}, &p.Workers)
			if prefect.IsNotFound(err) {
				return nil
			}
			return err
		})
	}
	return jobs
}

// poolHealth is a pool judged at a time: which workers are online.
type poolHealth struct {
	*PoolFacts
	online []prefect.Worker
	window time.Duration
	last   *prefect.Worker // most recent heartbeat
}

// judgePool marks the online workers: a heartbeat within heartbeatMisses
// intervals, or an ONLINE status when no heartbeat time is known.
func judgePool(p *PoolFacts, now time.Time) *poolHealth {
	if p == nil {
		return nil
	}
	h := &poolHealth{PoolFacts: p, window: heartbeatMisses * defaultBeatSeconds * time.Second}
	for i := range p.Workers {
		w := &p.Workers[i]
		interval := defaultBeatSeconds
		if w.HeartbeatIntervalSeconds != nil && *w.HeartbeatIntervalSeconds > 0 {
			interval = *w.HeartbeatIntervalSeconds
		}
		window := time.Duration(heartbeatMisses*interval) * time.Second
		if i == 0 || window > h.window {
			h.window = window
		}
		if w.LastHeartbeatTime != nil && (h.last == nil || w.LastHeartbeatTime.After(*h.last.LastHeartbeatTime)) {
			h.last = w
		}
		if (w.LastHeartbeatTime != nil && now.Sub(*w.LastHeartbeatTime) <= window) || (w.LastHeartbeatTime == nil && w.Status == "ONLINE") {
			h.online = append(h.online, *w)
		}
	}
	return h
}

// pushPool reports pools that need no worker (push and managed pools).
func (h *poolHealth) pushPool() bool {
	return h.Pool != nil && h.Pool.NeedsNoWorker()
}

// hasOnlineWorker is false when no worker heartbeats; with unread workers
// the pool's own status decides.
func (h *poolHealth) hasOnlineWorker() bool {
	if !h.WorkersRead {
		return h.Pool != nil && h.Pool.Status == "READY"
	}
	return len(h.online) > 0
}

func (h *poolHealth) evidence(now time.Time) string {
	status := "unknown"
	if h.Pool != nil {
		status = h.Pool.Status
	}
	switch {
	case !h.WorkersRead:
		return fmt.Sprintf("work pool %s status %s (from the pool; READY means a worker is online)", h.Name, status)
	case len(h.Workers) == 0:
		return fmt.Sprintf("work pool %s status %s; no worker has ever registered with it", h.Name, status)
	case len(h.online) > 0:
		w := h.online[0]
		return fmt.Sprintf("work pool %s status %s; %d worker(s) online, e.g. %q last heartbeat %s", h.Name, status, len(h.online), w.Name, shape.TSP(w.LastHeartbeatTime))
	case h.last != nil:
		return fmt.Sprintf("work pool %s status %s; %d worker(s), none online: last heartbeat from %q at %s (%s ago; heartbeat window %s)",
			h.Name, status, len(h.Workers), h.last.Name, shape.TSP(h.last.LastHeartbeatTime), shape.Dur(now.Sub(*h.last.LastHeartbeatTime).Seconds()), h.window)
	}
	return fmt.Sprintf("work pool %s status %s; %d worker(s), none online", h.Name, status, len(h.Workers))
}

func addUnique(list *[]string, v string) {
	if v != "" && !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

// runLabels labels up to n runs as "name (id, state)", then "+k more".
func runLabels(runs []prefect.FlowRun, n int) []string {
	var out []string
	for i, r := range runs {
		if i == n {
			out = append(out, fmt.Sprintf("+%d more", len(runs)-n))
			break
		}
		out = append(out, fmt.Sprintf("%s (%s, %s)", r.Name, r.ID, shape.StateLabel(r.StateType, r.StateName)))
	}
	return out
}

func runNames(runs []prefect.FlowRun, n int) string { return strings.Join(runLabels(runs, n), ", ") }

// lowerFirst lowers a sentence's first letter for use inside another,
// unless it starts an acronym.
func lowerFirst(s string) string {
	if s == "" || len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
