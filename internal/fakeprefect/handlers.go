package fakeprefect

import (
	"maps"
	"net/http"
	"strings"
	"time"
)

// routeTable maps OpenAPI routes ("METHOD /template") to the fake's handlers.
func (s *Server) routeTable() map[string]handlerFunc {
	routes := map[string]handlerFunc{
		"GET /health":        constant(true),
		"GET /ready":         constant(map[string]any{"message": "OK"}),
		"GET /version":       constant("0.8.4"),
		"GET /admin/version": constant("3.8.4.dev6"),
		"GET /hello":         constant("👋"),

		"GET /flows/{id}":                                     byID(Flows, "id", "Flow not found"),
		"GET /flows/name/{name}":                              byField(Flows, "name", "name", "Flow not found"),
		"GET /flow_runs/{id}":                                 byID(FlowRuns, "id", "Flow run not found"),
		"GET /task_runs/{id}":                                 byID(TaskRuns, "id", "Task not found"),
		"GET /deployments/{id}":                               byID(Deployments, "id", "Deployment not found"),
		"GET /work_queues/{id}":                               byID(WorkQueues, "id", "Work queue not found."),
		"GET /automations/{id}":                               byID(Automations, "id", "Automation not found"),
		"GET /variables/{id}":                                 byID(Variables, "id", "Variable not found."),
		"GET /artifacts/{id}":                                 byID(Artifacts, "id", "Artifact not found."),
		"GET /block_types/{id}":                               byID(BlockTypes, "id", "Block type not found"),
		"GET /concurrency_limits/{id}":                        byID(ConcurrencyLimits, "id", "Concurrency limit not found"),
		"GET /concurrency_limits/tag/{tag}":                   byField(ConcurrencyLimits, "tag", "tag", "Concurrency limit not found"),
		"GET /variables/name/{name}":                          byField(Variables, "name", "name", "Variable not found."),
		"GET /work_queues/name/{name}":                        byField(WorkQueues, "name", "name", "Work queue not found."),
		"GET /block_types/slug/{slug}":                        byField(BlockTypes, "slug", "slug", "Block type not found"),
		"GET /flow_run_states/{id}":                           byID(FlowRunStates, "id", "Flow run state not found"),
		"GET /task_run_states/{id}":                           byID(TaskRunStates, "id", "Flow run state not found"),
		"GET /flow_run_states/":                               runStates(FlowRunStates, FlowRuns, "flow_run_id"),
		"GET /task_run_states/":                               runStates(TaskRunStates, TaskRuns, "task_run_id"),
		"GET /work_pools/{name}":                              getWorkPool,
		"GET /work_pools/{work_pool_name}/queues/{name}":      getPoolQueue,
		"GET /work_queues/{id}/status":                        getWorkQueueStatus,
		"GET /deployments/name/{flow_name}/{deployment_name}": getDeploymentByName,
		"GET /deployments/{id}/schedules":                     getDeploymentSchedules,
		"GET /v2/concurrency_limits/{id_or_name}":             getV2Limit,
		"GET /automations/related-to/{resource_id}":           getAutomationsRelatedTo,
		"GET /artifacts/{key}/latest":                         getLatestArtifact,
		"POST /automations/count":                             func(c *call) (any, error) { return len(c.v.all(Automations)), nil },
		"POST /flow_runs/history":                             s.flowRunHistory,
		"POST /events/filter":                                 s.readEvents,
		"GET /events/filter/next":                             s.readEventsNextPage,
		"POST /events/count-by/{countable}":                   s.countEvents,
	}
	for route, q := range s.queries {
		if strings.HasSuffix(route, "/count") {
			routes[route] = countHandler(q)
		} else {
			routes[route] = filterHandler(q)
		}
	}
	return routes
}

func constant(v any) handlerFunc { return func(*call) (any, error) { return v, nil } }

// pageBounds reads Prefect's LimitBody `limit` and `offset`.
func pageBounds(c *call) (limit, offset int, err error) {
	limit, offset = defaultLimit, 0
	if v, ok := c.body["limit"].(float64); ok {
		limit = int(v)
		if limit < 0 {
			return 0, 0, detailError(http.StatusUnprocessableEntity, "Invalid limit: must be greater than or equal to 0.")
		}
		if limit > defaultLimit {
			return 0, 0, detailError(http.StatusUnprocessableEntity, "Invalid limit: must be less than or equal to 200.")
		}
	}
	if v, ok := c.body["offset"].(float64); ok {
		offset = int(v)
	}
	return limit, offset, nil
}

