package fakeprefect

import (
	"slices"
	"sort"
	"time"
)

// The indexes below make filters over tens of thousands of rows cheap. They
// only pick candidates: every candidate still goes through the same
// matching code, so an index can make a query faster, never different.
// A table builds them on first use and drops them when it is written.

// tableIndexes are a table's lazily built indexes (guarded by table.mu).
type tableIndexes struct {
	postings map[string]map[string][]int32 // col -> normalized value -> ascending positions; nil map: not indexable
	orders   map[string][]int32            // sort name -> every position in that order
	times    map[string]timeIndex          // col -> rows holding a date-time there, by that time
	events   *eventIndex
}

// timeIndex orders the rows that hold a date-time in one column by it,
// and keeps each row's time by position (has: the row holds one).
type timeIndex struct {
	pos   []int32 // rows holding a time, by it (ties in stored order)
	byPos []time.Time
	has   []bool
}

// at is the time of the i-th row in time order.
func (ti timeIndex) at(i int) time.Time { return ti.byPos[ti.pos[i]] }

// timeOrder returns the rows with a date-time in col, in time order.
func (t *table) timeOrder(col string) timeIndex {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ti, ok := t.idx.times[col]; ok {
		return ti
	}
	ti := timeIndex{byPos: make([]time.Time, len(t.recs)), has: make([]bool, len(t.recs))}
	for i, r := range t.recs {
		if at, ok := timeOf(r, col); ok {
			ti.pos = append(ti.pos, int32(i))
			ti.byPos[i], ti.has[i] = at, true
		}
	}
	slices.SortStableFunc(ti.pos, func(a, b int32) int { return ti.byPos[a].Compare(ti.byPos[b]) })
	if t.idx.times == nil {
		t.idx.times = map[string]timeIndex{}
	}
	t.idx.times[col] = ti
	return ti
}

// postings returns the positions of rows by the value of col, or false when
// col holds something other than strings (lists, numbers) in some row.
func (t *table) postings(col string) (map[string][]int32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.idx.postings[col]; ok {
		return p, p != nil
	}
	p := map[string][]int32{}
	for i, r := range t.recs {
		switch v := r.get(col).(type) {
		case nil:
		case string:
			k := normalizeKey(v)
			p[k] = append(p[k], int32(i))
		default:
			p = nil
		}
		if p == nil {
			break
		}
	}
	if t.idx.postings == nil {
		t.idx.postings = map[string]map[string][]int32{}
	}
	t.idx.postings[col] = p
	return p, p != nil
}

// order returns every position sorted by keys (stable), cached under name.
func (t *table) order(v *view, name string, keys []sortKey) []int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o, ok := t.idx.orders[name]; ok {
		return o
	}
	o := sortedOrder(v, t.recs, keys)
	if t.idx.orders == nil {
		t.idx.orders = map[string][]int32{}
	}
	t.idx.orders[name] = o
	return o
}

// candidates returns the rows of collection that may match filter (read
// with table): all of them, or those its indexable criteria allow.
func (v *view) candidates(collection string, table fieldTable, filter map[string]any) []record {
	t := v.data.tables[collection]
	if t == nil {
		return nil
	}
	pos, all := t.candidates(indexable(table, filter))
	if all {
		return t.recs
	}
	out := make([]record, len(pos))
	for i, p := range pos {
		out[i] = t.recs[p]
	}
	return out
}

// constraint: the row's col must be one of values (normalized), or, with
// alts, the row must satisfy one of the alternatives (an or_ filter).
type constraint struct {
	col    string
	values []string
	alts   []constraint
	// between: col holds a date-time within [from, to] (zero: unbounded),
	// as matchTimeBounds reads before_/after_.
	between  bool
	from, to time.Time
}

