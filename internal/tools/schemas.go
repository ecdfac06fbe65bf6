package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
)

// Object types get_object_schema knows, mapped to their Prefect component.
var schemaObjects = map[string]string{"automation": "AutomationCreate"}

// actionLists are the AutomationCreate properties holding the action union;
// all three are narrowed together so $defs keeps only the chosen action.
var actionLists = []string{"actions", "actions_on_trigger", "actions_on_resolve"}

const componentRefPrefix = "#/components/schemas/"

type objectSchemaInput struct {
	ObjectType string `json:"object_type" jsonschema:"automation"`
	ActionType string `json:"action_type,omitempty" jsonschema:"narrow actions to one type, e.g. run-deployment, send-notification"`
}

func objectSchemaTool() Definition {
	return defineLocal(Definition{
		Name: ToolGetObjectSchema, Title: "Get object schema", Group: GroupAutomations,
		Summary: "The JSON schema for creating a Prefect automation, optionally narrowed to one action type, with trigger guidance.",
	}, `The JSON schema (from Prefect's OpenAPI) for creating an automation, optionally narrowed to one action type, with trigger guidance. For drafting: this server creates nothing.
Example: {"object_type":"automation","action_type":"run-deployment"}`,
		func(s *jsonschema.Schema) { s.Properties["object_type"].Enum = []any{"automation"} },
		func(_ context.Context, d *Deps, in objectSchemaInput) (*objectSchemaResult, error) {
			return getObjectSchema(d.Spec, in)
		})
}

type objectSchemaResult struct {
	ObjectType  string         `json:"object_type"`
	ActionType  string         `json:"action_type,omitempty"`
	Schema      map[string]any `json:"schema"`
	ActionTypes []string       `json:"valid_action_types"`
	Guidance    []string       `json:"trigger_guidance"`
	Note        string         `json:"note"`
}

// triggerGuidance condenses Prefect's trigger semantics into what a model
// needs to choose between reactive and proactive triggers.
var triggerGuidance = []string{
	`Reactive (posture "Reactive"): fires when at least threshold events matching expect are seen within "within" seconds (0 = fire on each event). Example: alert when a flow run fails: {"type":"event","posture":"Reactive","expect":["prefect.flow-run.Failed"],"match":{"prefect.resource.id":"prefect.flow-run.*"},"threshold":1,"within":0}.`,
	`Proactive (posture "Proactive"): fires when FEWER than threshold expected events arrive within "within" seconds (at least 10) after an "after" event or the start of the window, i.e. it detects absence: a run that did not complete, a heartbeat that stopped. Example: a run started but did not complete within 1h: {"type":"event","posture":"Proactive","after":["prefect.flow-run.Running"],"expect":["prefect.flow-run.Completed","prefect.flow-run.Failed","prefect.flow-run.Crashed"],"for_each":["prefect.resource.id"],"match":{"prefect.resource.id":"prefect.flow-run.*"},"threshold":1,"within":3600}.`,
	`for_each: counts events separately per distinct value of these resource labels (e.g. ["prefect.resource.id"] = per flow run; "related:deployment:prefect.resource.id" = per deployment). Without it all matching events share one count.`,
	`match: labels of the event's primary resource (trailing * wildcards allowed, e.g. {"prefect.resource.id":"prefect.flow-run.*"}). match_related: labels of related resources, e.g. {"prefect.resource.role":"deployment","prefect.resource.id":"prefect.deployment.<uuid>"} to limit to one deployment (or flow, work pool, tag).`,
	`Compound ("require": "any"|"all"|n) and sequence triggers combine event triggers within a window. Event names: prefect.flow-run.<StateName> (Completed, Failed, Crashed, Running, Late...), prefect.work-pool.not-ready, prefect.deployment.not-ready, prefect.work-queue.not-ready. ` + ToolReadEvents + ` shows real ones.`,
}

func getObjectSchema(spec *openapi.Spec, in objectSchemaInput) (*objectSchemaResult, error) {
	objectType := strings.ToLower(strings.TrimSpace(in.ObjectType))
	root, ok := schemaObjects[objectType]
	if !ok {
		return nil, badInput("object_type %q is not supported; valid object types: %s", clip(in.ObjectType, 60), strings.Join(schemaObjectTypes(), ", "))
	}
	s, err := buildObjectSchema(spec, root, strings.ToLower(strings.TrimSpace(in.ActionType)))
	if err != nil {
		return nil, err
	}
	return &objectSchemaResult{
		ObjectType:  objectType,
		ActionType:  s.actionType,
		Schema:      s.schema,
		ActionTypes: s.actionTypes,
		Guidance:    triggerGuidance,
		Note:        "Draft the object against this schema; the user creates it in the Prefect UI, CLI or API (this server is read-only). Fields with defaults may be omitted.",
	}, nil
}

