package fakeprefect

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

const (
	eventsPageSize   = 50   // Prefect's INTERACTIVE_PAGE_SIZE: default and maximum limit
	eventsLookback   = 180  // days of the default occurred window
	maxEventsBuckets = 1000 // Prefect's cap on count-by time buckets
	isoMicros        = "2006-01-02T15:04:05.000000Z"
)

// eventsPageToken is what Prefect encodes in next_page links.
type eventsPageToken struct {
	Filter   map[string]any `json:"filter"`
	Count    int            `json:"count"`
	PageSize int            `json:"page_size"`
	Offset   int            `json:"offset"`
}

// normalizeEventFilter fills Prefect's defaults (occurred window, order).
func normalizeEventFilter(raw any, now time.Time) map[string]any {
	f := map[string]any{}
	if m, ok := raw.(map[string]any); ok {
		for k, v := range m {
			f[k] = v
		}
	}
	occurred := map[string]any{}
	if m, ok := f["occurred"].(map[string]any); ok {
		for k, v := range m {
			occurred[k] = v
		}
	}
	if occurred["since"] == nil {
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		occurred["since"] = day.AddDate(0, 0, -eventsLookback).Format(time.RFC3339)
	}
	if occurred["until"] == nil {
		occurred["until"] = now.UTC().Format(isoMicros)
	}
	f["occurred"] = occurred
	if f["order"] == nil {
		f["order"] = "DESC"
	}
	return f
}

func (s *Server) readEvents(c *call) (any, error) {
	limit := eventsPageSize
	if v, ok := c.body["limit"].(float64); ok {
		limit = int(v)
		if limit < 0 || limit > eventsPageSize {
			return nil, unprocessable(nil, fieldError{
				typ: "less_than_equal", loc: []any{"body", "limit"}, input: v,
				msg: "Input should be less than or equal to 50", ctx: map[string]any{"le": eventsPageSize},
			})
		}
	}
	filter := normalizeEventFilter(c.body["filter"], c.v.now.UTC())
	return eventsPage(c, filter, limit, 0, -1)
}

func (s *Server) readEventsNextPage(c *call) (any, error) {
	forbidden := detailError(http.StatusForbidden, "Forbidden")
	outer, err := base64.StdEncoding.DecodeString(c.query.Get("page-token"))
	if err != nil || len(outer) == 0 {
		return nil, forbidden
	}
	inner, err := base64.StdEncoding.DecodeString(string(outer))
	if err != nil {
		return nil, forbidden
	}
	var tok eventsPageToken
	if err := json.Unmarshal(inner, &tok); err != nil || tok.Filter == nil || tok.PageSize <= 0 {
		return nil, forbidden
	}
	return eventsPage(c, tok.Filter, tok.PageSize, tok.Offset, tok.Count)
}

// eventsPage answers one EventPage; total < 0 means "count now".
func eventsPage(c *call, filter map[string]any, limit, offset, total int) (any, error) {
	hits, err := matchingEvents(c.v, filter, true)
	if err != nil {
		return nil, err
	}
	n := len(hits.pos)
	if total < 0 {
		total = n
	}
	page := []map[string]any{}
	for i := offset; i < min(offset+limit, n); i++ {
		page = append(page, hits.rec(i).whole())
	}
	var next any
	if limit > 0 && offset+limit < total && offset+limit < n {
		tok, err := json.Marshal(eventsPageToken{Filter: filter, Count: total, PageSize: limit, Offset: offset + limit})
		if err != nil {
			return nil, err
		}
		inner := base64.StdEncoding.EncodeToString(tok)
		next = c.apiRoot + "/events/filter/next?page-token=" + base64.StdEncoding.EncodeToString([]byte(inner))
	}
	return map[string]any{"events": page, "total": total, "next_page": next}, nil
}

// eventHits are the events matching a filter, by position in its order.
type eventHits struct {
	pos  []int32
	recs []record // the table's rows, by position
	ix   *eventIndex
}

func (h eventHits) rec(i int) record { return h.recs[h.pos[i]] }