// indexable collects the any_ criteria of an and-combined filter on plain
// string columns; anything else is left to matchFilter.
func indexable(table fieldTable, filter map[string]any) []constraint {
	or, err := operatorIsOr(filter, "")
	if err != nil {
		return nil
	}
	if or {
		return indexableOr(table, filter)
	}
	var out []constraint
	for key, crit := range filter {
		f, ok := table[key]
		critMap, isMap := crit.(map[string]any)
		if !ok || !isMap {
			continue
		}
		if f.sub != nil {
			out = append(out, indexable(f.sub, critMap)...)
			continue
		}
		if f.col == "" || f.match != nil {
			continue
		}
		if or, err := operatorIsOr(critMap, ""); err != nil || or {
			continue
		}
		if onlyTimeBounds(critMap) {
			if c, ok := timeConstraint(f.col, critMap); ok {
				out = append(out, c)
			}
			continue
		}
		args, ok := critMap["any_"].([]any)
		if !ok {
			continue
		}
		c := constraint{col: f.col}
		for _, a := range args {
			s, ok := a.(string)
			if !ok {
				c.values = nil
				break
			}
			c.values = append(c.values, normalizeKey(s))
		}
		if c.values != nil || len(args) == 0 {
			out = append(out, c)
		}
	}
	return out
}

// indexableOr turns an or_ filter into one constraint with alternatives,
// when every criterion of it is one plain any_ (else nothing narrows).
func indexableOr(table fieldTable, filter map[string]any) []constraint {
	var alts []constraint
	for key, crit := range filter {
		if key == "operator" || crit == nil {
			continue
		}
		cs := indexable(table, map[string]any{key: crit})
		if len(cs) != 1 || len(filterKeys(crit)) != 1 {
			return nil
		}
		alts = append(alts, cs[0])
	}
	if len(alts) == 0 {
		return nil
	}
	return []constraint{{alts: alts}}
}