func filterHandler(q query) handlerFunc {
	return func(c *call) (any, error) {
		limit, offset, err := pageBounds(c)
		if err != nil {
			return nil, err
		}
		rows, err := q.run(c)
		if err != nil {
			return nil, err
		}
		if offset >= len(rows) {
			return []map[string]any{}, nil
		}
		rows = rows[offset:]
		if len(rows) > limit {
			rows = rows[:limit]
		}
		return withActiveSlots(c.v, q.collection, wholes(rows)), nil
	}
}

func countHandler(q query) handlerFunc {
	return func(c *call) (any, error) {
		rows, err := q.match(c, false)
		if err != nil {
			return nil, err
		}
		return len(rows), nil
	}
}

// uuidParam validates a UUID path or query parameter as FastAPI would.
func uuidParam(c *call, where, name, value string) error {
	if isUUID(value) {
		return nil
	}
	return unprocessable(nil, fieldError{
		typ: "uuid_parsing", loc: []any{where, name}, input: value,
		msg: "Input should be a valid UUID, invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `" + firstNonHex(value) + "` at 1",
	})
}

func firstNonHex(s string) string {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF-", r) {
			return string(r)
		}
	}
	return ""
}

func byID(collection, param, notFound string) handlerFunc {
	return func(c *call) (any, error) {
		id := c.params[param]
		if err := uuidParam(c, "path", param, id); err != nil {
			return nil, err
		}
		if obj := c.v.find(collection, id); obj != nil {
			return withActiveSlots(c.v, collection, []map[string]any{obj.whole()})[0], nil
		}
		return nil, detailError(http.StatusNotFound, notFound)
	}
}

func byField(collection, param, key, notFound string) handlerFunc {
	return func(c *call) (any, error) {
		if obj := c.v.findBy(collection, key, c.params[param]); obj != nil {
			return withActiveSlots(c.v, collection, []map[string]any{obj.whole()})[0], nil
		}
		return nil, detailError(http.StatusNotFound, notFound)
	}
}

// runStates serves GET /flow_run_states/?flow_run_id= (and the task run
// twin): stored states by timestamp, or the run's current state when no
// history was seeded.
func runStates(states, runs, param string) handlerFunc {
	return func(c *call) (any, error) {
		id := c.query.Get(param)
		if id == "" {
			return nil, unprocessable(nil, fieldError{typ: "missing", loc: []any{"query", param}, msg: "Field required"})
		}
		if err := uuidParam(c, "query", param, id); err != nil {
			return nil, err
		}
		var out []record
		for _, st := range c.v.all(states) {
			if sameValue(lookup(st.get("state_details"), param), id) {
				out = append(out, st)
			}
		}
		if len(out) == 0 {
			if run := c.v.find(runs, id); run != nil {
				if st, ok := run.get("state").(map[string]any); ok {
					out = append(out, object(st))
				}
			}
		}
		sortRows(c.v, out, []sortKey{asc("timestamp")})
		return wholes(out), nil
	}
}

func getWorkPool(c *call) (any, error) {
	if pool := c.v.findBy(WorkPools, "name", c.params["name"]); pool != nil {
		return withActiveSlots(c.v, WorkPools, []map[string]any{pool.whole()})[0], nil
	}
	return nil, detailError(http.StatusNotFound, `Work pool "`+c.params["name"]+`" not found.`)
}

func getPoolQueue(c *call) (any, error) {
	pool := c.v.findBy(WorkPools, "name", c.params["work_pool_name"])
	if pool == nil {
		return nil, detailError(http.StatusNotFound, `Work pool "`+c.params["work_pool_name"]+`" not found.`)
	}
	for _, q := range c.v.all(WorkQueues) {
		if sameValue(q.get("work_pool_id"), pool.get("id")) && str(q, "name") == c.params["name"] {
			return withActiveSlots(c.v, WorkQueues, []map[string]any{q.whole()})[0], nil
		}
	}
	return nil, detailError(http.StatusNotFound, "Work queue not found.")
}

