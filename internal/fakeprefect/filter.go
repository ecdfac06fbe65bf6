package fakeprefect

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
)

// unsupportedError marks a filter the fake cannot evaluate; the server answers
// 500 with its message so a test notices instead of getting silently wrong rows.
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string { return "fake: unsupported filter " + e.what }

func unsupported(format string, args ...any) error {
	return &unsupportedError{what: fmt.Sprintf(format, args...)}
}

// field describes one key of a Prefect *Filter model.
type field struct {
	// get extracts the value compared by the generic operators.
	get func(v *view, obj record) any
	// sub is set for nested filters (e.g. FlowRunFilterState).
	sub fieldTable
	// match replaces the generic operators for criteria with bespoke semantics.
	match func(v *view, obj record, crit map[string]any) (bool, error)
	// col names the top-level field get reads, when that is all it does
	// (then an index can answer any_ on it).
	col string
}

// col is a field that reads the top-level key.
func col(key string) field { return field{get: path(key), col: key} }

type fieldTable map[string]field

func path(key string, more ...string) func(*view, record) any {
	return func(_ *view, obj record) any { return lookup(obj.get(key), more...) }
}

// lookup follows keys into nested JSON objects.
func lookup(cur any, keys ...string) any {
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// matchFilter reports whether obj satisfies filter, a decoded Prefect filter
// object such as a FlowRunFilter. Criteria are combined with the model's
// "operator" (and_ by default); criteria whose value is null are no-ops, as in
// Prefect.
func matchFilter(v *view, table fieldTable, where string, obj record, filter map[string]any) (bool, error) {
	or, err := operatorIsOr(filter, where)
	if err != nil {
		return false, err
	}
	results := make([]bool, 0, len(filter))
	for _, key := range sortedKeys(filter) {
		if key == "operator" {
			continue
		}
		crit := filter[key]
		if crit == nil {
			continue
		}
		f, ok := table[key]
		if !ok {
			return false, unsupported("%s.%s", where, key)
		}
		critMap, ok := crit.(map[string]any)
		if !ok {
			return false, unsupported("%s.%s: expected an object, got %T", where, key, crit)
		}
		var res bool
		switch {
		case f.match != nil:
			res, err = f.match(v, obj, critMap)
		case f.sub != nil:
			res, err = matchFilter(v, f.sub, where+"."+key, obj, critMap)
		default:
			if f.col != "" && onlyTimeBounds(critMap) {
				res, err = matchTimeBounds(where+"."+key, obj, f.col, critMap)
			} else {
				res, err = matchLeaf(where+"."+key, f.get(v, obj), critMap)
			}
		}
		if err != nil {
			return false, err
		}
		results = append(results, res)
	}
	return combine(or, results), nil
}

// onlyTimeBounds reports whether crit holds only before_/after_ bounds.
func onlyTimeBounds(crit map[string]any) bool {
	n := 0
	for op, arg := range crit {
		switch {
		case op == "before_" || op == "after_":
			n++
		case op == "operator" || arg == nil:
		default:
			return false
		}
	}
	return n > 0
}

// matchTimeBounds is matchLeaf for before_/after_ on a date-time column,
// reading the row's time without formatting and parsing it.
func matchTimeBounds(where string, obj record, col string, crit map[string]any) (bool, error) {
	or, err := operatorIsOr(crit, where)
	if err != nil {
		return false, err
	}
	at, ok := timeOf(obj, col)
	var results []bool
	for _, op := range sortedKeys(crit) {
		arg := crit[op]
		if op == "operator" || arg == nil {
			continue
		}
		bound, bok := parseTime(arg)
		if !bok {
			return false, unsupported("%s.%s: not a date-time: %v", where, op, arg)
		}
		switch {
		case !ok:
			results = append(results, false)
		case op == "before_":
			results = append(results, !at.After(bound))
		default:
			results = append(results, !at.Before(bound))
		}
	}
	return combine(or, results), nil
}

func operatorIsOr(filter map[string]any, where string) (bool, error) {
	switch op := filter["operator"]; op {
	case nil, "and_":
		return false, nil
	case "or_":
		return true, nil
	default:
		return false, unsupported("%s.operator %v", where, op)
	}
}

func combine(or bool, results []bool) bool {
	if len(results) == 0 {
		return true
	}
	for _, r := range results {
		if or && r {
			return true
		}
		if !or && !r {
			return false
		}
	}
	return !or
}

// matchLeaf applies the generic operators of a leaf filter model to value.
// A list value (tags) gets set semantics; scalars get SQL semantics, where a
// NULL column never matches a comparison.
func matchLeaf(where string, value any, crit map[string]any) (bool, error) {
	or, err := operatorIsOr(crit, where)
	if err != nil {
		return false, err
	}
	var results []bool
	for _, op := range sortedKeys(crit) {
		arg := crit[op]
		if op == "operator" || arg == nil {
			continue
		}
		res, err := applyOperator(where, op, value, arg)
		if err != nil {
			return false, err
		}
		results = append(results, res)
	}
	return combine(or, results), nil
}

func applyOperator(where, op string, value, arg any) (bool, error) {
	list, isList := value.([]any)
	switch op {
	case "any_", "not_any_", "all_", "startswith_":
		args, ok := arg.([]any)
		if !ok {
			return false, unsupported("%s.%s: expected a list", where, op)
		}
		switch op {
		case "any_":
			if isList {
				return anyShared(list, args), nil
			}
			return value != nil && containsValue(args, value), nil
		case "not_any_":
			if isList {
				return !anyShared(list, args), nil
			}
			return value != nil && !containsValue(args, value), nil
		case "all_":
			if value == nil { // a NULL column matches no comparison
				return false, nil
			}
			if !isList {
				return false, unsupported("%s.all_ on a non-list field", where)
			}
			for _, a := range args {
				if !containsValue(list, a) {
					return false, nil
				}
			}
			return true, nil
		default: // startswith_: ILIKE 'x%'
			s, ok := value.(string)
			if !ok {
				return false, nil
			}
			for _, a := range args {
				if p, ok := a.(string); ok && likeMatch(s, escapeLike(p)+"%") {
					return true, nil
				}
			}
			return false, nil
		}
	case "like_":
		s, ok := value.(string)
		p, pok := arg.(string)
		if !pok {
			return false, unsupported("%s.like_: expected a string", where)
		}
		return ok && likeMatch(s, "%"+p+"%"), nil
	case "is_null_", "exists_":
		want, ok := arg.(bool)
		if !ok {
			return false, unsupported("%s.%s: expected a boolean", where, op)
		}
		null := value == nil || (isList && len(list) == 0)
		if op == "exists_" {
			return null != want, nil
		}
		return null == want, nil
	case "eq_":
		return value != nil && sameValue(value, arg), nil
	case "before_", "after_":
		t, ok := parseTime(value)
		bound, bok := parseTime(arg)
		if !bok {
			return false, unsupported("%s.%s: not a date-time: %v", where, op, arg)
		}
		if !ok {
			return false, nil
		}
		if op == "before_" {
			return !t.After(bound), nil
		}
		return !t.Before(bound), nil
	case "ge_", "le_", "gt_", "lt_":
		n, ok := value.(float64)
		bound, bok := arg.(float64)
		if !bok {
			return false, unsupported("%s.%s: expected a number", where, op)
		}
		if !ok {
			return false, nil
		}
		switch op {
		case "ge_":
			return n >= bound, nil
		case "le_":
			return n <= bound, nil
		case "gt_":
			return n > bound, nil
		default:
			return n < bound, nil
		}
	}
	return false, unsupported("%s.%s", where, op)
}

func anyShared(list, args []any) bool {
	for _, a := range args {
		if containsValue(list, a) {
			return true
		}
	}
	return false
}

func containsValue(list []any, v any) bool {
	for _, x := range list {
		if sameValue(x, v) {
			return true
		}
	}
	return false
}

// sameValue compares JSON values; UUIDs compare case-insensitively because
// Prefect parses them.
func sameValue(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		// EqualFold first: it rules most pairs out before isUUID runs.
		return as == bs || (strings.EqualFold(as, bs) && isUUID(as) && isUUID(bs))
	}
	return a == b
}

