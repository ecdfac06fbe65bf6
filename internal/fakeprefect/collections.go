package fakeprefect

import (
	"strings"
	"time"
)

// view is a read-only window on the data for one request.
type view struct {
	data *Data
	now  time.Time
}

// find returns the record with the given id (UUIDs in any case), or nil.
func (v *view) find(collection, id string) record {
	if id == "" {
		return nil
	}
	if r := v.data.find(collection, id); r != nil {
		return r
	}
	return v.data.find(collection, strings.ToLower(id))
}

func (v *view) all(collection string) []record { return v.data.all(collection) }

// wholes returns the objects of records, as the API answers them.
func wholes(recs []record) []map[string]any {
	out := make([]map[string]any, len(recs))
	for i, r := range recs {
		out[i] = r.whole()
	}
	return out
}

func (v *view) findBy(collection, key, value string) record {
	for _, r := range v.data.all(collection) {
		if s, _ := r.get(key).(string); s == value {
			return r
		}
	}
	return nil
}

// str reads a string field of a record or a JSON object; "" when absent,
// not a string, or the holder is nil.
func str(holder any, key string) string {
	var v any
	switch h := holder.(type) {
	case record:
		v = h.get(key)
	case map[string]any:
		v = h[key]
	}
	s, _ := v.(string)
	return s
}

// join links rows of a queried collection to a cross filter on another
// collection (e.g. flow_runs/filter's "flows" key): a row matches when one of
// its local keys is the remote key of a matching object.
type join struct {
	collection string
	table      fieldTable
	local      localKeys
	remote     func(v *view, obj record) string
}

func keyOf(key string) func(*view, record) string {
	return func(_ *view, obj record) string { return str(obj, key) }
}

// localKeys are a row's keys for a join; col names the row's own field
// when the key is just that field (then an index can answer the join).
type localKeys struct {
	col  string
	keys func(v *view, obj record) []string
	// narrow, when set, turns the matched remote keys into a constraint
	// an index can answer (a superset of the rows keys accepts).
	narrow func(v *view, remote map[string]bool) constraint
}

func keysOf(key string) localKeys {
	return localKeys{col: key, keys: func(_ *view, obj record) []string { return []string{str(obj, key)} }}
}

// flowRunKey follows a row's flow_run_id to a field of its flow run.
func flowRunKey(key string) localKeys {
	return localKeys{keys: func(v *view, obj record) []string {
		return []string{str(v.find(FlowRuns, str(obj, "flow_run_id")), key)}
	}}
}

func stateTable() fieldTable {
	return fieldTable{"type": col("state_type"), "name": col("state_name")}
}

func flowTable() fieldTable {
	return fieldTable{
		"id":   col("id"),
		"name": col("name"),
		"tags": col("tags"),
		"deployment": {match: func(v *view, obj record, crit map[string]any) (bool, error) {
			has := false
			for _, d := range v.all(Deployments) {
				if sameValue(d.get("flow_id"), obj.get("id")) {
					has = true
					break
				}
			}
			return matchLeaf("flows.deployment", map[bool]any{true: true, false: nil}[has], crit)
		}},
	}
}

func flowRunTable() fieldTable {
	return fieldTable{
		"id":                        col("id"),
		"name":                      col("name"),
		"tags":                      col("tags"),
		"deployment_id":             col("deployment_id"),
		"work_queue_name":           col("work_queue_name"),
		"flow_version":              col("flow_version"),
		"start_time":                col("start_time"),
		"end_time":                  col("end_time"),
		"expected_start_time":       col("expected_start_time"),
		"next_scheduled_start_time": col("next_scheduled_start_time"),
		"parent_task_run_id":        col("parent_task_run_id"),
		"idempotency_key":           col("idempotency_key"),
		"state":                     {sub: stateTable()},
		"parent_flow_run_id": {get: func(v *view, obj record) any {
			parent := v.find(TaskRuns, str(obj, "parent_task_run_id"))
			if parent == nil {
				return nil
			}
			return parent.get("flow_run_id")
		}},
		"created_by": {match: matchCreatedBy},
	}
}

// matchCreatedBy evaluates FlowRunFilterCreatedBy, whose operators carry the
// column in their name (id_, type_) rather than in nested models.
func matchCreatedBy(_ *view, obj record, crit map[string]any) (bool, error) {
	const where = "flow_runs.created_by"
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
		var res bool
		switch op {
		case "id_":
			res, err = applyOperator(where, "any_", lookup(obj.get("created_by"), "id"), arg)
		case "type_":
			res, err = applyOperator(where, "any_", lookup(obj.get("created_by"), "type"), arg)
		case "is_null_":
			res, err = applyOperator(where, "is_null_", obj.get("created_by"), arg)
		default:
			err = unsupported("%s.%s", where, op)
		}
		if err != nil {
			return false, err
		}
		results = append(results, res)
	}
	return combine(or, results), nil
}

