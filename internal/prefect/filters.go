package prefect

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strings"
	"time"
)

// The read vocabulary: every read the tools and the diagnosis send is built
// from these words, so a body reads like the Prefect filter it is:
//
//	prefect.Body{"flow_runs": prefect.Where{"state": prefect.StateTypeIn("FAILED"), "end_time": prefect.After(t)}, "limit": 10}
//
// Filter operators are spelt only here (the tools' TestReadVocabularyInUse
// scans for hand-built ones).

// Body is the JSON body of a Prefect read: its filters by key (flows,
// flow_runs, deployments, …) beside sort, limit and offset.
type Body = map[string]any

// Where is one Prefect filter object (a FlowRunFilter, a
// FlowRunFilterState, an EventFilter, …): field → criterion.
type Where = map[string]any

// Prefect's filter operators (src/prefect/server/schemas/filters.py).
const (
	OpAny     = "any_"
	OpNotAny  = "not_any_"
	OpAll     = "all_"
	OpLike    = "like_"
	OpIsNull  = "is_null_"
	OpAfter   = "after_"
	OpBefore  = "before_"
	OpAtLeast = "ge_"
	OpOr      = "or_"
)

// AnyOf matches any of the values: {"any_": v}.
func AnyOf[T any](v ...T) Where { return Where{OpAny: v} }

// NoneOf matches none of the values: {"not_any_": v}.
func NoneOf(v ...string) Where { return Where{OpNotAny: v} }

// AllOf matches objects holding every value (tags): {"all_": v}.
func AllOf(v ...string) Where { return Where{OpAll: v} }

// Like matches a substring, as Prefect's like_ does (ILIKE %s%).
func Like(s string) Where { return Where{OpLike: s} }

// IsNull matches an absent (true) or present (false) field.
func IsNull(null bool) Where { return Where{OpIsNull: null} }

// AtLeast matches a number at least n (log levels): {"ge_": n}.
func AtLeast(n int) Where { return Where{OpAtLeast: n} }

// After, Before and Between bound a time field ({"after_": t},
// {"before_": t}); both ends are inclusive in Prefect.
func After(t time.Time) Where  { return Where{OpAfter: APITime(t)} }
func Before(t time.Time) Where { return Where{OpBefore: APITime(t)} }
func Between(from, to time.Time) Where {
	return Where{OpAfter: APITime(from), OpBefore: APITime(to)}
}

// Either joins a filter's criteria with OR instead of Prefect's default AND.
func Either(f Where) Where {
	f["operator"] = OpOr
	return f
}

// IDIn, NameIn and StateTypeIn are the usual one-field filters:
// {"id": {"any_": ids}}, {"name": {"any_": names}} (objects or state
// names), and the state filter {"type": {"any_": types}}.
func IDIn(ids ...string) Where          { return Where{"id": AnyOf(ids...)} }
func NameIn(names ...string) Where      { return Where{"name": AnyOf(names...)} }
func StateTypeIn(types ...string) Where { return Where{"type": AnyOf(types...)} }

// Occurred is an event filter's time window.
func Occurred(since, until time.Time) Where {
	return Where{"since": APITime(since), "until": APITime(until)}
}

// Event filters (EventFilter) take plain lists, not operators:
// {"event": EventPrefix(p)}, {"resource": ResourceID(id)}.
func EventPrefix(p ...string) Where      { return Where{"prefix": p} }
func EventName(names ...string) Where    { return Where{"name": names} }
func ResourceID(ids ...string) Where     { return Where{"id": ids} }
func ResourceIDPrefix(p ...string) Where { return Where{"id_prefix": p} }

// APITime is a time as reads send it: UTC, RFC 3339, whole seconds.
func APITime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Selected returns the strings of f[key].any_ in a caller's filter
// (decoded JSON), e.g. the names a work-pool filter selects.
func Selected(f map[string]any, key string) []string {
	k, _ := f[key].(map[string]any)
	vals, _ := k[OpAny].([]any)
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Poster is the part of a Client a read needs.
type Poster interface {
	Post(ctx context.Context, path string, body, out any) error
}

// MaxLimit is Prefect's cap on `limit` in every filter body: its LimitBody
// dependency answers 422 "Invalid limit: must be less than or equal to
// 200." above PREFECT_API_DEFAULT_LIMIT (src/prefect/server/api/
// dependencies.py; /events/filter has its own cap of 50).
const MaxLimit = 200

// ByIDs reads the objects of kind ("flows", "deployments", "flow_runs",
// "work_queues", …) with these ids in one request. Ids are lower-cased,
// repeated and empty ones dropped; beyond MaxLimit the first ids are read.
func ByIDs[T any](ctx context.Context, api Poster, kind string, ids []string) ([]T, error) {
	return lookup[T](ctx, api, kind, IDIn, firstUnique(ids, strings.ToLower))
}

// ByNames reads the objects of kind (work_pools, …) with these names in one
// request, repeated names dropped, at most MaxLimit.
func ByNames[T any](ctx context.Context, api Poster, kind string, names []string) ([]T, error) {
	return lookup[T](ctx, api, kind, NameIn, firstUnique(names, func(s string) string { return s }))
}

// firstUnique returns the first MaxLimit distinct non-empty values after
// norm, in order.
func firstUnique(values []string, norm func(string) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		if len(out) == MaxLimit {
			break
		}
		if v = norm(v); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func lookup[T any](ctx context.Context, api Poster, kind string, in func(...string) Where, values []string) ([]T, error) {
	if len(values) == 0 {
		return nil, nil
	}
	var objs []T
	if err := api.Post(ctx, "/"+kind+"/filter", Body{kind: in(values...), "limit": len(values)}, &objs); err != nil {
		return nil, err
	}
	return objs, nil
}

// NamesByID reads the names of flows, deployments, flow runs, … by id in
// one request (ByIDs), keyed by lower-case id.
func NamesByID(ctx context.Context, api Poster, kind string, ids []string) (map[string]string, error) {
	objs, err := ByIDs[struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}](ctx, api, kind, ids)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(objs))
	for _, o := range objs {
		names[strings.ToLower(o.ID)] = o.Name
	}
	return names, nil
}

// PostPage reads rows [offset, offset+limit) of a Prefect filter endpoint
// (body holds the filter and sort) and whether more rows follow, never
// asking Prefect for more than MaxLimit rows. Below the cap one request
// asks for one row more than wanted; at the cap a full page costs a second
// request for the next single row. Every list tool pages through here.
func PostPage[T any](ctx context.Context, api Poster, path string, body Body, limit, offset int) ([]T, bool, error) {
	if limit < 1 || limit > MaxLimit {
		return nil, false, fmt.Errorf("internal error: page of %d rows asked of %s (1 to %d)", limit, path, MaxLimit)
	}
	page := maps.Clone(body)
	if page == nil {
		page = Body{}
	}
	page["limit"], page["offset"] = min(limit+1, MaxLimit), offset
	var rows []T
	if err := api.Post(ctx, path, page, &rows); err != nil {
		return nil, false, err
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	if len(rows) < limit || limit < MaxLimit || offset > math.MaxInt-limit {
		return rows, false, nil
	}
	page["limit"], page["offset"] = 1, offset+limit
	var next []json.RawMessage
	if err := api.Post(ctx, path, page, &next); err != nil {
		return nil, false, err
	}
	return rows, len(next) > 0, nil
}
