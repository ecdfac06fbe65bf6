package fakeprefect

import (
	"crypto/sha1"
	"encoding/hex"
	"maps"
	"net/http"
	"slices"
)

// defaultLimit is PREFECT_SERVER_API_DEFAULT_LIMIT: the default and the
// maximum of every `limit` taken through Prefect's LimitBody.
const defaultLimit = 200

// query describes one "POST /<collection>/filter" style endpoint.
type query struct {
	collection string
	// rows overrides the source rows (e.g. queues of one pool).
	rows      func(c *call) ([]record, error)
	filterKey string
	table     fieldTable
	joins     map[string]join
	sorts     map[string][]sortKey
	// sortDefault names the default sort enum, or is empty when order is fixed.
	sortDefault string
	// order applies when the endpoint has no sort parameter.
	order []sortKey
}

func flowJoins() map[string]join {
	return map[string]join{
		FlowRuns:    {FlowRuns, flowRunTable(), keysOf("id"), keyOf("flow_id")},
		Deployments: {Deployments, deploymentTable(), keysOf("id"), keyOf("flow_id")},
		TaskRuns: {TaskRuns, taskRunTable(), keysOf("id"), func(v *view, obj record) string {
			return str(v.find(FlowRuns, str(obj, "flow_run_id")), "flow_id")
		}},
		WorkPools: {WorkPools, workPoolTable(), localKeys{keys: func(v *view, obj record) []string {
			var names []string
			for _, d := range v.all(Deployments) {
				if sameValue(d.get("flow_id"), obj.get("id")) {
					names = append(names, str(d, "work_pool_name"))
				}
			}
			return names
		}}, keyOf("name")},
	}
}

func flowRunJoins() map[string]join {
	return map[string]join{
		Flows:       {Flows, flowTable(), keysOf("flow_id"), keyOf("id")},
		Deployments: {Deployments, deploymentTable(), keysOf("deployment_id"), keyOf("id")},
		TaskRuns:    {TaskRuns, taskRunTable(), keysOf("id"), keyOf("flow_run_id")},
		WorkPools: {WorkPools, workPoolTable(), localKeys{keys: func(v *view, obj record) []string {
			if q := v.find(WorkQueues, str(obj, "work_queue_id")); q != nil {
				return []string{str(q, "work_pool_id")}
			}
			return nil
		}, narrow: queuesOfPools}, keyOf("id")},
		"work_pool_queues": {WorkQueues, workQueueTable(), keysOf("work_queue_id"), keyOf("id")},
	}
}

func taskRunJoins() map[string]join {
	return map[string]join{
		Flows:       {Flows, flowTable(), flowRunKey("flow_id"), keyOf("id")},
		FlowRuns:    {FlowRuns, flowRunTable(), keysOf("flow_run_id"), keyOf("id")},
		Deployments: {Deployments, deploymentTable(), flowRunKey("deployment_id"), keyOf("id")},
	}
}

func deploymentJoins() map[string]join {
	return map[string]join{
		Flows:    {Flows, flowTable(), keysOf("flow_id"), keyOf("id")},
		FlowRuns: {FlowRuns, flowRunTable(), keysOf("id"), keyOf("deployment_id")},
		TaskRuns: {TaskRuns, taskRunTable(), keysOf("id"), func(v *view, obj record) string {
			return str(v.find(FlowRuns, str(obj, "flow_run_id")), "deployment_id")
		}},
		WorkPools:          {WorkPools, workPoolTable(), keysOf("work_pool_name"), keyOf("name")},
		"work_pool_queues": {WorkQueues, workQueueTable(), keysOf("work_queue_id"), keyOf("id")},
	}
}

func artifactJoins() map[string]join {
	return map[string]join{
		FlowRuns:    {FlowRuns, flowRunTable(), keysOf("flow_run_id"), keyOf("id")},
		TaskRuns:    {TaskRuns, taskRunTable(), keysOf("task_run_id"), keyOf("id")},
		Flows:       {Flows, flowTable(), flowRunKey("flow_id"), keyOf("id")},
		Deployments: {Deployments, deploymentTable(), flowRunKey("deployment_id"), keyOf("id")},
	}
}

func coalesce(keys ...string) func(*view, record) any {
	return func(_ *view, obj record) any {
		for _, k := range keys {
			if v := obj.get(k); v != nil {
				return v
			}
		}
		return nil
	}
}

