package tools

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

const (
	defaultSearchLimit = 20
	maxSearchLimit     = 50
	maxQueryLen        = 100
	// searchScan is how many work pools or queues are read to match names
	// locally: Prefect has no partial-match filter for them.
	searchScan = 200
)

var searchKinds = []string{"flow", "deployment", "work_pool", "work_queue"}

type searchInput struct {
	Query string   `json:"query" jsonschema:"part of a name, or a tag"`
	Kinds []string `json:"kinds,omitempty" jsonschema:"default all"`
	Limit int      `json:"limit,omitempty" jsonschema:"per kind, default 20"`
	Workspace
}

func searchTool() Definition {
	return define(Definition{
		Name: ToolSearch, Title: "Search", Group: GroupRuns,
		Summary: "Find flows, deployments, work pools and work queues by part of their name (and flows/deployments by tag).",
	}, `Find flows, deployments, work pools and queues whose name contains the query (any case) or tagged with it: kind, name, id, slug; per kind stopped_early when capped.
Example: {"query":"etl"}`,
		func(s *jsonschema.Schema) {
			bound(s, "limit", 1, maxSearchLimit)
			s.Properties["kinds"].Items.Enum = []any{"flow", "deployment", "work_pool", "work_queue"}
		},
		search)
}

type searchRow struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	ID      string `json:"id"`
	Slug    string `json:"slug,omitempty"`
	Pool    string `json:"pool,omitempty"`
	Matched string `json:"matched"`
}

type kindResult struct {
	Count        int  `json:"count"`
	StoppedEarly bool `json:"stopped_early,omitempty"`
	Scanned      int  `json:"scanned,omitempty"`
}

// searcher holds one search call's shared state.
type searcher struct {
	c     *call
	query string
	lower string
	tag   bool // the query can be a tag: no spaces
	limit int

	mu    sync.Mutex
	rows  map[string][]searchRow
	kinds map[string]kindResult
}

// newSearcher scans names for query, at most limit objects of each kind
// (search also matches it as a tag: see tag).
func newSearcher(c *call, query string, limit int) *searcher {
	return &searcher{c: c, query: query, lower: strings.ToLower(query), limit: limit,
		rows: map[string][]searchRow{}, kinds: map[string]kindResult{}}
}

// searchResult is every match, by kind in searchKinds order, and what
// each kind's scan covered.
type searchResult struct {
	Query   string                `json:"query"`
	Results []searchRow           `json:"results"`
	Kinds   map[string]kindResult `json:"kinds"`
	Note    string                `json:"note,omitempty"`
}

