package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// moreRuns returns n extra flow runs cloned (round robin) from the demo's
// runs, each with its own id and name, so list sizes grow while flows,
// deployments and pools stay the same.
func moreRuns(demo *prefecttest.Data, n int) []map[string]any {
	base := demo.Objects(prefecttest.FlowRuns)
	out := make([]map[string]any, 0, n)
	for i := range n {
		run := maps.Clone(base[i%len(base)])
		run["id"] = prefecttest.DemoID("flow_run", fmt.Sprintf("bench-extra-%d", i))
		run["name"] = fmt.Sprintf("%s-x%d", run["name"], i)
		out = append(out, run)
	}
	return out
}

// argsFor picks sensible arguments for a tool from its input schema: only
// required properties are set (ids from the demo workspace, the first enum
// value), so every tool runs with its own defaults. ok is false when a
// required argument cannot be chosen.
func argsFor(tool *mcp.Tool, demo *prefecttest.Data) (map[string]any, bool) {
	var schema struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Enum []any `json:"enum"`
		} `json:"properties"`
	}
	raw, _ := json.Marshal(tool.InputSchema)
	_ = json.Unmarshal(raw, &schema)
	args := map[string]any{}
	for _, name := range schema.Required {
		switch {
		case len(schema.Properties[name].Enum) > 0:
			args[name] = schema.Properties[name].Enum[0]
		case name == "flow_run_id":
			args[name] = failedRunID(demo)
		case name == "query":
			args[name] = "etl" // a word in several demo flow and deployment names
		case strings.HasSuffix(name, "_id"):
			kind := strings.TrimSuffix(name, "_id") + "s"
			objs := demo.Objects(kind)
			if len(objs) == 0 {
				return args, false
			}
			args[name] = objs[0]["id"]
		default:
			return args, false
		}
	}
	return args, true
}

// failedRunID is the most recent FAILED top-level run of the demo workspace
// (the run a user would ask about), by id for a stable choice.
func failedRunID(demo *prefecttest.Data) string {
	var failed []map[string]any
	for _, r := range demo.Objects(prefecttest.FlowRuns) {
		if r["state_type"] == "FAILED" && r["parent_task_run_id"] == nil {
			failed = append(failed, r)
		}
	}
	if len(failed) == 0 {
		return ""
	}
	sort.SliceStable(failed, func(i, j int) bool {
		a, _ := failed[i]["start_time"].(string)
		c, _ := failed[j]["start_time"].(string)
		return a > c
	})
	id, _ := failed[0]["id"].(string)
	return id
}

// argsString renders arguments compactly for the tables.
func argsString(args map[string]any) string {
	if len(args) == 0 {
		return "{}"
	}
	keys := slices.Sorted(maps.Keys(args))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := fmt.Sprint(args[k])
		if len(v) == 36 && strings.Count(v, "-") == 4 {
			v = "<" + strings.TrimSuffix(k, "_id") + ">"
		}
		parts = append(parts, k+"="+v)
	}
	return "`" + strings.Join(parts, ", ") + "`"
}