// isUUID matches ^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$
// (hand-written: it runs for every compared string).
func isUUID(s string) bool {
	if len(s) < 32 || len(s) > 36 {
		return false
	}
	i := 0
	for g, n := range [5]int{8, 4, 4, 4, 12} {
		if g > 0 && i < len(s) && s[i] == '-' {
			i++
		}
		for range n {
			if i >= len(s) || !isHex(s[i]) {
				return false
			}
			i++
		}
	}
	return i == len(s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// escapeLike escapes LIKE's wildcards and escape character in s.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '\\' || r == '%' || r == '_' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// likeMatch implements SQL ILIKE with '\' as the escape character.
func likeMatch(s, pattern string) bool { return sqlLike(s, pattern, true) }

// sqlLike implements SQL LIKE (ILIKE when fold) with '\' as the escape
// character: % matches any run of characters, _ exactly one. It matches
// rune by rune, backtracking to the last %, with no regexp to compile for
// every row.
func sqlLike(s, pattern string, fold bool) bool {
	type tok struct {
		r    rune
		kind byte // 0 literal, '%' any run, '_' any one
	}
	var toks []tok
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch c := pr[i]; c {
		case '%', '_':
			toks = append(toks, tok{kind: byte(c)})
		case '\\':
			if i+1 < len(pr) {
				i++
				toks = append(toks, tok{r: pr[i]})
			}
		default:
			toks = append(toks, tok{r: c})
		}
	}
	same := func(a, b rune) bool { // case folding as regexp's (?i): the SimpleFold orbit
		if a == b || !fold {
			return a == b
		}
		for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
			if f == b {
				return true
			}
		}
		return false
	}
	text := []rune(s)
	ti, pi := 0, 0
	star, mark := -1, 0 // last % seen in the pattern, and where the text stood then
	for ti < len(text) {
		switch {
		case pi < len(toks) && toks[pi].kind == '%':
			star, mark = pi, ti
			pi++
		case pi < len(toks) && (toks[pi].kind == '_' || toks[pi].kind == 0 && same(toks[pi].r, text[ti])):
			pi, ti = pi+1, ti+1
		case star >= 0:
			pi, mark = star+1, mark+1
			ti = mark
		default:
			return false
		}
	}
	for pi < len(toks) && toks[pi].kind == '%' {
		pi++
	}
	return pi == len(toks)
}

