package tools

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

type concurrencyInput struct {
	Workspace
}

func concurrencyLimitsTool() Definition {
	return define(Definition{
		Name: ToolGetConcurrencyLimits, Title: "Get concurrency limits", Group: GroupInfrastructure,
		Summary: "Concurrency limits of every kind in one table (global, tag, deployment, work pool, work queue) with slots in use; limits at capacity first, up to 100.",
	}, `Concurrency limits (first 100), at capacity first: global, tag (with the task runs holding slots), deployment, work pool and queue (in use = Running+Pending runs). Use when runs wait as AwaitingConcurrencySlot or Late, or tasks stay Pending.
Example: {}`,
		nil, getConcurrencyLimits)
}

// limitRow is one concurrency limit of any kind.
type limitRow struct {
	Kind         string   `json:"kind"` // global, tag, deployment, work_pool, work_queue
	Name         string   `json:"name"`
	DeploymentID string   `json:"deployment_id,omitempty"`
	WorkPool     string   `json:"work_pool,omitempty"`
	Limit        int      `json:"limit"`
	InUse        int      `json:"in_use"`
	AtCapacity   bool     `json:"at_capacity,omitempty"`
	Inactive     bool     `json:"inactive,omitempty"`
	SlotDecay    float64  `json:"slot_decay_per_second,omitempty"`
	Holders      []string `json:"held_by_task_runs,omitempty"`
	Note         string   `json:"note,omitempty"`
}

// Kinds in display order: within the same capacity state, global limits
// come first because they are the ones a user set by hand.
var limitKindOrder = []string{"global", "tag", "deployment", "work_pool", "work_queue"}

// maxLimitRows is what one filter call returns (Prefect's maximum).
const maxLimitRows = 200

// maxHolders bounds the task-run ids listed per tag limit.
const maxHolders = 10

// collectedLimits are every limit read, and whether a kind had more than
// one page of them.
type collectedLimits struct {
	rows      []limitRow
	truncated bool
}

// concurrencyResult is the table of limits, at capacity first.
type concurrencyResult struct {
	Limits     []limitRow `json:"limits"`
	Count      int        `json:"count"`
	AtCapacity int        `json:"at_capacity"`
	Truncated  bool       `json:"truncated,omitempty"`
	Note       string     `json:"note,omitempty"`
}

func getConcurrencyLimits(ctx context.Context, c *call, _ concurrencyInput) (*concurrencyResult, error) {
	res, err := c.collectLimits(ctx)
	if err != nil {
		return nil, err
	}
	full := 0
	for _, r := range res.rows {
		if r.AtCapacity {
			full++
		}
	}
	out := &concurrencyResult{Limits: res.rows, Count: len(res.rows), AtCapacity: full, Truncated: res.truncated}
	if out.Limits == nil {
		out.Limits = []limitRow{}
		out.Note = "no concurrency limits are set in this workspace"
	}
	if res.truncated {
		out.Note = "more than 200 limits of one kind exist; only the first 200 of that kind are shown"
	}
	// At capacity first, so what is cut is the limits with room.
	if len(out.Limits) > maxLimitsShown {
		out.Limits, out.Truncated = out.Limits[:maxLimitsShown], true
		out.Note = strings.TrimPrefix(out.Note+"; ", "; ") + fmt.Sprintf("showing %d of %d limits, those at capacity first", maxLimitsShown, out.Count)
	}
	return out, nil
}

// maxLimitsShown keeps the answer within 12 KB on a workspace with
// hundreds of limits; the count and at_capacity cover them all.
const maxLimitsShown = 100

