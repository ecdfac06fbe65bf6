package tools

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// bodyFilters are the filters of one Prefect `POST /…/filter` body by key
// (flows, flow_runs, deployments, …): the caller's Prefect filters plus the
// typed shortcuts (flow name, state, time window) merged into them.
type bodyFilters map[string]map[string]any

// filterComponents maps a body key to its OpenAPI filter component.
var filterComponents = map[string]string{
	"flows": "FlowFilter", "flow_runs": "FlowRunFilter", "task_runs": "TaskRunFilter",
	"deployments": "DeploymentFilter", "work_pools": "WorkPoolFilter", "work_pool_queues": "WorkQueueFilter",
}

// add takes a caller's filter for key as is.
func (b bodyFilters) add(key string, f map[string]any) {
	if len(f) > 0 {
		b[key] = f
	}
}

// set puts a shortcut's criterion into the filter at key, refusing to
// overwrite what the caller's own filter says about the same field.
func (b bodyFilters) set(arg, key, field string, v any) error {
	f := b[key]
	if f == nil {
		f = prefect.Where{}
		b[key] = f
	}
	if _, taken := f[field]; taken {
		return badInput("%s and %s.%s both filter %s; give one of them", arg, key, field, field)
	}
	f[field] = v
	return nil
}

// checkFilters validates every filter against Prefect's schema, naming the key.
func (c *call) checkFilters(b bodyFilters) error {
	for _, key := range slices.Sorted(maps.Keys(b)) {
		if err := c.deps.Spec.ValidateComponent(filterComponents[key], b[key]); err != nil {
			return badInput("invalid %s (a Prefect %s): %v", key, filterComponents[key], err)
		}
	}
	return nil
}

// runShortcuts are the arguments people type to narrow runs, shared by the
// flow-run and task-run lists. get_flow_runs' description documents them
// (property descriptions would cost every client twice).
type runShortcuts struct {
	Flow       string   `json:"flow,omitempty"`
	Deployment string   `json:"deployment,omitempty"`
	State      []string `json:"state,omitempty"`
	Since      string   `json:"since,omitempty"`
	Until      string   `json:"until,omitempty"`
}

// apply merges the shortcuts into b; runKey is the filter of the listed
// runs (flow_runs or task_runs).
func (s runShortcuts) apply(ctx context.Context, c *call, b bodyFilters, runKey string) error {
	if f := strings.TrimSpace(s.Flow); f != "" {
		if err := flowShortcut(b, f); err != nil {
			return err
		}
	}
	if d := strings.TrimSpace(s.Deployment); d != "" {
		if err := deploymentShortcut(ctx, c, b, d); err != nil {
			return err
		}
	}
	if len(s.State) > 0 {
		st, err := stateFilter(s.State)
		if err != nil {
			return err
		}
		if err := b.set("state", runKey, "state", st); err != nil {
			return err
		}
	}
	if strings.TrimSpace(s.Since) != "" || strings.TrimSpace(s.Until) != "" {
		w, err := resolveWindow("since", s.Since, "until", s.Until, c.deps.now(), 0)
		if err != nil {
			return err
		}
		// since alone has no upper bound: upcoming scheduled runs stay in.
		var window prefect.Where
		switch {
		case strings.TrimSpace(s.Until) == "":
			window = prefect.After(w.since)
		case strings.TrimSpace(s.Since) == "":
			window = prefect.Before(w.until)
		default:
			window = prefect.Between(w.since, w.until)
		}
		if err := b.set("since/until", runKey, "expected_start_time", window); err != nil {
			return err
		}
	}
	return nil
}

// flowShortcut narrows by flow: its id or its name.
func flowShortcut(b bodyFilters, ref string) error {
	if prefect.IsUUID(ref) {
		return b.set("flow", "flows", "id", prefect.AnyOf(strings.ToLower(ref)))
	}
	return b.set("flow", "flows", "name", prefect.AnyOf(ref))
}

// workPoolShortcut narrows by work pool name.
func workPoolShortcut(b bodyFilters, pool string) error {
	pool = strings.TrimSpace(pool)
	if pool == "" {
		return nil
	}
	return b.set("work_pool", "work_pools", "name", prefect.AnyOf(pool))
}

// deploymentShortcut narrows by deployment: an id or a flow/deployment slug
// selects one deployment, a plain name every deployment of that name.
func deploymentShortcut(ctx context.Context, c *call, b bodyFilters, ref string) error {
	if prefect.IsUUID(ref) || strings.Contains(ref, "/") {
		id, err := c.resolveDeployment(ctx, "deployment", ref)
		if err != nil {
			return err
		}
		return b.set("deployment", "deployments", "id", prefect.AnyOf(id))
	}
	return b.set("deployment", "deployments", "name", prefect.AnyOf(ref))
}

// Prefect's state types and the state names its client sets
// (src/prefect/states.py).
var (
	stateTypes = []string{"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING"}
	stateNames = []string{"Scheduled", "Late", "AwaitingRetry", "AwaitingConcurrencySlot", "Pending", "Running", "Retrying",
		"Paused", "Suspended", "Completed", "Cached", "RolledBack", "Failed", "TimedOut", "Crashed", "Cancelled", "Cancelling", "NotReady"}
)

// stateFilter turns state words into a Prefect state filter: an ALL-CAPS
// type (FAILED) matches the type, a name (Late, failed) the state name,
// whatever its case. Late is a name: its type is SCHEDULED.
func stateFilter(values []string) (map[string]any, error) {
	var types, names []string
	for _, v := range values {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			return nil, badInput("state: an empty value; give state names (Late, Failed) or types (FAILED)")
		case slices.Contains(stateTypes, v):
			types = append(types, v)
		default:
			i := slices.IndexFunc(stateNames, func(n string) bool { return strings.EqualFold(n, v) })
			if i >= 0 {
				names = append(names, stateNames[i])
				continue
			}
			if slices.Contains(stateTypes, strings.ToUpper(v)) {
				types = append(types, strings.ToUpper(v))
				continue
			}
			// A custom state name is legal in Prefect: match it as given.
			names = append(names, v)
		}
	}
	switch {
	case len(names) == 0:
		return prefect.StateTypeIn(types...), nil
	case len(types) == 0:
		return prefect.NameIn(names...), nil
	}
	return prefect.Either(prefect.Where{"type": prefect.AnyOf(types...), "name": prefect.AnyOf(names...)}), nil
}