// parseTime accepts the date-time shapes pydantic accepts in practice.
func parseTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortKey orders rows by one extracted value; NULLs sort as the largest
// value, as in PostgreSQL (last ascending, first descending).
type sortKey struct {
	get  func(v *view, obj record) any
	desc bool
}

func asc(key string) sortKey  { return sortKey{get: path(key)} }
func desc(key string) sortKey { return sortKey{get: path(key), desc: true} }

// sortRows sorts rows stably by keys.
func sortRows(v *view, rows []record, keys []sortKey) {
	if len(rows) < 2 || len(keys) == 0 {
		return
	}
	perm := sortedOrder(v, rows, keys)
	sorted := make([]record, len(rows))
	for i, p := range perm {
		sorted[i] = rows[p]
	}
	copy(rows, sorted)
}

// sortedOrder returns the positions of rows in the stable order of keys. It
// extracts and normalizes each row's sort values once (times parsed, UUIDs
// folded) rather than at every comparison: the large workspace sorts tens
// of thousands of rows.
func sortedOrder(v *view, rows []record, keys []sortKey) []int32 {
	vals := make([]sortValue, len(rows)*len(keys))
	for i, r := range rows {
		for j, k := range keys {
			vals[i*len(keys)+j] = newSortValue(k.get(v, r))
		}
	}
	perm := make([]int32, len(rows))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int {
		for n, k := range keys {
			c := vals[int(a)*len(keys)+n].compare(vals[int(b)*len(keys)+n])
			if c == 0 {
				continue
			}
			if k.desc {
				return -c
			}
			return c
		}
		return cmp.Compare(a, b) // ties keep their order: a stable sort
	})
	return perm
}

// sortValue is a value prepared for compareValues' order.
type sortValue struct {
	raw    any
	t      time.Time
	isTime bool
	folded string // a UUID in lower case
	isUUID bool
}

func newSortValue(v any) sortValue {
	sv := sortValue{raw: v}
	if t, ok := parseTime(v); ok {
		sv.t, sv.isTime = t, true
	} else if s, ok := v.(string); ok && isUUID(s) {
		sv.folded, sv.isUUID = strings.ToLower(s), true
	}
	return sv
}

// compare orders as compareValues does on the raw values.
func (a sortValue) compare(b sortValue) int {
	switch {
	case a.raw == nil || b.raw == nil:
		return compareValues(a.raw, b.raw)
	case a.isTime && b.isTime:
		return a.t.Compare(b.t)
	case a.isUUID && b.isUUID:
		return strings.Compare(a.folded, b.folded)
	case a.isTime || b.isTime || a.isUUID || b.isUUID:
		return compareValues(a.raw, b.raw)
	}
	if as, ok := a.raw.(string); ok {
		if bs, ok := b.raw.(string); ok {
			return strings.Compare(as, bs)
		}
	}
	return compareValues(a.raw, b.raw)
}

func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	if ta, ok := parseTime(a); ok {
		if tb, ok := parseTime(b); ok {
			return ta.Compare(tb)
		}
	}
	switch av := a.(type) {
	case float64:
		if bv, ok := b.(float64); ok {
			switch {
			case av < bv:
				return -1
			case av > bv:
				return 1
			}
			return 0
		}
	case string:
		if bv, ok := b.(string); ok {
			if isUUID(av) && isUUID(bv) {
				return strings.Compare(strings.ToLower(av), strings.ToLower(bv))
			}
			return strings.Compare(av, bv)
		}
	case bool:
		if bv, ok := b.(bool); ok && av != bv {
			if !av {
				return -1
			}
			return 1
		}
		return 0
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}