func schemaObjectTypes() []string {
	out := make([]string, 0, len(schemaObjects))
	for k := range schemaObjects {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

type builtSchema struct {
	schema      map[string]any
	actionType  string
	actionTypes []string
}

// buildObjectSchema assembles a self-contained schema for a component:
// references rewritten to #/$defs/..., only reachable components kept,
// pydantic's generated titles dropped. It decodes about 20 components per
// call (well under a millisecond; see BenchmarkObjectSchema), so nothing is
// cached.
func buildObjectSchema(spec *openapi.Spec, root, actionType string) (*builtSchema, error) {
	components := map[string]map[string]any{}
	load := func(name string) (map[string]any, error) {
		if c, ok := components[name]; ok {
			return c, nil
		}
		raw, ok := spec.Component(name)
		if !ok {
			return nil, fmt.Errorf("internal error: Prefect's OpenAPI document lacks component %s", name)
		}
		var c map[string]any
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("internal error: component %s: %w", name, err)
		}
		components[name] = c
		return c, nil
	}
	top, err := load(root)
	if err != nil {
		return nil, err
	}
	out := &builtSchema{}
	if actions := actionUnion(top); actions != nil {
		byType := map[string]string{}
		for _, name := range actions {
			c, err := load(name)
			if err != nil {
				return nil, err
			}
			props, _ := c["properties"].(map[string]any)
			typ, _ := props["type"].(map[string]any)
			if v, ok := typ["const"].(string); ok {
				byType[v] = name
				out.actionTypes = append(out.actionTypes, v)
			}
		}
		if actionType != "" {
			name, ok := byType[actionType]
			if !ok {
				return nil, badInput("action_type %q is not a Prefect automation action; valid action types: %s", clip(actionType, 60), strings.Join(out.actionTypes, ", "))
			}
			narrowActions(top, name)
			out.actionType = actionType
		}
	} else if actionType != "" {
		return nil, badInput("action_type applies only to object_type automation")
	}

	defs := map[string]any{}
	var queue []string
	enqueue := func(name string) {
		if _, seen := defs[name]; !seen {
			defs[name] = nil
			queue = append(queue, name)
		}
	}
	schema := rewriteSchema(top, enqueue).(map[string]any)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		c, err := load(name)
		if err != nil {
			return nil, err
		}
		defs[name] = rewriteSchema(c, enqueue)
	}
	if len(defs) > 0 {
		schema["$defs"] = defs
	}
	schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	out.schema = schema
	return out, nil
}

// actionUnion returns the component names in AutomationCreate's actions
// union (actions.items.anyOf), or nil when the schema has none.
func actionUnion(top map[string]any) []string {
	props, _ := top["properties"].(map[string]any)
	actions, _ := props["actions"].(map[string]any)
	items, _ := actions["items"].(map[string]any)
	branches, _ := items["anyOf"].([]any)
	var names []string
	for _, b := range branches {
		m, _ := b.(map[string]any)
		if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, componentRefPrefix) {
			names = append(names, strings.TrimPrefix(ref, componentRefPrefix))
		}
	}
	return names
}

func narrowActions(top map[string]any, component string) {
	props, _ := top["properties"].(map[string]any)
	for _, list := range actionLists {
		if p, ok := props[list].(map[string]any); ok {
			p["items"] = map[string]any{"$ref": componentRefPrefix + component}
		}
	}
}

// rewriteSchema copies a schema node, pointing component references at
// $defs (reporting each to enqueue) and dropping "title" keywords, which
// pydantic derives from the property name and only cost space. Property
// maps are walked by name so a property called "title" survives.
func rewriteSchema(v any, enqueue func(string)) any {
	switch n := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(n))
		for k, child := range n {
			switch k {
			case "title":
				continue
			case "default", "const", "enum", "examples":
				out[k] = child // values, not schemas
				continue
			case "$ref":
				if ref, ok := child.(string); ok && strings.HasPrefix(ref, componentRefPrefix) {
					name := strings.TrimPrefix(ref, componentRefPrefix)
					enqueue(name)
					out[k] = "#/$defs/" + name
					continue
				}
			case "properties", "patternProperties", "$defs", "definitions":
				if props, ok := child.(map[string]any); ok {
					m := make(map[string]any, len(props))
					for name, p := range props {
						m[name] = rewriteSchema(p, enqueue)
					}
					out[k] = m
					continue
				}
			}
			out[k] = rewriteSchema(child, enqueue)
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, child := range n {
			out[i] = rewriteSchema(child, enqueue)
		}
		return out
	}
	return v
}