func runSorts(flowRuns bool) map[string][]sortKey {
	sorts := map[string][]sortKey{
		"ID_DESC":                       {desc("id")},
		"EXPECTED_START_TIME_ASC":       {asc("expected_start_time")},
		"EXPECTED_START_TIME_DESC":      {desc("expected_start_time")},
		"NAME_ASC":                      {asc("name")},
		"NAME_DESC":                     {desc("name")},
		"NEXT_SCHEDULED_START_TIME_ASC": {asc("next_scheduled_start_time")},
		"END_TIME_DESC":                 {desc("end_time")},
	}
	if flowRuns {
		sorts["START_TIME_ASC"] = []sortKey{{get: coalesce("start_time", "expected_start_time")}}
		sorts["START_TIME_DESC"] = []sortKey{{get: coalesce("start_time", "expected_start_time"), desc: true}}
	}
	return sorts
}

func nameSorts() map[string][]sortKey {
	return map[string][]sortKey{
		"CREATED_DESC": {desc("created")},
		"UPDATED_DESC": {desc("updated")},
		"NAME_ASC":     {asc("name")},
		"NAME_DESC":    {desc("name")},
	}
}

func keySorts() map[string][]sortKey {
	return map[string][]sortKey{
		"CREATED_DESC": {desc("created")},
		"UPDATED_DESC": {desc("updated")},
		"ID_DESC":      {desc("id")},
		"KEY_DESC":     {desc("key")},
		"KEY_ASC":      {asc("key")},
	}
}

// queries maps an OpenAPI route to its query; "/count" routes reuse the
// "/filter" query of the same collection.
func queries() map[string]query {
	qs := map[string]query{
		"POST /flows/filter": {collection: Flows, filterKey: Flows, table: flowTable(), joins: flowJoins(),
			sorts: nameSorts(), sortDefault: "NAME_ASC"},
		"POST /flow_runs/filter": {collection: FlowRuns, filterKey: FlowRuns, table: flowRunTable(), joins: flowRunJoins(),
			sorts: runSorts(true), sortDefault: "ID_DESC"},
		"POST /task_runs/filter": {collection: TaskRuns, filterKey: TaskRuns, table: taskRunTable(), joins: taskRunJoins(),
			sorts: runSorts(false), sortDefault: "ID_DESC"},
		"POST /deployments/filter": {collection: Deployments, filterKey: Deployments, table: deploymentTable(), joins: deploymentJoins(),
			sorts: nameSorts(), sortDefault: "NAME_ASC"},
		"POST /logs/filter": {collection: Logs, filterKey: Logs, table: logTable(),
			sorts:       map[string][]sortKey{"TIMESTAMP_ASC": {asc("timestamp")}, "TIMESTAMP_DESC": {desc("timestamp")}},
			sortDefault: "TIMESTAMP_ASC"},
		"POST /work_pools/filter": {collection: WorkPools, filterKey: WorkPools, table: workPoolTable(), order: []sortKey{asc("name")}},
		"POST /work_queues/filter": {collection: WorkQueues, filterKey: WorkQueues, table: workQueueTable(),
			order: []sortKey{asc("name")}},
		"POST /work_pools/{work_pool_name}/queues/filter": {collection: WorkQueues, filterKey: WorkQueues, table: workQueueTable(),
			rows: rowsOfPool(WorkQueues, "work_pool_name", "name"), order: []sortKey{asc("priority")}},
		"POST /work_pools/{work_pool_name}/workers/filter": {collection: Workers, filterKey: Workers, table: workerTable(),
			rows: rowsOfPool(Workers, "work_pool_id", "id"), order: []sortKey{desc("last_heartbeat_time")}},
		"POST /concurrency_limits/filter":    {collection: ConcurrencyLimits, order: []sortKey{asc("tag")}},
		"POST /v2/concurrency_limits/filter": {collection: V2ConcurrencyLimits, order: []sortKey{asc("name")}},
		"POST /automations/filter": {collection: Automations, filterKey: Automations, table: automationTable(),
			sorts: nameSorts(), sortDefault: "NAME_ASC"},
		"POST /artifacts/filter": {collection: Artifacts, filterKey: Artifacts, table: artifactTable(), joins: artifactJoins(),
			sorts: keySorts(), sortDefault: "ID_DESC"},
		"POST /artifacts/latest/filter": {collection: Artifacts, filterKey: Artifacts, table: artifactCollectionTable(),
			joins: artifactJoins(), rows: artifactCollections, sorts: keySorts(), sortDefault: "ID_DESC"},
		"POST /variables/filter": {collection: Variables, filterKey: Variables, table: variableTable(),
			sorts: nameSorts(), sortDefault: "NAME_ASC"},
		"POST /block_types/filter": {collection: BlockTypes, filterKey: BlockTypes, table: blockTypeTable(),
			order: []sortKey{asc("name")}},
		"POST /block_documents/filter": {collection: BlockDocuments, filterKey: BlockDocuments, table: blockDocumentTable(),
			sorts: map[string][]sortKey{
				"NAME_ASC": {asc("name")}, "NAME_DESC": {desc("name")},
				"BLOCK_TYPE_AND_NAME_ASC": {asc("block_type_name"), asc("name")},
			}, sortDefault: "NAME_ASC"},
	}
	for _, name := range []string{"flows", "flow_runs", "task_runs", "deployments", "work_pools", "automations", "artifacts", "variables", "block_documents"} {
		qs["POST /"+name+"/count"] = qs["POST /"+name+"/filter"]
	}
	qs["POST /artifacts/latest/count"] = qs["POST /artifacts/latest/filter"]
	return qs
}