// collectLimits reads every kind of limit. Requests: four list calls, then
// one /deployments/filter for deployment-limit names: never per limit.
func (c *call) collectLimits(ctx context.Context) (collectedLimits, error) {
	var (
		v2     []prefect.GlobalConcurrencyLimit
		v1     []prefect.TagConcurrencyLimit
		pools  []prefect.WorkPool
		queues []prefect.WorkQueue
	)
	page := prefect.Body{"limit": maxLimitRows}
	err := parallel(ctx, 4,
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/v2/concurrency_limits/filter", page, &v2)
		},
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/concurrency_limits/filter", page, &v1)
		},
		func(ctx context.Context) error { return c.target.Client.Post(ctx, "/work_pools/filter", page, &pools) },
		func(ctx context.Context) error {
			return c.target.Client.Post(ctx, "/work_queues/filter", page, &queues)
		},
	)
	if err != nil {
		return collectedLimits{}, err
	}
	res := collectedLimits{truncated: len(v2) >= maxLimitRows || len(v1) >= maxLimitRows || len(pools) >= maxLimitRows || len(queues) >= maxLimitRows}

	var jobs []func(context.Context) error

	// Deployment limits are v2 limits named deployment:<id>; one call names them.
	var depIDs []string
	for _, l := range v2 {
		if id, ok := strings.CutPrefix(l.Name, "deployment:"); ok && prefect.IsUUID(id) {
			depIDs = append(depIDs, id)
		}
	}
	var depNames map[string]string
	if len(depIDs) > 0 {
		jobs = append(jobs, func(ctx context.Context) (err error) {
			depNames, err = c.namesByID(ctx, "deployments", depIDs)
			return err
		})
	}

	// Pools and queues with a limit: in use is Prefect's active_slots on
	// the objects read (Pending + Running runs), so no request per limit.
	poolNames := map[string]string{}
	for _, p := range pools {
		poolNames[p.ID] = p.Name
		if p.ConcurrencyLimit == nil {
			continue
		}
		row := limitRow{Kind: "work_pool", Name: p.Name, Limit: *p.ConcurrencyLimit, InUse: val(p.ActiveSlots)}
		if p.IsPaused {
			row.Note = "pool is paused"
		}
		res.rows = append(res.rows, row)
	}
	for _, q := range queues {
		if q.ConcurrencyLimit == nil {
			continue
		}
		row := limitRow{Kind: "work_queue", Name: q.Name, WorkPool: q.WorkPoolName, Limit: *q.ConcurrencyLimit, InUse: val(q.ActiveSlots)}
		if row.WorkPool == "" {
			row.WorkPool = poolNames[q.WorkPoolID]
		}
		if q.IsPaused {
			row.Note = "queue is paused"
		}
		res.rows = append(res.rows, row)
	}
	if err := parallel(ctx, 8, jobs...); err != nil {
		return collectedLimits{}, err
	}

	// Tag limits: the v1 view has the holders; its v2 twin tag:<tag> has the
	// activity flag and decay. Show each tag once.
	v2ByName := map[string]prefect.GlobalConcurrencyLimit{}
	for _, l := range v2 {
		v2ByName[l.Name] = l
	}
	seenTags := map[string]bool{}
	for _, l := range v1 {
		seenTags[l.Tag] = true
		row := limitRow{Kind: "tag", Name: l.Tag, Limit: l.ConcurrencyLimit, InUse: len(l.ActiveSlots)}
		if g, ok := v2ByName["tag:"+l.Tag]; ok {
			row.InUse = max(row.InUse, g.ActiveSlots)
			row.Inactive, row.SlotDecay = !g.Active, g.SlotDecayPerSecond
		}
		row.Holders = l.ActiveSlots
		if len(row.Holders) > maxHolders {
			row.Note = "showing 10 of " + strconv.Itoa(len(row.Holders)) + " holders"
			row.Holders = row.Holders[:maxHolders]
		}
		res.rows = append(res.rows, row)
	}
	for _, l := range v2 {
		row := limitRow{Kind: "global", Name: l.Name, Limit: l.Limit, InUse: l.ActiveSlots, Inactive: !l.Active, SlotDecay: l.SlotDecayPerSecond}
		if tag, ok := strings.CutPrefix(l.Name, "tag:"); ok {
			if seenTags[tag] {
				continue
			}
			row.Kind, row.Name = "tag", tag
		}
		if id, ok := strings.CutPrefix(l.Name, "deployment:"); ok && prefect.IsUUID(id) {
			row.Kind, row.DeploymentID = "deployment", id
			if name := depNames[strings.ToLower(id)]; name != "" {
				row.Name = name
			} else {
				row.Note = "deployment not found"
			}
		}
		res.rows = append(res.rows, row)
	}
	for i := range res.rows {
		r := &res.rows[i]
		r.AtCapacity = !r.Inactive && r.InUse >= r.Limit
	}
	slices.SortStableFunc(res.rows, func(a, b limitRow) int {
		if a.AtCapacity != b.AtCapacity {
			if a.AtCapacity {
				return -1
			}
			return 1
		}
		if d := slices.Index(limitKindOrder, a.Kind) - slices.Index(limitKindOrder, b.Kind); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	return res, nil
}
