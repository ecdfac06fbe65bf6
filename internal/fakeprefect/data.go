package fakeprefect

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
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
	AsOf   time.Time
	tables map[string]*table
}

// table is one collection. Once shared by clone it is frozen: a write
// copies it first, so servers seeded from one Data share the big ones.
type table struct {
	recs   []record
	index  map[string]int // id -> position
	frozen atomic.Bool

	mu  sync.Mutex // guards idx, built by concurrent readers
	idx tableIndexes
}

// record is one stored object. get reads a top-level key without building
// the whole object (the large workspace keeps compact rows that make their
// object on demand); whole returns the object as the API answers it, which
// callers never mutate.
type record interface {
	get(key string) any
	whole() map[string]any
}

// timeFielder is a record that keeps some times unformatted.
type timeFielder interface {
	// timeField returns the time of key; handled is false for keys it does
	// not keep.
	timeField(key string) (t time.Time, ok, handled bool)
}

// timeOf reads a date-time field of a record.
func timeOf(r record, key string) (time.Time, bool) {
	if tf, ok := r.(timeFielder); ok {
		if t, ok, handled := tf.timeField(key); handled {
			return t, ok
		}
	}
	return parseTime(r.get(key))
}

// object is a record stored whole.
type object map[string]any

func (o object) get(key string) any    { return o[key] }
func (o object) whole() map[string]any { return o }

// NewData returns an empty data set.
func NewData() *Data { return &Data{tables: map[string]*table{}} }

// Add stores deep copies of objs in collection; it panics on an unknown
// collection because that is always a programming error in a test or seed.
func (d *Data) Add(collection string, objs ...map[string]any) {
	recs := make([]record, 0, len(objs))
	for _, obj := range objs {
		obj = deepCopy(obj)
		deriveFields(collection, obj)
		recs = append(recs, object(obj))
	}
	d.add(collection, recs...)
}

// add stores records as they are (the seeds' trusted path).
func (d *Data) add(collection string, recs ...record) {
	if !slices.Contains(collectionNames, collection) {
		panic(fmt.Sprintf("fakeprefect: unknown collection %q (known: %v)", collection, collectionNames))
	}
	t := d.tables[collection]
	switch {
	case t == nil:
		t = &table{index: map[string]int{}}
		d.tables[collection] = t
	case t.frozen.Load():
		t = &table{recs: slices.Clone(t.recs), index: maps.Clone(t.index)}
		d.tables[collection] = t
	}
	t.idx = tableIndexes{}
	for _, r := range recs {
		id, _ := r.get("id").(string)
		if pos, ok := t.index[id]; ok && id != "" {
			t.recs[pos] = r
			continue
		}
		if id != "" {
			t.index[id] = len(t.recs)
		}
		t.recs = append(t.recs, r)
	}
}

// all returns the records of collection (nil when it holds none).
func (d *Data) all(collection string) []record {
	if t := d.tables[collection]; t != nil {
		return t.recs
	}
	return nil
}

// find returns the record with the given id, or nil.
func (d *Data) find(collection, id string) record {
	t := d.tables[collection]
	if t == nil {
		return nil
	}
	if pos, ok := t.index[id]; ok {
		return t.recs[pos]
	}
	return nil
}

// Objects returns deep copies of the objects of collection in insertion order.
func (d *Data) Objects(collection string) []map[string]any {
	recs := d.all(collection)
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		out = append(out, deepCopy(r.whole()))
	}
	return out
}

// Find returns a deep copy of the object with the given id, or nil.
func (d *Data) Find(collection, id string) map[string]any {
	if r := d.find(collection, id); r != nil {
		return deepCopy(r.whole())
	}
	return nil
}

// Len reports how many objects collection holds.
func (d *Data) Len(collection string) int { return len(d.all(collection)) }

// clone returns a copy of d sharing its tables, which become copy-on-write.
func (d *Data) clone() *Data {
	c := NewData()
	c.AsOf = d.AsOf
	for name, t := range d.tables {
		t.frozen.Store(true)
		c.tables[name] = t
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
