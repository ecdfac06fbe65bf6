package tools_test

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// refsIn collects every $ref value in a decoded schema.
func schemaRefs(v any, into map[string]bool) {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			if s, ok := c.(string); ok && k == "$ref" {
				into[s] = true
			}
			schemaRefs(c, into)
		}
	case []any:
		for _, c := range n {
			schemaRefs(c, into)
		}
	}
}

func schemaDefNames(t *testing.T, schema map[string]any) []string {
	t.Helper()
	defs, _ := schema["$defs"].(map[string]any)
	var names []string
	for k := range defs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// compile checks the schema is self-contained: every reference resolves.
func schemaCompile(t *testing.T, schema map[string]any) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///automation.json", schema); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///automation.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return s
}

func schemaDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGetObjectSchemaAutomation(t *testing.T) {
	e := newEnv(t)
	triggers := []string{"CompoundTrigger-Input", "EventTrigger", "ResourceSpecification", "SequenceTrigger-Input"}
	tests := []struct {
		action   string
		wantDefs []string // besides the trigger components
		maxBytes int
	}{
		{"", []string{"CallWebhook", "CancelFlowRun", "ChangeFlowRunState", "DeleteFlowRun", "DoNothing", "PauseAutomation",
			"PauseDeployment", "PauseWorkPool", "PauseWorkQueue", "ResumeAutomation", "ResumeDeployment", "ResumeFlowRun",
			"ResumeWorkPool", "ResumeWorkQueue", "RunDeployment", "SendNotification", "StateType", "SuspendFlowRun"}, 20 << 10},
		{"run-deployment", []string{"RunDeployment"}, 10 << 10},
		{"Pause-Deployment", []string{"PauseDeployment"}, 10 << 10},
		{"change-flow-run-state", []string{"ChangeFlowRunState", "StateType"}, 10 << 10},
		{"send-notification", []string{"SendNotification"}, 10 << 10},
	}
	for _, tt := range tests {
		t.Run("action="+tt.action, func(t *testing.T) {
			text, isErr := e.call(t, "get_object_schema", map[string]any{"object_type": "automation", "action_type": tt.action})
			if isErr {
				t.Fatal(text)
			}
			t.Logf("get_object_schema(automation, %q): %d bytes", tt.action, len(text))
			if len(text) > tt.maxBytes {
				t.Errorf("result is %d bytes, budget %d", len(text), tt.maxBytes)
			}
			if strings.Contains(text, "#/components/") {
				t.Error("a reference still points into the OpenAPI document")
			}
			var out map[string]any
			if err := json.Unmarshal([]byte(text), &out); err != nil {
				t.Fatal(err)
			}
			schema := out["schema"].(map[string]any)
			want := append(slices.Clone(triggers), tt.wantDefs...)
			sort.Strings(want)
			if got := schemaDefNames(t, schema); !slices.Equal(got, want) {
				t.Errorf("$defs = %v\nwant     %v", got, want)
			}
			// Every def is referenced and every reference has a def.
			refs := map[string]bool{}
			schemaRefs(schema, refs)
			for _, name := range want {
				if !refs["#/$defs/"+name] {
					t.Errorf("$defs.%s is not referenced", name)
				}
			}
			for ref := range refs {
				if !slices.Contains(want, strings.TrimPrefix(ref, "#/$defs/")) {
					t.Errorf("reference %s has no $def", ref)
				}
			}
			if req := schema["required"].([]any); !slices.Equal(req, []any{"name", "trigger", "actions"}) {
				t.Errorf("required = %v", req)
			}
			types := out["valid_action_types"].([]any)
			if len(types) != 17 || !slices.Contains(types, any("run-deployment")) || !slices.Contains(types, any("cancel-flow-run")) || !slices.Contains(types, any("pause-work-pool")) {
				t.Errorf("valid_action_types = %v", types)
			}
			guidance, _ := json.Marshal(out["trigger_guidance"])
			for _, word := range []string{"Reactive", "Proactive", "threshold", "within", "for_each", "match_related"} {
				if !strings.Contains(string(guidance), word) {
					t.Errorf("guidance does not explain %s", word)
				}
			}

			// The schema is usable as is: it compiles and judges drafts.
			s := schemaCompile(t, schema)
			good := `{"name":"rerun on failure","trigger":{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Failed"],"threshold":1,"within":0},
				"actions":[{"type":"run-deployment","source":"selected","deployment_id":"0b5c8c9e-1a64-4ae9-9d55-1f3a0e2c6d11"}]}`
			err := s.Validate(schemaDecode(t, good))
			switch tt.action {
			case "", "run-deployment":
				if err != nil {
					t.Errorf("a valid run-deployment automation is rejected: %v", err)
				}
			default:
				if err == nil {
					t.Errorf("narrowed to %s, a run-deployment action is accepted", tt.action)
				}
			}
			if err := s.Validate(schemaDecode(t, `{"name":"x","trigger":{"type":"event"},"actions":[]}`)); err == nil {
				t.Error("an event trigger without posture is accepted")
			}
		})
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("made %d upstream requests, want none", n)
	}
}

func TestGetObjectSchemaBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"object_type": "deployment"}, []string{"object_type", "automation"}},
		{map[string]any{"object_type": "automation", "action_type": "delete-everything"}, []string{`"delete-everything"`, "run-deployment", "pause-deployment", "send-notification", "cancel-flow-run"}},
		{map[string]any{}, []string{"object_type"}},
	}
	for _, tt := range tests {
		msg := e.fail(t, "get_object_schema", tt.args)
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: error %q does not mention %s", tt.args, msg, w)
			}
		}
	}
}

// Schemas come from the embedded document: no Prefect is needed.
func TestGetObjectSchemaWithoutPrefect(t *testing.T) {
	deps := &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: clockNow}
	e := connect(t, nil, deps, tools.Selection{})
	out := e.ok(t, "get_object_schema", map[string]any{"object_type": "automation", "action_type": "cancel-flow-run"})
	if out["action_type"] != "cancel-flow-run" {
		t.Errorf("action_type = %v", out["action_type"])
	}
}