// queuesOfPools narrows a flow run join on work pools to the runs of their
// queues.
func queuesOfPools(v *view, pools map[string]bool) constraint {
	c := constraint{col: "work_queue_id", values: []string{}}
	for _, q := range v.all(WorkQueues) {
		if pools[normalizeKey(str(q, "work_pool_id"))] {
			c.values = append(c.values, normalizeKey(str(q, "id")))
		}
	}
	return c
}

// rowsOfPool returns the rows of collection that belong to the pool named in
// the path, matching the row's key against the pool's poolKey; 404 when the
// pool does not exist, as Prefect.
func rowsOfPool(collection, key, poolKey string) func(c *call) ([]record, error) {
	return func(c *call) ([]record, error) {
		pool := c.v.findBy(WorkPools, "name", c.params["work_pool_name"])
		if pool == nil {
			return nil, &httpError{status: http.StatusNotFound, body: map[string]any{"detail": "Work pool not found."}}
		}
		var out []record
		for _, obj := range c.v.all(collection) {
			if sameValue(obj.get(key), pool.get(poolKey)) {
				out = append(out, obj)
			}
		}
		return out, nil
	}
}

// artifactCollections derives Prefect's ArtifactCollection rows (latest
// artifact per key) from the stored artifacts.
func artifactCollections(c *call) ([]record, error) {
	latest := map[string]record{}
	var keys []string
	for _, a := range c.v.all(Artifacts) {
		key := str(a, "key")
		if key == "" {
			continue
		}
		prev, seen := latest[key]
		if !seen {
			keys = append(keys, key)
		}
		if !seen || compareValues(a.get("created"), prev.get("created")) >= 0 {
			latest[key] = a
		}
	}
	out := make([]record, 0, len(keys))
	for _, key := range keys {
		a := latest[key]
		out = append(out, object{
			"id":          nameUUID("artifact-collection:" + key),
			"created":     a.get("created"),
			"updated":     a.get("updated"),
			"key":         key,
			"latest_id":   a.get("id"),
			"task_run_id": a.get("task_run_id"),
			"flow_run_id": a.get("flow_run_id"),
			"type":        a.get("type"),
			"data":        a.get("data"),
			"description": a.get("description"),
			"metadata_":   a.get("metadata_"),
		})
	}
	return out, nil
}

// nameUUID derives a stable UUID (version 5 layout) from a name.
func nameUUID(name string) string {
	sum := sha1.Sum([]byte(name))
	sum[6] = (sum[6] & 0x0f) | 0x50
	sum[8] = (sum[8] & 0x3f) | 0x80
	var b [36]byte
	hex.Encode(b[0:8], sum[0:4])
	hex.Encode(b[9:13], sum[4:6])
	hex.Encode(b[14:18], sum[6:8])
	hex.Encode(b[19:23], sum[8:10])
	hex.Encode(b[24:36], sum[10:16])
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return string(b[:])
}

// run evaluates q for the decoded body; it returns all matching rows, sorted,
// before offset and limit.
func (q query) run(c *call) ([]record, error) { return q.match(c, true) }