// getWorkQueueStatus mirrors Prefect's default health policy: healthy when
// no run is Late and the queue was polled in the last 60 seconds.
func getWorkQueueStatus(c *call) (any, error) {
	id := c.params["id"]
	if err := uuidParam(c, "path", "id", id); err != nil {
		return nil, err
	}
	q := c.v.find(WorkQueues, id)
	if q == nil {
		return nil, detailError(http.StatusNotFound, "Work queue not found.")
	}
	late := 0
	for _, fr := range c.v.all(FlowRuns) {
		if sameValue(fr.get("work_queue_id"), q.get("id")) && fr.get("state_name") == "Late" {
			late++
		}
	}
	const maxSilence = 60
	healthy := late == 0
	if polled, ok := parseTime(q.get("last_polled")); ok {
		healthy = healthy && c.v.now.Sub(polled) <= maxSilence*time.Second
	} else {
		healthy = false
	}
	return map[string]any{
		"healthy":         healthy,
		"late_runs_count": late,
		"last_polled":     q.get("last_polled"),
		"health_check_policy": map[string]any{
			"maximum_late_runs":                 0,
			"maximum_seconds_since_last_polled": maxSilence,
		},
	}, nil
}

func getDeploymentByName(c *call) (any, error) {
	flow := c.v.findBy(Flows, "name", c.params["flow_name"])
	if flow != nil {
		for _, d := range c.v.all(Deployments) {
			if sameValue(d.get("flow_id"), flow.get("id")) && str(d, "name") == c.params["deployment_name"] {
				return d.whole(), nil
			}
		}
	}
	return nil, detailError(http.StatusNotFound, "Deployment not found")
}

func getDeploymentSchedules(c *call) (any, error) {
	d, err := byID(Deployments, "id", "Deployment not found")(c)
	if err != nil {
		return nil, err
	}
	if schedules, ok := d.(map[string]any)["schedules"].([]any); ok {
		return schedules, nil
	}
	return []any{}, nil
}

func getV2Limit(c *call) (any, error) {
	key := c.params["id_or_name"]
	if isUUID(key) {
		if obj := c.v.find(V2ConcurrencyLimits, key); obj != nil {
			return obj.whole(), nil
		}
	} else if obj := c.v.findBy(V2ConcurrencyLimits, "name", key); obj != nil {
		return obj.whole(), nil
	}
	return nil, detailError(http.StatusNotFound, "Concurrency Limit not found")
}