func search(ctx context.Context, c *call, in searchInput) (*searchResult, error) {
	q := strings.TrimSpace(in.Query)
	if q == "" {
		return nil, badInput("query is required: a part of a flow, deployment, work pool or work queue name")
	}
	if len(q) > maxQueryLen {
		return nil, badInput("query is %d characters; at most %d", len(q), maxQueryLen)
	}
	limit, _, err := pageArgs(in.Limit, 0, defaultSearchLimit, maxSearchLimit)
	if err != nil {
		return nil, err
	}
	kinds := searchKinds
	if len(in.Kinds) > 0 {
		kinds = nil
		for _, k := range in.Kinds {
			k = strings.ToLower(strings.TrimSpace(k))
			if !slices.Contains(searchKinds, k) {
				return nil, badInput("kind %q is not valid; use one or more of %s", clip(k, 40), strings.Join(searchKinds, ", "))
			}
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	s := newSearcher(c, q, limit)
	s.tag = !strings.ContainsAny(q, " \t")
	jobs := make([]func(context.Context) error, len(kinds))
	for i, k := range kinds {
		switch k {
		case "flow":
			jobs[i] = s.flows
		case "deployment":
			jobs[i] = s.deployments
		case "work_pool":
			jobs[i] = s.pools
		case "work_queue":
			jobs[i] = s.queues
		}
	}
	if err := parallel(ctx, len(jobs), jobs...); err != nil {
		return nil, err
	}
	res := &searchResult{Query: q, Results: []searchRow{}, Kinds: s.kinds}
	for _, k := range searchKinds {
		res.Results = append(res.Results, s.rows[k]...)
	}
	if len(res.Results) == 0 {
		res.Note = "nothing matched; try a shorter part of the name"
	}
	return res, nil
}

// contains is the exact, case-insensitive substring test. Prefect's like_
// treats % and _ as wildcards, so its matches are checked again here.
func (s *searcher) contains(name string) bool {
	return strings.Contains(strings.ToLower(name), s.lower)
}

func (s *searcher) matched(name string, tags []string) string {
	switch {
	case s.contains(name):
		return "name"
	case s.tag && slices.Contains(tags, s.query):
		return "tag"
	}
	return ""
}

func (s *searcher) done(kind string, rows []searchRow, stoppedEarly bool, scanned int) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[kind] = rows
	s.kinds[kind] = kindResult{Count: len(rows), StoppedEarly: stoppedEarly, Scanned: scanned}
}

// nameOrTag matches the query in names, and as a tag when it can be one;
// tags is the tag criterion (FlowFilterTags has all_ only, deployments any_).
func (s *searcher) nameOrTag(tags func(...string) prefect.Where) prefect.Where {
	if !s.tag {
		return prefect.Where{"name": prefect.Like(s.query)}
	}
	return prefect.Either(prefect.Where{"name": prefect.Like(s.query), "tags": tags(s.query)})
}

func (s *searcher) flows(ctx context.Context) error {
	// FlowFilterTags has no any_; all_ with one tag is the same test.
	body := prefect.Body{"flows": s.nameOrTag(prefect.AllOf), "sort": "NAME_ASC"}
	flows, more, err := postPage[prefect.Flow](ctx, s.c, "/flows/filter", body, s.limit, 0)
	if err != nil {
		return err
	}
	var rows []searchRow
	for _, f := range flows {
		if m := s.matched(f.Name, f.Tags); m != "" {
			rows = append(rows, searchRow{Kind: "flow", Name: f.Name, ID: f.ID, Matched: m})
		}
	}
	s.done("flow", rows, more, 0)
	return nil
}

func (s *searcher) deployments(ctx context.Context) error {
	body := prefect.Body{"deployments": s.nameOrTag(prefect.AnyOf[string]), "sort": "NAME_ASC"}
	deps, more, err := postPage[prefect.Deployment](ctx, s.c, "/deployments/filter", body, s.limit, 0)
	if err != nil {
		return err
	}
	var rows []searchRow
	var rowFlow []string // rowFlow[i] is the flow id of rows[i]
	for _, d := range deps {
		if m := s.matched(d.Name, d.Tags); m != "" {
			rows = append(rows, searchRow{Kind: "deployment", Name: d.Name, ID: d.ID, Matched: m})
			rowFlow = append(rowFlow, strings.ToLower(d.FlowID))
		}
	}
	// The slug needs flow names: one request for all of them, not one each.
	names, err := s.c.namesByID(ctx, "flows", rowFlow)
	if err != nil {
		return err
	}
	for i := range rows {
		if flow, ok := names[rowFlow[i]]; ok {
			rows[i].Slug = flow + "/" + rows[i].Name
		}
	}
	s.done("deployment", rows, more, 0)
	return nil
}

func (s *searcher) pools(ctx context.Context) error {
	var pools []prefect.WorkPool
	if err := s.c.target.Client.Post(ctx, "/work_pools/filter", prefect.Body{"limit": searchScan}, &pools); err != nil {
		return err
	}
	var rows []searchRow
	more := len(pools) >= searchScan
	for _, p := range pools {
		if !s.contains(p.Name) {
			continue
		}
		if len(rows) == s.limit {
			more = true
			break
		}
		rows = append(rows, searchRow{Kind: "work_pool", Name: p.Name, ID: p.ID, Matched: "name"})
	}
	s.done("work_pool", rows, more, len(pools))
	return nil
}

func (s *searcher) queues(ctx context.Context) error {
	var queues []prefect.WorkQueue
	if err := s.c.target.Client.Post(ctx, "/work_queues/filter", prefect.Body{"limit": searchScan}, &queues); err != nil {
		return err
	}
	var rows []searchRow
	more := len(queues) >= searchScan
	for _, q := range queues {
		if !s.contains(q.Name) {
			continue
		}
		if len(rows) == s.limit {
			more = true
			break
		}
		rows = append(rows, searchRow{Kind: "work_queue", Name: q.Name, ID: q.ID, Pool: q.WorkPoolName, Matched: "name"})
	}
	s.done("work_queue", rows, more, len(queues))
	return nil
}
