package diagnosis

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

func lateRun(name, dep, pool, queue, state string, ago time.Duration) prefect.FlowRun {
	return prefect.FlowRun{ID: "id-" + name, Name: name, DeploymentID: dep, WorkPoolName: pool, WorkQueueID: "q-" + queue, WorkQueueName: queue,
		StateType: "SCHEDULED", StateName: state, ExpectedStartTime: ptr(at(-ago))}
}

func activeRun(name, dep, pool, queue string) prefect.FlowRun {
	return prefect.FlowRun{ID: "id-" + name, Name: name, DeploymentID: dep, WorkPoolName: pool, WorkQueueID: "q-" + queue, StateType: "RUNNING", StateName: "Running"}
}

// lateWorld is a pool "p" with an online worker, a polled queue "default"
// and a deployment "dep"; each case changes one link of the chain.
func lateWorld(change func(f *LateFacts)) LateFacts {
	f := LateFacts{Now: t0,
		Late:        []prefect.FlowRun{lateRun("late-1", "dep", "p", "default", "Late", 10*time.Minute), lateRun("late-2", "dep", "p", "default", "Late", 5*time.Minute)},
		Deployments: map[string]prefect.Deployment{"dep": {ID: "dep", Name: "etl"}},
		Queues:      map[string]prefect.WorkQueue{"q-default": {ID: "q-default", Name: "default", WorkPoolName: "p", Status: "READY", LastPolled: ptr(at(-5 * time.Second))}},
		Pools: map[string]*PoolFacts{"p": {Name: "p", WorkersRead: true, Pool: &prefect.WorkPool{ID: "pool-id", Name: "p", Type: "process", Status: "READY"},
			Workers: []prefect.Worker{{Name: "w1", Status: "ONLINE", LastHeartbeatTime: ptr(at(-10 * time.Second))}}}},
	}
	if change != nil {
		change(&f)
	}
	return f
}

// TestLateRules: each blocker of the chain from facts alone, the first
// found as the cause and the others as also_blocking.
func TestLateRules(t *testing.T) {
	limit := func(n int) *int { return &n }
	for _, tc := range []struct {
		name     string
		change   func(f *LateFacts)
		cause    string
		evidence string
		also     string
	}{
		{"nothing blocks", nil, CauseNoBlocker, "", ""},
		{"pool paused", func(f *LateFacts) { f.Pools["p"].Pool.IsPaused, f.Pools["p"].Pool.Status = true, "PAUSED" }, CausePoolPaused, "is_paused=true", ""},
		{"no worker ever", func(f *LateFacts) { f.Pools["p"].Workers, f.Pools["p"].Pool.Status = nil, "NOT_READY" }, CauseNoWorker, "no worker has ever registered", ""},
		{"worker stopped beating", func(f *LateFacts) { f.Pools["p"].Workers[0].LastHeartbeatTime = ptr(at(-time.Hour)) }, CauseNoWorker, `last heartbeat from "w1"`, ""},
		{"workers unread: the pool status decides", func(f *LateFacts) { f.Pools["p"].WorkersRead, f.Pools["p"].Pool.Status = false, "NOT_READY" }, CauseNoWorker, "from the pool", ""},
		{"push pool needs no worker", func(f *LateFacts) { f.Pools["p"].Workers, f.Pools["p"].Pool.Type = nil, "cloud-run:push" }, CauseNoBlocker, "", ""},
		{"pool limit", func(f *LateFacts) {
			f.Pools["p"].Pool.ConcurrencyLimit = limit(1)
			f.Active = []prefect.FlowRun{activeRun("busy", "other", "p", "default")}
		}, CausePoolLimit, "busy (id-busy, Running)", ""},
		{"queue paused, and the deployment too", func(f *LateFacts) {
			q := f.Queues["q-default"]
			q.IsPaused, q.Status = true, "PAUSED"
			f.Queues["q-default"] = q
			d := f.Deployments["dep"]
			d.Paused = true
			f.Deployments["dep"] = d
		}, CauseQueuePaused, "work queue default", CauseDeploymentPaused},
		{"queue limit", func(f *LateFacts) {
			q := f.Queues["q-default"]
			q.ConcurrencyLimit = limit(1)
			f.Queues["q-default"] = q
			f.Active = []prefect.FlowRun{activeRun("busy", "other", "p", "default")}
		}, CauseQueueLimit, "concurrency_limit 1", ""},
		{"queue not polled", func(f *LateFacts) {
			q := f.Queues["q-default"]
			q.LastPolled = ptr(at(-time.Hour))
			f.Queues["q-default"] = q
		}, CauseQueueNotPolled, "last polled", ""},
		{"deployment limit (its own v2 limit)", func(f *LateFacts) {
			d := f.Deployments["dep"]
			d.GlobalConcurrencyLimit = &prefect.GlobalConcurrencyLimit{Name: "deployment:dep", Limit: 1, ActiveSlots: 1, Active: true}
			f.Deployments["dep"] = d
			f.Active = []prefect.FlowRun{activeRun("holder", "dep", "p", "default")}
		}, CauseDeploymentLimit, "1/1 slots in use", ""},
		{"global limit the deployment is bound to", func(f *LateFacts) {
			d := f.Deployments["dep"]
			d.GlobalConcurrencyLimit = &prefect.GlobalConcurrencyLimit{Name: "gpu", Limit: 2, ActiveSlots: 0, Active: true}
			f.Deployments["dep"] = d
			f.Limits = []prefect.GlobalConcurrencyLimit{{Name: "gpu", Limit: 2, ActiveSlots: 2, Active: true}} // fresher than the deployment's copy
		}, CauseGlobalLimit, "v2 limit gpu", ""},
		{"refused, a slot free again", func(f *LateFacts) {
			f.Late = []prefect.FlowRun{lateRun("waiting", "dep", "p", "default", "AwaitingConcurrencySlot", time.Minute)}
		}, CauseDeploymentLimit, "collision strategy ENQUEUE", ""},
	} {
		d := DiagnoseLate(lateWorld(tc.change))
		if len(d.Groups) != 1 {
			t.Fatalf("%s: groups %+v", tc.name, d.Groups)
		}
		g := d.Groups[0]
		ev := strings.Join(g.Evidence, " | ")
		if g.Cause != tc.cause || !strings.Contains(ev, tc.evidence) || tc.also != "" && !strings.Contains(strings.Join(g.AlsoBlocking, " "), tc.also) {
			t.Errorf("%s: cause %s, evidence %q, also %v; want %s, %q, %q", tc.name, g.Cause, ev, g.AlsoBlocking, tc.cause, tc.evidence, tc.also)
		}
		if len(g.NextSteps) == 0 || g.Explanation == "" || !strings.Contains(d.Summary, "not starting") {
			t.Errorf("%s: no next steps, explanation or summary: %+v", tc.name, d)
		}
	}
}