// match returns the rows matching the body, sorted when sorted is set.
func (q query) match(c *call, sorted bool) ([]record, error) {
	for key, val := range c.body {
		switch key {
		case "limit", "offset", "sort", "include_secrets":
			continue
		}
		if val == nil {
			continue
		}
		if key != q.filterKey {
			if _, ok := q.joins[key]; !ok {
				return nil, unsupported("%s (body key of %s)", key, c.route)
			}
		}
	}
	order := q.order
	sortName := ""
	if q.sorts != nil {
		sortName = q.sortDefault
		if s, ok := c.body["sort"].(string); ok {
			sortName = s
		}
		keys, ok := q.sorts[sortName]
		if !ok {
			return nil, unsupported("sort %q on %s", sortName, c.route)
		}
		order = keys
	}
	own, _ := c.body[q.filterKey].(map[string]any)
	if own != nil {
		if err := checkFilter(c.v, q.table, q.filterKey, own); err != nil {
			return nil, err
		}
	}
	matchedRemote := map[string]map[string]bool{}
	var cs []constraint
	for key, j := range q.joins {
		filter, ok := c.body[key].(map[string]any)
		if !ok {
			continue
		}
		if err := checkFilter(c.v, j.table, key, filter); err != nil {
			return nil, err
		}
		set := map[string]bool{}
		for _, obj := range c.v.candidates(j.collection, j.table, filter) {
			ok, err := matchFilter(c.v, j.table, key, obj, filter)
			if err != nil {
				return nil, err
			}
			if ok {
				set[normalizeKey(j.remote(c.v, obj))] = true
			}
		}
		matchedRemote[key] = set
		switch {
		case j.local.col != "":
			cs = append(cs, constraint{col: j.local.col, values: slices.Collect(maps.Keys(set))})
		case j.local.narrow != nil:
			cs = append(cs, j.local.narrow(c.v, set))
		}
	}
	// Rows come from the table unless the query has its own source; then
	// the table's indexes can pick the candidates and give the order.
	var t *table
	rows := c.v.all(q.collection)
	if q.rows != nil {
		var err error
		if rows, err = q.rows(c); err != nil {
			return nil, err
		}
	} else if t = c.v.data.tables[q.collection]; t != nil && own != nil {
		cs = append(cs, indexable(q.table, own)...)
	}
	var positions []int32 // of matching rows when t is set
	consider := func(obj record) (bool, error) {
		if own != nil {
			ok, err := matchFilter(c.v, q.table, q.filterKey, obj, own)
			if err != nil || !ok {
				return false, err
			}
		}
		for key, set := range matchedRemote {
			found := false
			for _, local := range q.joins[key].local.keys(c.v, obj) {
				if local != "" && set[normalizeKey(local)] {
					found = true
					break
				}
			}
			if !found {
				return false, nil
			}
		}
		return true, nil
	}
	var out []record
	if t != nil && own == nil && len(matchedRemote) == 0 {
		// No filter at all: every row, in the table's order for the sort.
		out = slices.Clone(rows)
		if sorted && sortName != "" && len(out) > 256 {
			for i, p := range t.order(c.v, sortName, order) {
				out[i] = rows[p]
			}
			return out, nil
		}
	} else if t != nil {
		cand, all := t.candidates(cs)
		if all {
			cand = make([]int32, len(rows))
			for i := range cand {
				cand[i] = int32(i)
			}
		}
		for _, p := range cand {
			ok, err := consider(rows[p])
			if err != nil {
				return nil, err
			}
			if ok {
				positions = append(positions, p)
				out = append(out, rows[p])
			}
		}
	} else {
		for _, obj := range rows {
			ok, err := consider(obj)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, obj)
			}
		}
	}
	if !sorted {
		return out, nil
	}
	// A large result follows the table's cached order for this sort; a
	// small one is sorted on its own (the same stable order either way).
	if positions != nil && sortName != "" && len(out) > 256 {
		mark := make([]bool, len(rows))
		for _, p := range positions {
			mark[p] = true
		}
		out = out[:0]
		for _, p := range t.order(c.v, sortName, order) {
			if mark[p] {
				out = append(out, rows[p])
			}
		}
		return out, nil
	}
	sortRows(c.v, out, order)
	return out, nil
}

// checkFilter surfaces an unsupported criterion even when no row is left to
// evaluate it on (indexes may rule every row out first).
func checkFilter(v *view, table fieldTable, where string, filter map[string]any) error {
	_, err := matchFilter(v, table, where, object{}, filter)
	return err
}

func normalizeKey(s string) string {
	if isUUID(s) {
		return lowerASCII(s)
	}
	return s
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
