package fakeprefect

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Collection names accepted by Put and Data.Add.
const (
	Flows               = "flows"
	FlowRuns            = "flow_runs"
	TaskRuns            = "task_runs"
	Logs                = "logs"
	FlowRunStates       = "flow_run_states"
	TaskRunStates       = "task_run_states"
	Deployments         = "deployments"
	WorkPools           = "work_pools"
	WorkQueues          = "work_queues"
	Workers             = "workers"
	ConcurrencyLimits   = "concurrency_limits"
	V2ConcurrencyLimits = "v2_concurrency_limits"
	Automations         = "automations"
	Events              = "events"
	Artifacts           = "artifacts"
	Variables           = "variables"
	BlockTypes          = "block_types"
	BlockDocuments      = "block_documents"
	RateLimitUsage      = "rate_limit_usage" // Prefect Cloud only
)

// CollectionNames lists every collection the fake stores, in a stable order.
var collectionNames = []string{
	Flows, FlowRuns, TaskRuns, Logs, FlowRunStates, TaskRunStates, Deployments,
	WorkPools, WorkQueues, Workers, ConcurrencyLimits, V2ConcurrencyLimits,
	Automations, Events, Artifacts, Variables, BlockTypes, BlockDocuments, RateLimitUsage,
}

// CollectionNames returns the names Put accepts.
func CollectionNames() []string { return slices.Clone(collectionNames) }

// Data is a set of Prefect objects, shaped exactly like the API's responses,
// grouped by collection. Objects are kept in insertion order; adding an object
// whose "id" is already present replaces it in place.
type Data struct {
	// AsOf is when the data was made; a fake serving it uses it as its clock
	// unless told otherwise (WithClock), so fixtures hold on any date.
	AsOf    time.Time
	objects map[string][]map[string]any
	index   map[string]map[string]int // collection -> id -> position
}

// NewData returns an empty data set.
func NewData() *Data {
	return &Data{objects: map[string][]map[string]any{}, index: map[string]map[string]int{}}
}

// Add stores deep copies of objs in collection; it panics on an unknown
// collection because that is always a programming error in a test or seed.
func (d *Data) Add(collection string, objs ...map[string]any) {
	if !slices.Contains(collectionNames, collection) {
		panic(fmt.Sprintf("fakeprefect: unknown collection %q (known: %v)", collection, collectionNames))
	}
	if d.index[collection] == nil {
		d.index[collection] = map[string]int{}
	}
	for _, obj := range objs {
		obj = deepCopy(obj)
		deriveFields(collection, obj)
		id, _ := obj["id"].(string)
		if pos, ok := d.index[collection][id]; ok && id != "" {
			d.objects[collection][pos] = obj
			continue
		}
		if id != "" {
			d.index[collection][id] = len(d.objects[collection])
		}
		d.objects[collection] = append(d.objects[collection], obj)
	}
}

// Objects returns deep copies of the objects of collection in insertion order.
func (d *Data) Objects(collection string) []map[string]any {
	out := make([]map[string]any, 0, len(d.objects[collection]))
	for _, obj := range d.objects[collection] {
		out = append(out, deepCopy(obj))
	}
	return out
}

// Find returns a deep copy of the object with the given id, or nil.
func (d *Data) Find(collection, id string) map[string]any {
	pos, ok := d.index[collection][id]
	if !ok {
		return nil
	}
	return deepCopy(d.objects[collection][pos])
}

// Len reports how many objects collection holds.
func (d *Data) Len(collection string) int { return len(d.objects[collection]) }

// clone returns an independent copy of d (objects are shared: they are never
// mutated once stored, Add replaces them).
func (d *Data) clone() *Data {
	c := NewData()
	c.AsOf = d.AsOf
	for name, objs := range d.objects {
		c.objects[name] = slices.Clone(objs)
	}
	for name, idx := range d.index {
		m := make(map[string]int, len(idx))
		for k, v := range idx {
			m[k] = v
		}
		c.index[name] = m
	}
	return c
}

// deriveFields keeps the denormalised fields Prefect computes in line with the
// embedded state, so a seed only has to set "state".
func deriveFields(collection string, obj map[string]any) {
	if collection != FlowRuns && collection != TaskRuns {
		return
	}
	state, ok := obj["state"].(map[string]any)
	if !ok {
		return
	}
	if v, ok := state["type"]; ok {
		obj["state_type"] = v
	}
	if v, ok := state["name"]; ok {
		obj["state_name"] = v
	}
	if v, ok := state["id"]; ok {
		obj["state_id"] = v
	}
}

// deepCopy copies a JSON-shaped value through encoding/json so stored
// objects never alias caller memory.
func deepCopy(obj map[string]any) map[string]any {
	raw, err := json.Marshal(obj)
	if err != nil {
		panic(fmt.Sprintf("fakeprefect: object is not JSON-encodable: %v", err))
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(fmt.Sprintf("fakeprefect: object does not round-trip through JSON: %v", err))
	}
	return out
}