// matchingEvents returns the events matching a normalized EventFilter, in
// its order when ordered. The index picks the candidates (occurred window,
// resource ids) and checks the event names; only what it cannot answer is
// checked on each candidate's object.
func matchingEvents(v *view, filter map[string]any, ordered bool) (eventHits, error) {
	for key := range filter {
		switch key {
		case "occurred", "event", "resource", "related", "any_resource", "id", "text", "order":
		default:
			return eventHits{}, unsupported("events filter.%s", key)
		}
	}
	t := v.data.tables[Events]
	if t == nil {
		return eventHits{ix: &eventIndex{}}, nil
	}
	h := eventHits{recs: t.recs, ix: t.eventIndex()}
	cand, byTime, rest := eventCandidates(h.ix, filter)
	if ef, ok := filter["event"].(map[string]any); ok {
		verdicts := make([]int8, len(h.ix.names)) // per name: 0 not yet asked, 1 matches, -1 not
		cand = keep(cand, func(p int32) bool {
			id := h.ix.name[p]
			if verdicts[id] == 0 {
				verdicts[id] = -1
				if eventNameMatches(h.ix.names[id], ef) {
					verdicts[id] = 1
				}
			}
			return verdicts[id] == 1
		})
	}
	if len(rest) > 0 {
		var err error
		cand = keep(cand, func(p int32) bool {
			ok, e := eventMatches(t.recs[p], rest)
			if e != nil && err == nil {
				err = e
			}
			return ok
		})
		if err != nil {
			return eventHits{}, err
		}
	}
	desc := filter["order"] != "ASC"
	if !ordered {
		h.pos = cand
		return h, nil
	}
	if !byTime && !h.ix.timed {
		// An event without a time: the generic sort, NULLs as Prefect's.
		rows := make([]record, len(cand))
		for i, p := range cand {
			rows[i] = t.recs[p]
		}
		sorted := make([]int32, len(cand))
		for i, j := range sortedOrder(v, rows, []sortKey{{get: path("occurred"), desc: desc}}) {
			sorted[i] = cand[j]
		}
		h.pos = sorted
		return h, nil
	}
	if !byTime {
		// Candidates in stored order: a stable sort by time.
		slices.SortStableFunc(cand, func(a, b int32) int { return h.ix.at[a].Compare(h.ix.at[b]) })
	}
	// Candidates are in time order, ties in stored order: that is the
	// stable ascending sort; descending reverses the runs of equal times.
	if desc {
		rev := make([]int32, 0, len(cand))
		for j := len(cand); j > 0; {
			i := j - 1
			for i > 0 && h.ix.at[cand[i-1]].Equal(h.ix.at[cand[j-1]]) {
				i--
			}
			rev = append(rev, cand[i:j]...)
			j = i
		}
		cand = rev
	}
	h.pos = cand
	return h, nil
}

// keep returns the positions ok accepts, in a new slice (pos may be the
// index's own).
func keep(pos []int32, ok func(int32) bool) []int32 {
	var out []int32
	for _, p := range pos {
		if ok(p) {
			out = append(out, p)
		}
	}
	return out
}

