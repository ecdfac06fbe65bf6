package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// The read vocabulary: every Prefect read the tools send is built from the
// words below, so a body reads like the Prefect filter it is:
//
//	filterBody{"flow_runs": where{"state": stateTypeIn("FAILED"), "end_time": after(t)}, "limit": 10}
//
// Filter operators are spelt only here (TestReadVocabularyInUse).

// filterBody is the JSON body of a Prefect read: its filters by key
// (flows, flow_runs, deployments, …) beside sort, limit and offset.
type filterBody = map[string]any

// where is one Prefect filter object (a FlowRunFilter, a
// FlowRunFilterState, an EventFilter, …): field → criterion.
type where = map[string]any

// Prefect's filter operators (src/prefect/server/schemas/filters.py),
// also read back from a caller's filter argument.
const (
	opAny     = "any_"
	opNotAny  = "not_any_"
	opAll     = "all_"
	opLike    = "like_"
	opIsNull  = "is_null_"
	opAfter   = "after_"
	opBefore  = "before_"
	opAtLeast = "ge_"
	opOr      = "or_"
)

// anyOf matches any of the values: {"any_": v}.
func anyOf[T any](v ...T) where { return where{opAny: v} }

// noneOf matches none of the values: {"not_any_": v}.
func noneOf(v ...string) where { return where{opNotAny: v} }

// allOf matches objects holding every value (tags): {"all_": v}.
func allOf(v ...string) where { return where{opAll: v} }

// like matches a substring, as Prefect's like_ does (ILIKE %s%).
func like(s string) where { return where{opLike: s} }

// isNull matches an absent (true) or present (false) field.
func isNull(null bool) where { return where{opIsNull: null} }

// atLeast matches a number at least n (log levels): {"ge_": n}.
func atLeast(n int) where { return where{opAtLeast: n} }

// after, before and between bound a time field ({"after_": t},
// {"before_": t}); both ends are inclusive in Prefect.
func after(t time.Time) where  { return where{opAfter: apiTime(t)} }
func before(t time.Time) where { return where{opBefore: apiTime(t)} }
func between(from, to time.Time) where {
	return where{opAfter: apiTime(from), opBefore: apiTime(to)}
}

// either joins a filter's criteria with OR instead of Prefect's default AND.
func either(f where) where {
	f["operator"] = opOr
	return f
}

// idIn, nameIn and stateTypeIn are the usual one-field filters:
// {"id": {"any_": ids}}, {"name": {"any_": names}} (objects or state
// names), and the state filter {"type": {"any_": types}}; occurred is an
// event filter's time window.
func idIn(ids ...string) where          { return where{"id": anyOf(ids...)} }
func nameIn(names ...string) where      { return where{"name": anyOf(names...)} }
func stateTypeIn(types ...string) where { return where{"type": anyOf(types...)} }
func occurred(since, until time.Time) where {
	return where{"since": apiTime(since), "until": apiTime(until)}
}

// Event filters (EventFilter) take plain lists, not operators:
// {"event": eventPrefix(p)}, {"resource": resourceID(id)}.
func eventPrefix(p ...string) where      { return where{"prefix": p} }
func eventName(names ...string) where    { return where{"name": names} }
func resourceID(ids ...string) where     { return where{"id": ids} }
func resourceIDPrefix(p ...string) where { return where{"id_prefix": p} }

// apiTime is a time as the tools send it and show it: UTC, RFC 3339, whole
// seconds (ts).
func apiTime(t time.Time) string { return ts(t) }

// selected returns the strings of f[key].any_ in a caller's filter
// argument (decoded JSON), e.g. the names a work-pool filter selects.
func selected(f map[string]any, key string) []string {
	k, _ := f[key].(map[string]any)
	vals, _ := k[opAny].([]any)
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// byIDs reads the objects of kind ("flows", "deployments", "flow_runs",
// "work_queues", …) with these ids in one request. Ids are lower-cased,
// repeated and empty ones dropped; beyond Prefect's page of apiMaxLimit
// the first ids are read.
func byIDs[T any](ctx context.Context, c *call, kind string, ids []string) ([]T, error) {
	var unique []string
	for _, id := range ids {
		if id = strings.ToLower(id); id != "" && !slices.Contains(unique, id) {
			unique = append(unique, id)
		}
	}
	return lookup[T](ctx, c, kind, idIn, unique)
}

// byNames reads the objects of kind (work_pools, …) with these names in
// one request, repeated names dropped, at most apiMaxLimit.
func byNames[T any](ctx context.Context, c *call, kind string, names []string) ([]T, error) {
	var unique []string
	for _, n := range names {
		if n != "" && !slices.Contains(unique, n) {
			unique = append(unique, n)
		}
	}
	return lookup[T](ctx, c, kind, nameIn, unique)
}

func lookup[T any](ctx context.Context, c *call, kind string, in func(...string) where, values []string) ([]T, error) {
	if len(values) == 0 {
		return nil, nil
	}
	values = values[:min(len(values), apiMaxLimit)]
	var objs []T
	if err := c.target.Client.Post(ctx, "/"+kind+"/filter", filterBody{kind: in(values...), "limit": len(values)}, &objs); err != nil {
		return nil, err
	}
	return objs, nil
}

// namesByID reads the names of flows, deployments, flow runs, … by id in
// one request (byIDs), keyed by lower-case id.
func (c *call) namesByID(ctx context.Context, kind string, ids []string) (map[string]string, error) {
	objs, err := byIDs[struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}](ctx, c, kind, ids)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(objs))
	for _, o := range objs {
		names[strings.ToLower(o.ID)] = o.Name
	}
	return names, nil
}

// apiMaxLimit is Prefect's cap on `limit` in every filter body: its
// LimitBody dependency answers 422 "Invalid limit: must be less than or
// equal to 200." above PREFECT_API_DEFAULT_LIMIT (src/prefect/server/api/
// dependencies.py; /events/filter has its own cap of 50).
const apiMaxLimit = 200

// postPage reads rows [offset, offset+limit) of a Prefect filter endpoint
// (body holds the filter and sort) and whether more rows follow, never
// asking Prefect for more than apiMaxLimit rows. Below the cap one request
// asks for one row more than wanted; at the cap a full page costs a second
// request for the next single row. Every list tool pages through here.
func postPage[T any](ctx context.Context, c *call, path string, body filterBody, limit, offset int) ([]T, bool, error) {
	if limit < 1 || limit > apiMaxLimit {
		return nil, false, fmt.Errorf("internal error: page of %d rows asked of %s (1 to %d)", limit, path, apiMaxLimit)
	}
	page := maps.Clone(body)
	if page == nil {
		page = filterBody{}
	}
	page["limit"], page["offset"] = min(limit+1, apiMaxLimit), offset
	var rows []T
	if err := c.target.Client.Post(ctx, path, page, &rows); err != nil {
		return nil, false, err
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	if len(rows) < limit || limit < apiMaxLimit || offset > math.MaxInt-limit {
		return rows, false, nil
	}
	page["limit"], page["offset"] = 1, offset+limit
	var next []json.RawMessage
	if err := c.target.Client.Post(ctx, path, page, &next); err != nil {
		return nil, false, err
	}
	return rows, len(next) > 0, nil
}
