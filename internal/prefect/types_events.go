package prefect

import (
	"encoding/json"
	"time"
)

// Response types for task runs and artifacts, modelled on responses captured
// from Prefect 3.8; Event, EventPage and Automation are in types_diagnosis.go.

// TaskRunDetail is a task run with the fields get_task_runs shows beyond
// TaskRun (types_diagnosis.go): cache key and expiration, and task_inputs.
type TaskRunDetail struct {
	TaskRun
	CacheKey        string     `json:"cache_key,omitempty"`
	CacheExpiration *time.Time `json:"cache_expiration,omitempty"`
	// TaskInputs maps each parameter name to the upstream inputs that fed it
	// (other task runs, flow-run parameters, constants): the run's
	// dependencies, not the parameter values.
	TaskInputs map[string][]TaskInput `json:"task_inputs,omitempty"`
}

// TaskInput is one upstream input of a task run: input_type "task_run" (ID
// set), "parameter" (Name set), "constant" (Type set) or "flow_run".
type TaskInput struct {
	InputType string `json:"input_type"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Type      string `json:"type,omitempty"`
}

// Artifact is a row of POST /artifacts/filter. On POST
// /artifacts/latest/filter (artifact collections) ID is the collection's id
// and LatestID the artifact's. Data is a string (markdown, link, image URL,
// JSON-encoded table), a number (progress) or an object (result).
type Artifact struct {
	ID          string          `json:"id"`
	LatestID    string          `json:"latest_id,omitempty"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
	Key         string          `json:"key,omitempty"`
	Type        string          `json:"type,omitempty"`
	Description string          `json:"description,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	FlowRunID   string          `json:"flow_run_id,omitempty"`
	TaskRunID   string          `json:"task_run_id,omitempty"`
}