// eventCandidates returns the positions of the events that can match
// filter: those in its occurred window, narrowed by the resource ids it
// requires. byTime reports that they are in time order (ties in stored
// order) rather than in stored order (ascending). rest is the filter
// without what the candidates already satisfy and without the event
// names (matchingEvents checks those by the index).
func eventCandidates(ix *eventIndex, filter map[string]any) (pos []int32, byTime bool, rest map[string]any) {
	rest = map[string]any{}
	for k, v := range filter {
		if v != nil && k != "event" && k != "order" {
			rest[k] = v
		}
	}
	occ, _ := filter["occurred"].(map[string]any)
	since, ok1 := parseTime(occ["since"])
	until, ok2 := parseTime(occ["until"])
	narrowed := false
	narrow := func(ids []string, lists ...map[string][]int32) {
		if ids == nil {
			return
		}
		var union []int32
		for _, id := range ids {
			for _, l := range lists {
				union = append(union, l[id]...)
			}
		}
		slices.Sort(union)
		union = slices.Compact(union)
		if narrowed {
			pos = intersect(pos, union)
		} else {
			pos, narrowed = union, true
		}
	}
	if rf, ok := filter["resource"].(map[string]any); ok {
		ids := strings_(rf["id"])
		narrow(ids, ix.resource)
		narrow(labelIDs(rf), ix.resource)
		if ids != nil && onlyIDs(rf) {
			delete(rest, "resource")
		}
	}
	for _, rf := range filterList(filter["related"]) {
		// A related resource also needs a role: the row checks it.
		narrow(strings_(rf["id"]), ix.related)
		narrow(labelIDs(rf), ix.related)
	}
	if list := filterList(filter["any_resource"]); list != nil {
		var unproven []any
		for _, af := range list {
			ids := strings_(af["id"])
			narrow(ids, ix.resource, ix.related)
			narrow(labelIDs(af), ix.resource, ix.related)
			if ids == nil || !onlyIDs(af) {
				unproven = append(unproven, af)
			}
		}
		if unproven == nil {
			delete(rest, "any_resource")
		} else {
			rest["any_resource"] = unproven
		}
	}
	switch {
	case !ok1 || !ok2:
		if !narrowed {
			pos = make([]int32, len(ix.at))
			for i := range pos {
				pos[i] = int32(i)
			}
		}
		return pos, false, rest
	case narrowed:
		pos = slices.DeleteFunc(pos, func(p int32) bool { return ix.at[p].Before(since) || ix.at[p].After(until) })
	default:
		pos, byTime = ix.window(since, until), true
	}
	delete(rest, "occurred")
	return pos, byTime, rest
}

// labelIDs returns the resource ids a labels criterion on
// prefect.resource.id allows when its patterns are literal (no '*', no
// '!'), else nil. It only narrows: the row still checks the labels.
func labelIDs(f map[string]any) []string {
	labels, _ := f["labels"].(map[string]any)
	want := labels["prefect.resource.id"]
	patterns := strings_(want)
	if s, ok := want.(string); ok {
		patterns = []string{s}
	}
	for _, p := range patterns {
		if strings.HasPrefix(p, "!") || strings.Contains(p, "*") {
			return nil
		}
	}
	return patterns
}

// onlyIDs reports whether a resource filter has no criterion but id.
func onlyIDs(f map[string]any) bool {
	for k, v := range f {
		if k != "id" && v != nil {
			return false
		}
	}
	return true
}

// eventNameMatches applies an EventNameFilter.
func eventNameMatches(name string, ef map[string]any) bool {
	if p := strings_(ef["prefix"]); p != nil && !anyOf(p, func(x string) bool { return strings.HasPrefix(name, x) }) {
		return false
	}
	if p := strings_(ef["exclude_prefix"]); anyOf(p, func(x string) bool { return strings.HasPrefix(name, x) }) {
		return false
	}
	if n := strings_(ef["name"]); n != nil && !anyOf(n, func(x string) bool { return x == name }) {
		return false
	}
	if n := strings_(ef["exclude_name"]); anyOf(n, func(x string) bool { return x == name }) {
		return false
	}
	return true
}

// eventMatches applies an EventFilter to one event.
func eventMatches(e record, f map[string]any) (bool, error) {
	if occ, ok := f["occurred"].(map[string]any); ok {
		occurred, _ := timeOf(e, "occurred")
		if since, ok := parseTime(occ["since"]); ok && occurred.Before(since) {
			return false, nil
		}
		if until, ok := parseTime(occ["until"]); ok && occurred.After(until) {
			return false, nil
		}
	}
	if ef, ok := f["event"].(map[string]any); ok && !eventNameMatches(str(e, "event"), ef) {
		return false, nil
	}
	if f["resource"] == nil && f["related"] == nil && f["any_resource"] == nil {
		return idAndTextMatch(e, f)
	}
	resource, _ := e.get("resource").(map[string]any)
	var related []map[string]any
	if rel, ok := e.get("related").([]any); ok {
		for _, r := range rel {
			if m, ok := r.(map[string]any); ok {
				related = append(related, m)
			}
		}
	}
	if rf, ok := f["resource"].(map[string]any); ok {
		if ok, err := resourceMatches(resource, rf, "resource"); err != nil || !ok {
			return false, err
		}
	}
	for _, rf := range filterList(f["related"]) {
		if found, err := anyResource(related, func(r map[string]any) (bool, error) { return relatedMatches(r, rf) }); err != nil || !found {
			return false, err
		}
	}
	all := append([]map[string]any{resource}, related...)
	for _, af := range filterList(f["any_resource"]) {
		if found, err := anyResource(all, func(r map[string]any) (bool, error) { return resourceMatches(r, af, "any_resource") }); err != nil || !found {
			return false, err
		}
	}
	return idAndTextMatch(e, f)
}