// getAutomationsRelatedTo approximates Prefect's automation_related_resources
// table: an automation relates to a resource it owns, targets in an action
// (e.g. deployment_id) or names in its trigger.
func getAutomationsRelatedTo(c *call) (any, error) {
	resource := c.params["resource_id"]
	_, objectID, _ := cutLast(resource, ".")
	out := []map[string]any{}
	for _, a := range c.v.all(Automations) {
		if str(a, "owner_resource") == resource || mentions(a.get("actions"), objectID) ||
			mentions(a.get("trigger"), resource) {
			out = append(out, a.whole())
		}
	}
	return out, nil
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// mentions reports whether any string inside v equals want.
func mentions(v any, want string) bool {
	if want == "" {
		return false
	}
	switch x := v.(type) {
	case string:
		return sameValue(x, want)
	case []any:
		for _, e := range x {
			if mentions(e, want) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if mentions(e, want) {
				return true
			}
		}
	}
	return false
}

func getLatestArtifact(c *call) (any, error) {
	var latest record
	for _, a := range c.v.all(Artifacts) {
		if str(a, "key") == c.params["key"] && (latest == nil || compareValues(a.get("created"), latest.get("created")) >= 0) {
			latest = a
		}
	}
	if latest == nil {
		return nil, detailError(http.StatusNotFound, "Artifact not found.")
	}
	return latest.whole(), nil
}

// flowRunHistory buckets matching flow runs by expected start time into
// intervals, counting runs per state (a best-effort version of Prefect's
// run_history query).
func (s *Server) flowRunHistory(c *call) (any, error) {
	start, ok1 := parseTime(c.body["history_start"])
	end, ok2 := parseTime(c.body["history_end"])
	step, ok3 := c.body["history_interval_seconds"].(float64)
	if !ok1 || !ok2 || !ok3 {
		return nil, unsupported("flow_runs/history without history_start, history_end and history_interval_seconds")
	}
	if step < 1 {
		return nil, detailError(http.StatusUnprocessableEntity, "History interval must not be less than 1 second.")
	}
	q := s.queries["POST /flow_runs/filter"]
	inner := *c
	inner.body = map[string]any{}
	for k, v := range c.body {
		switch k {
		case "history_start", "history_end", "history_interval_seconds":
		case "work_queues":
			inner.body["work_pool_queues"] = v
		default:
			inner.body[k] = v
		}
	}
	runs, err := q.run(&inner)
	if err != nil {
		return nil, err
	}
	interval := time.Duration(step * float64(time.Second))
	type key struct{ typ, name string }
	type bucket struct {
		counts map[key]int
		order  []key // states in order of first appearance
	}
	var buckets []bucket
	for t := start; t.Before(end); t = t.Add(interval) {
		buckets = append(buckets, bucket{counts: map[key]int{}})
	}
	for _, fr := range runs {
		at, ok := timeOf(fr, "expected_start_time")
		if !ok || at.Before(start) || !at.Before(end) {
			continue
		}
		i := int(at.Sub(start) / interval)
		if i >= len(buckets) {
			continue
		}
		b := &buckets[i]
		k := key{str(fr, "state_type"), str(fr, "state_name")}
		if b.counts[k] == 0 {
			b.order = append(b.order, k)
		}
		b.counts[k]++
	}
	var out []map[string]any
	for i, b := range buckets {
		t := start.Add(time.Duration(i) * interval)
		states := []map[string]any{}
		for _, k := range b.order {
			states = append(states, map[string]any{
				"state_type": k.typ, "state_name": k.name, "count_runs": b.counts[k],
				"sum_estimated_run_time": 0.0, "sum_estimated_lateness": 0.0,
			})
		}
		out = append(out, map[string]any{
			"interval_start": t.UTC().Format(time.RFC3339Nano),
			"interval_end":   t.Add(interval).UTC().Format(time.RFC3339Nano),
			"states":         states,
		})
	}
	return out, nil
}

// slotStates are the flow-run states that occupy pool and queue slots
// (Prefect's SLOT_OCCUPYING_STATES in server/models/workers.py).
var slotStates = []any{"PENDING", "RUNNING"}

// withActiveSlots returns pool or queue objects as Prefect answers them:
// active_slots is counted on read, for those with a concurrency limit only
// (Pending and Running flow runs in the queue, or in the pool's queues;
// server/api/workers.py read_work_pools, server/api/work_queues.py
// read_work_queues), and null for the others.
func withActiveSlots(v *view, collection string, objs []map[string]any) []map[string]any {
	if collection != WorkPools && collection != WorkQueues {
		return objs
	}
	var byQueue map[string]int
	out := make([]map[string]any, len(objs))
	for i, obj := range objs {
		o := maps.Clone(obj)
		o["active_slots"] = nil
		if obj["concurrency_limit"] != nil {
			if byQueue == nil {
				byQueue = activeSlotsByQueue(v)
			}
			n := 0
			if collection == WorkQueues {
				n = byQueue[normalizeKey(str(obj, "id"))]
			} else {
				for _, q := range v.all(WorkQueues) {
					if sameValue(q.get("work_pool_id"), obj["id"]) {
						n += byQueue[normalizeKey(str(q, "id"))]
					}
				}
			}
			o["active_slots"] = n
		}
		out[i] = o
	}
	return out
}

// activeSlotsByQueue counts Pending and Running flow runs per work queue id.
func activeSlotsByQueue(v *view) map[string]int {
	out := map[string]int{}
	filter := map[string]any{"state": map[string]any{"type": map[string]any{"any_": slotStates}}}
	for _, r := range v.candidates(FlowRuns, flowRunTable(), filter) {
		if st := str(r, "state_type"); st == "PENDING" || st == "RUNNING" {
			out[normalizeKey(str(r, "work_queue_id"))]++
		}
	}
	return out
}
