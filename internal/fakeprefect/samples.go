package fakeprefect

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// SampleRequest is one entry of samples/_index.json: the request that
// produced a captured response file.
type SampleRequest struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
	Status int             `json:"status"`
	Count  *int            `json:"count"`
}

// sampleCollections maps a captured file name prefix to the collection its
// objects belong to (longest prefix wins).
func sampleCollections() map[string]string {
	return map[string]string{
		"flows_filter":                 Flows,
		"flow_runs_filter":             FlowRuns,
		"flow_run_by_id":               FlowRuns,
		"flow_run_states":              FlowRunStates,
		"task_runs_filter":             TaskRuns,
		"logs_filter":                  Logs,
		"deployments_filter":           Deployments,
		"work_pools_filter":            WorkPools,
		"work_pool_by_name":            WorkPools,
		"auth_4201_work_pools_filter":  WorkPools,
		"work_pool_queues_filter":      WorkQueues,
		"work_queues_filter":           WorkQueues,
		"work_pool_workers_filter":     Workers,
		"automations_filter":           Automations,
		"events_filter":                Events,
		"concurrency_limits_filter":    ConcurrencyLimits,
		"v2_concurrency_limits_filter": V2ConcurrencyLimits,
		"variables_filter":             Variables,
		"artifacts_filter":             Artifacts,
		"block_documents_filter":       BlockDocuments,
	}
}

// SampleCollection names the collection of a captured sample (by its name
// without ".json"), or "" when the file holds no stored objects.
func SampleCollection(name string) string {
	best := ""
	for prefix := range sampleCollections() {
		if strings.HasPrefix(name, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	return sampleCollections()[best]
}

// LoadSampleIndex reads _index.json from dir.
func LoadSampleIndex(dir fs.FS) (map[string]SampleRequest, error) {
	raw, err := fs.ReadFile(dir, "_index.json")
	if err != nil {
		return nil, err
	}
	var index map[string]SampleRequest
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("fakeprefect: _index.json: %w", err)
	}
	return index, nil
}

// LoadSamples loads the objects of the captures listed in dir's _index.json
// (one consistent capture of a real server), skipping listed files that are
// absent. Objects appearing in several files are stored once, the first
// file (in name order) winning.
func LoadSamples(dir fs.FS) (*Data, error) {
	index, err := LoadSampleIndex(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(index))
	for name := range index {
		names = append(names, name)
	}
	sort.Strings(names)
	data := NewData()
	for _, name := range names {
		collection := SampleCollection(name)
		if collection == "" {
			continue
		}
		objs, err := readSampleObjects(dir, name+".json")
		if err != nil {
			if _, statErr := fs.Stat(dir, name+".json"); statErr != nil {
				continue
			}
			return nil, err
		}
		for _, obj := range objs {
			if id := str(obj, "id"); id != "" && data.Find(collection, id) != nil {
				continue
			}
			data.Add(collection, obj)
		}
	}
	return data, nil
}

// readSampleObjects decodes a sample holding an object, a list of objects or
// an EventPage.
func readSampleObjects(dir fs.FS, file string) ([]map[string]any, error) {
	raw, err := fs.ReadFile(dir, file)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("fakeprefect: %s: %w", file, err)
	}
	switch x := v.(type) {
	case map[string]any:
		if events, ok := x["events"].([]any); ok {
			return objectList(events), nil
		}
		return []map[string]any{x}, nil
	case []any:
		return objectList(x), nil
	}
	return nil, nil
}

func objectList(list []any) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