// idAndTextMatch applies the id and text criteria of an event filter.
func idAndTextMatch(e record, f map[string]any) (bool, error) {
	if idf, ok := f["id"].(map[string]any); ok {
		if ids := strings_(idf["id"]); ids != nil && !anyOf(ids, func(x string) bool { return sameValue(x, e.get("id")) }) {
			return false, nil
		}
	}
	if tf, ok := f["text"].(map[string]any); ok {
		q, _ := tf["query"].(string)
		raw, _ := json.Marshal(e.whole())
		if !textSearch(q, str(e, "event")+" "+string(raw)) {
			return false, nil
		}
	}
	return true, nil
}

func filterList(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		var out []map[string]any
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func strings_(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func resourceMatches(r map[string]any, f map[string]any, where string) (bool, error) {
	id := str(r, "prefect.resource.id")
	for key, val := range f {
		if val == nil {
			continue
		}
		switch key {
		case "id":
			if !anyOf(strings_(val), func(x string) bool { return x == id }) {
				return false, nil
			}
		case "id_prefix":
			if !anyOf(strings_(val), func(x string) bool { return strings.HasPrefix(id, x) }) {
				return false, nil
			}
		case "labels":
			if !labelsMatch(r, val) {
				return false, nil
			}
		case "distinct":
			if val == true {
				return false, unsupported("%s.distinct", where)
			}
		default:
			return false, unsupported("%s.%s", where, key)
		}
	}
	return true, nil
}

func relatedMatches(r map[string]any, f map[string]any) (bool, error) {
	id, role := str(r, "prefect.resource.id"), str(r, "prefect.resource.role")
	for key, val := range f {
		if val == nil {
			continue
		}
		switch key {
		case "id":
			if !anyOf(strings_(val), func(x string) bool { return x == id }) {
				return false, nil
			}
		case "role":
			if !anyOf(strings_(val), func(x string) bool { return x == role }) {
				return false, nil
			}
		case "resources_in_roles":
			found := false
			for _, pair := range filterPairs(val) {
				if pair[0] == id && pair[1] == role {
					found = true
				}
			}
			if !found {
				return false, nil
			}
		case "labels":
			if !labelsMatch(r, val) {
				return false, nil
			}
		default:
			return false, unsupported("related.%s", key)
		}
	}
	return role != "" || f["role"] != nil, nil
}

func filterPairs(v any) [][2]string {
	var out [][2]string
	list, _ := v.([]any)
	for _, e := range list {
		if p := strings_(e); len(p) == 2 {
			out = append(out, [2]string{p[0], p[1]})
		}
	}
	return out
}

// labelsMatch applies a ResourceSpecification: each label must match one of
// its patterns; '*' is a wildcard and a leading '!' negates.
func labelsMatch(r map[string]any, spec any) bool {
	m, ok := spec.(map[string]any)
	if !ok {
		return false
	}
	for label, want := range m {
		patterns := strings_(want)
		if s, ok := want.(string); ok {
			patterns = []string{s}
		}
		value, present := r[label].(string)
		matched := false
		for _, p := range patterns {
			negated := strings.HasPrefix(p, "!")
			glob := escapeLike(strings.TrimPrefix(p, "!"))
			glob = strings.ReplaceAll(glob, "*", "%")
			hit := present && sqlLike(value, glob, false)
			if hit != negated {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// countEvents implements POST /events/count-by/{countable}.
func (s *Server) countEvents(c *call) (any, error) {
	countable := c.params["countable"]
	filter := normalizeEventFilter(c.body["filter"], c.v.now.UTC())
	// Counts by value follow the events' order (the first seen labels a
	// tie); counts by time do not.
	hits, err := matchingEvents(c.v, filter, countable != "day" && countable != "time")
	if err != nil {
		return nil, err
	}
	// A bucket is labelled by its latest event (the first one seen at
	// its latest time).
	type bucket struct {
		value       string
		count       int
		first, last time.Time
		labelled    int32 // position of the event giving the label
	}
	var buckets []*bucket
	byKey := map[int32]*bucket{}
	count := func(keys []int32) {
		for _, p := range hits.pos {
			at := hits.ix.at[p]
			b, ok := byKey[keys[p]]
			if !ok {
				b = &bucket{first: at, last: at, labelled: p}
				byKey[keys[p]] = b
				buckets = append(buckets, b)
			}
			b.count++
			if at.Before(b.first) {
				b.first = at
			}
			if at.After(b.last) {
				b.last, b.labelled = at, p
			}
		}
	}
	var label func(b *bucket) string
	switch countable {
	case "event":
		count(hits.ix.name)
		label = func(b *bucket) string { return hits.ix.names[hits.ix.name[b.labelled]] }
		for _, b := range buckets {
			b.value = label(b)
		}
	case "resource":
		count(hits.ix.res)
		label = func(b *bucket) string {
			r, _ := hits.recs[b.labelled].get("resource").(map[string]any)
			if name := str(r, "prefect.resource.name"); name != "" {
				return name
			}
			return str(r, "prefect.resource.id")
		}
		for _, b := range buckets {
			b.value, _ = eventResourceIDs(hits.recs[b.labelled])
		}
	case "day", "time":
		return timeBuckets(c, filter, hits, countable)
	default:
		return nil, unsupported("count-by/%s", countable)
	}
	out := make([]map[string]any, 0, len(buckets))
	for _, b := range buckets {
		out = append(out, map[string]any{
			"value": b.value, "label": label(b), "count": b.count,
			"start_time": b.first.UTC().Format(isoMicros), "end_time": b.last.UTC().Format(isoMicros),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i]["count"].(int) != out[j]["count"].(int) {
			return out[i]["count"].(int) > out[j]["count"].(int)
		}
		return out[i]["label"].(string) < out[j]["label"].(string)
	})
	return out, nil
}

func timeBuckets(c *call, filter map[string]any, hits eventHits, countable string) (any, error) {
	unit, interval := "day", 1.0
	if countable == "time" {
		if u, ok := c.body["time_unit"].(string); ok {
			unit = u
		}
		if i, ok := c.body["time_interval"].(float64); ok {
			interval = i
		}
	}
	unitLen := map[string]time.Duration{
		"week": 7 * 24 * time.Hour, "day": 24 * time.Hour, "hour": time.Hour,
		"minute": time.Minute, "second": time.Second,
	}[unit]
	step := time.Duration(float64(unitLen) * interval)
	occ := filter["occurred"].(map[string]any)
	since, _ := parseTime(occ["since"])
	until, _ := parseTime(occ["until"])
	if step <= 0 {
		return nil, detailError(http.StatusUnprocessableEntity, "The minimum interval is 0.01")
	}
	start := since.UTC().Truncate(step)
	n := int(until.Sub(start)/step) + 1
	if n > maxEventsBuckets {
		return nil, detailError(http.StatusUnprocessableEntity, fmt.Sprintf(
			"The given interval would create %d buckets, which is too many. Please increase the interval or reduce the time range to produce %d buckets or fewer.", n, maxEventsBuckets))
	}
	counts := make([]int, max(n, 0))
	for _, p := range hits.pos {
		if i := int(hits.ix.at[p].Sub(start) / step); i >= 0 && i < len(counts) {
			counts[i]++
		}
	}
	out := []map[string]any{}
	for i, t := 0, start; !t.After(until); i, t = i+1, t.Add(step) {
		label, count := t.Format(isoMicros), 0
		if i < len(counts) {
			count = counts[i]
		}
		out = append(out, map[string]any{
			"value": label, "label": label, "count": count,
			"start_time": label, "end_time": t.Add(step).Add(-time.Microsecond).Format(isoMicros),
		})
	}
	return out, nil
}

// anyResource reports whether match accepts one of the resources.
func anyResource(resources []map[string]any, match func(map[string]any) (bool, error)) (bool, error) {
	for _, r := range resources {
		if ok, err := match(r); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