func taskRunTable() fieldTable {
	return fieldTable{
		"id":                  col("id"),
		"name":                col("name"),
		"tags":                col("tags"),
		"flow_run_id":         col("flow_run_id"),
		"start_time":          col("start_time"),
		"end_time":            col("end_time"),
		"expected_start_time": col("expected_start_time"),
		"state":               {sub: stateTable()},
		"subflow_runs": {get: func(v *view, obj record) any {
			for _, fr := range v.all(FlowRuns) {
				if sameValue(fr.get("parent_task_run_id"), obj.get("id")) {
					return fr.get("id")
				}
			}
			return nil
		}},
	}
}

func deploymentTable() fieldTable {
	return fieldTable{
		"id":              col("id"),
		"name":            col("name"),
		"tags":            col("tags"),
		"paused":          col("paused"),
		"work_queue_name": col("work_queue_name"),
		"concurrency_limit": {get: func(_ *view, obj record) any {
			if gcl, ok := obj.get("global_concurrency_limit").(map[string]any); ok {
				return gcl["limit"]
			}
			return obj.get("concurrency_limit")
		}},
		"flow_or_deployment_name": {match: func(v *view, obj record, crit map[string]any) (bool, error) {
			ok, err := matchLeaf("deployments.flow_or_deployment_name", obj.get("name"), crit)
			if err != nil || ok {
				return ok, err
			}
			return matchLeaf("deployments.flow_or_deployment_name", str(v.find(Flows, str(obj, "flow_id")), "name"), crit)
		}},
	}
}

func logTable() fieldTable {
	return fieldTable{
		"flow_run_id": col("flow_run_id"),
		"task_run_id": col("task_run_id"),
		"level":       col("level"),
		"timestamp":   col("timestamp"),
		"text": {match: func(_ *view, obj record, crit map[string]any) (bool, error) {
			query, _ := crit["query"].(string)
			return textSearch(query, str(obj, "message")+" "+str(obj, "name")), nil
		}},
	}
}

func workPoolTable() fieldTable {
	return fieldTable{"id": col("id"), "name": col("name"), "type": col("type")}
}

func workQueueTable() fieldTable {
	return fieldTable{"id": col("id"), "name": col("name")}
}

func workerTable() fieldTable {
	return fieldTable{"last_heartbeat_time": col("last_heartbeat_time"), "status": col("status")}
}

func variableTable() fieldTable {
	return fieldTable{"id": col("id"), "name": col("name"), "tags": col("tags")}
}

func artifactTable() fieldTable {
	return fieldTable{
		"id": col("id"), "key": col("key"), "type": col("type"),
		"flow_run_id": col("flow_run_id"), "task_run_id": col("task_run_id"),
	}
}

func artifactCollectionTable() fieldTable {
	return fieldTable{
		"latest_id": col("latest_id"), "key": col("key"), "type": col("type"),
		"flow_run_id": col("flow_run_id"), "task_run_id": col("task_run_id"),
	}
}

func automationTable() fieldTable {
	return fieldTable{"name": col("name"), "created": col("created"), "tags": col("tags")}
}

func blockTypeTable() fieldTable {
	return fieldTable{"name": col("name"), "slug": col("slug")}
}

func blockDocumentTable() fieldTable {
	return fieldTable{
		"id": col("id"), "name": col("name"),
		"block_type_id": col("block_type_id"), "is_anonymous": col("is_anonymous"),
	}
}

// textSearch implements Prefect's log/event text query: plain terms are ORed,
// -term excludes, +term is required, "quoted phrases" stay together.
func textSearch(query, text string) bool {
	text = strings.ToLower(text)
	var include, exclude, required []string
	for _, term := range splitQuery(query) {
		switch {
		case strings.HasPrefix(term, "-") && len(term) > 1:
			exclude = append(exclude, term[1:])
		case strings.HasPrefix(term, "!") && len(term) > 1:
			exclude = append(exclude, term[1:])
		case strings.HasPrefix(term, "+") && len(term) > 1:
			required = append(required, term[1:])
		default:
			include = append(include, term)
		}
	}
	contains := func(t string) bool { return strings.Contains(text, strings.ToLower(t)) }
	if len(include) > 0 && !anyOf(include, contains) {
		return false
	}
	if anyOf(exclude, contains) {
		return false
	}
	for _, t := range required {
		if !contains(t) {
			return false
		}
	}
	return true
}

func anyOf(terms []string, pred func(string) bool) bool {
	for _, t := range terms {
		if pred(t) {
			return true
		}
	}
	return false
}

func splitQuery(q string) []string {
	var terms []string
	var cur strings.Builder
	inQuote := false
	flush := func() {
		if cur.Len() > 0 {
			terms = append(terms, cur.String())
			cur.Reset()
		}
	}
	for _, r := range q {
		switch {
		case r == '"':
			inQuote = !inQuote
		case (r == ' ' || r == '\t') && !inQuote:
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return terms
}