// filterKeys lists the non-null criteria of a leaf filter, or nil.
func filterKeys(crit any) []string {
	m, _ := crit.(map[string]any)
	var keys []string
	for k, v := range m {
		if k != "operator" && v != nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// holds reports whether row p's time is within the range.
func (c constraint) holds(ti timeIndex, p int32) bool {
	at := ti.byPos[p]
	return ti.has[p] && (c.from.IsZero() || !at.Before(c.from)) && (c.to.IsZero() || !at.After(c.to))
}

// timeConstraint reads before_/after_ bounds (both inclusive in Prefect);
// false when one is not a date-time (matchFilter then says so).
func timeConstraint(col string, crit map[string]any) (constraint, bool) {
	c := constraint{col: col, between: true}
	for op, arg := range crit {
		if op == "operator" || arg == nil {
			continue
		}
		at, ok := parseTime(arg)
		if !ok {
			return c, false
		}
		if op == "after_" {
			c.from = at
		} else {
			c.to = at
		}
	}
	return c, true
}

// positions returns the ascending positions c allows, or false when a
// column it needs has no index.
func (t *table) positions(c constraint) ([]int32, bool) {
	var union []int32
	if c.between {
		ti := t.timeOrder(c.col)
		lo, hi := 0, len(ti.pos)
		if !c.from.IsZero() {
			lo = sort.Search(len(ti.pos), func(i int) bool { return !ti.at(i).Before(c.from) })
		}
		if !c.to.IsZero() {
			hi = sort.Search(len(ti.pos), func(i int) bool { return ti.at(i).After(c.to) })
		}
		union = slices.Clone(ti.pos[lo:max(lo, hi)])
		slices.Sort(union)
		return union, true
	}
	if c.alts != nil {
		for _, alt := range c.alts {
			p, ok := t.positions(alt)
			if !ok {
				return nil, false
			}
			union = append(union, p...)
		}
	} else {
		p, ok := t.postings(c.col)
		if !ok {
			return nil, false
		}
		for _, v := range c.values {
			if v != "" {
				union = append(union, p[v]...)
			}
		}
	}
	slices.Sort(union)
	return slices.Compact(union), true
}

// candidates returns the ascending positions of t that can satisfy every
// constraint, or all=true when no constraint could use an index.
func (t *table) candidates(cs []constraint) (pos []int32, all bool) {
	all = true
	// Time ranges last: once other constraints picked few rows, those
	// are checked one by one instead of collecting a range's rows.
	cs = slices.Clone(cs)
	slices.SortStableFunc(cs, func(a, b constraint) int {
		switch {
		case a.between == b.between:
			return 0
		case a.between:
			return 1
		}
		return -1
	})
	for _, c := range cs {
		if c.between && !all {
			ti := t.timeOrder(c.col)
			pos = slices.DeleteFunc(pos, func(p int32) bool { return !c.holds(ti, p) })
			continue
		}
		union, ok := t.positions(c)
		if !ok {
			continue
		}
		if all {
			pos, all = union, false
		} else {
			pos = intersect(pos, union)
		}
	}
	return pos, all
}

func intersect(a, b []int32) []int32 {
	var out []int32
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// eventIndex orders events by occurred and maps resource ids to events;
// it keeps a number for each event's name and for its resource by
// position, so a window of tens of thousands of events is counted or
// narrowed by name without building an object.
type eventIndex struct {
	at       []time.Time // occurred by position
	timed    bool        // every event has an occurred time
	byTime   []int32     // positions by occurred, ascending (ties in stored order)
	name     []int32     // event name by position, into names
	names    []string
	res      []int32 // resource by position: the same number for the same resource id
	resource map[string][]int32
	related  map[string][]int32
}

// resourceIDer is a record that can name its event resources cheaply.
type resourceIDer interface {
	resourceIDs() (resource string, related []string)
}

func eventResourceIDs(r record) (string, []string) {
	if ri, ok := r.(resourceIDer); ok {
		return ri.resourceIDs()
	}
	res, _ := r.get("resource").(map[string]any)
	var related []string
	if rel, ok := r.get("related").([]any); ok {
		for _, x := range rel {
			if m, ok := x.(map[string]any); ok {
				related = append(related, str(m, "prefect.resource.id"))
			}
		}
	}
	return str(res, "prefect.resource.id"), related
}

func (t *table) eventIndex() *eventIndex {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idx.events != nil {
		return t.idx.events
	}
	n := len(t.recs)
	ix := &eventIndex{
		at: make([]time.Time, n), timed: true, byTime: make([]int32, n), name: make([]int32, n), res: make([]int32, n),
		resource: map[string][]int32{}, related: map[string][]int32{},
	}
	nameID := map[string]int32{}
	for i, r := range t.recs {
		var ok bool
		if ix.at[i], ok = timeOf(r, "occurred"); !ok {
			ix.timed = false
		}
		ix.byTime[i] = int32(i)
		name := str(r, "event")
		id, seen := nameID[name]
		if !seen {
			id = int32(len(ix.names))
			nameID[name] = id
			ix.names = append(ix.names, name)
		}
		ix.name[i] = id
		res, related := eventResourceIDs(r)
		ix.resource[res] = append(ix.resource[res], int32(i))
		for _, id := range related {
			if l := ix.related[id]; len(l) == 0 || l[len(l)-1] != int32(i) {
				ix.related[id] = append(l, int32(i))
			}
		}
	}
	k := int32(0)
	for _, l := range ix.resource {
		for _, p := range l {
			ix.res[p] = k
		}
		k++
	}
	slices.SortStableFunc(ix.byTime, func(a, b int32) int { return ix.at[a].Compare(ix.at[b]) })
	t.idx.events = ix
	return ix
}

// window returns the positions of the events that occurred in [since,
// until], in time order (ties in stored order).
func (ix *eventIndex) window(since, until time.Time) []int32 {
	lo := sort.Search(len(ix.byTime), func(i int) bool { return !ix.at[ix.byTime[i]].Before(since) })
	hi := sort.Search(len(ix.byTime), func(i int) bool { return ix.at[ix.byTime[i]].After(until) })
	if lo >= hi {
		return nil
	}
	return ix.byTime[lo:hi]
}