// Full limits that block no waiting run are ruled out, never blamed; a full
// tag limit holding task runs of a Running flow is reported apart.
func TestLateRuledOutAndTagHolds(t *testing.T) {
	f := lateWorld(func(f *LateFacts) {
		f.Limits = []prefect.GlobalConcurrencyLimit{{Name: "tag:db", Limit: 1, ActiveSlots: 1, Active: true}, {Name: "external-api", Limit: 5, ActiveSlots: 5, Active: true}, {Name: "roomy", Limit: 5, ActiveSlots: 1, Active: true}}
		f.Active = []prefect.FlowRun{activeRun("swift", "other", "p", "default")}
		f.PendingTasks = []prefect.TaskRun{{ID: "t1", Name: "load-0", FlowRunID: "id-swift", Tags: []string{"db"}}}
	})
	d := DiagnoseLate(f)
	ruled := strings.Join(d.RuledOut, " | ")
	if !strings.Contains(ruled, "tag limit db is full (1/1)") || !strings.Contains(ruled, "global limit external-api is full (5/5)") || strings.Contains(ruled, "roomy") {
		t.Errorf("ruled out = %v", d.RuledOut)
	}
	if len(d.TagHolds) != 1 || d.TagHolds[0].FlowRun != "swift" || d.TagHolds[0].Pending[0] != "load-0 (t1)" {
		t.Errorf("tag holds = %+v", d.TagHolds)
	}
	if s := fmt.Sprint(d.Groups); strings.Contains(s, "tag:") || strings.Contains(s, "external-api") {
		t.Errorf("a group blames a limit that blocks nothing: %s", s)
	}
}

// Nothing waiting: the summary says so, and with a deployment in scope
// gives its scheduling verdict and steps.
func TestLateNothingWaiting(t *testing.T) {
	f := LateFacts{Now: t0, Scope: Scope{DeploymentID: "dep"}, Scheduling: &SchedulingFacts{Deployment: prefect.Deployment{Name: "etl", Paused: true}}}
	d := DiagnoseLate(f)
	if d.Scheduling == nil || d.Scheduling.Verdict != SchedPaused || !strings.Contains(d.Summary, "nothing is waiting to start. Scheduling of deployment etl: paused") ||
		len(d.NextSteps) != 1 || d.Groups != nil || d.Checked != nil {
		t.Errorf("diagnosis = %+v", d)
	}
}

// Many groups stay within the budget, the cut said.
func TestFitLate(t *testing.T) {
	f := lateWorld(func(f *LateFacts) {
		f.Pools["p"].Workers, f.Pools["p"].Pool.Status = nil, "NOT_READY"
		f.Late = nil
		for i := range 40 {
			for j := range 4 {
				f.Late = append(f.Late, lateRun(fmt.Sprintf("a-rather-long-run-name-%02d-%d", i, j), fmt.Sprintf("deployment-%02d", i), "p", "default", "Late", time.Minute))
			}
		}
	})
	d := DiagnoseLate(f)
	if size(d) <= Budget {
		t.Fatalf("the case fits already (%d bytes): it tests nothing", size(d))
	}
	FitLate(&d)
	b, _ := json.Marshal(d)
	if len(b) > Budget || !d.Truncated || len(d.Groups) == 0 || d.LateRuns != 160 {
		t.Errorf("%d bytes, truncated %v, %d groups, %d late", len(b), d.Truncated, len(d.Groups), d.LateRuns)
	}
}
