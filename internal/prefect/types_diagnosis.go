package prefect

import "time"

// Response types the diagnosis tools need (task runs, events, automations),
// modelled on responses captured from Prefect 3.8.

// TaskRun is a row of POST /task_runs/filter or GET /task_runs/{id}.
type TaskRun struct {
	ID                string              `json:"id"`
	Created           time.Time           `json:"created"`
	Updated           time.Time           `json:"updated"`
	Name              string              `json:"name"`
	FlowRunID         string              `json:"flow_run_id,omitempty"`
	TaskKey           string              `json:"task_key,omitempty"`
	DynamicKey        string              `json:"dynamic_key,omitempty"`
	Tags              []string            `json:"tags,omitempty"`
	StateType         string              `json:"state_type,omitempty"`
	StateName         string              `json:"state_name,omitempty"`
	State             *State              `json:"state,omitempty"`
	RunCount          int                 `json:"run_count"`
	FlowRunRunCount   int                 `json:"flow_run_run_count"`
	EmpiricalPolicy   TaskEmpiricalPolicy `json:"empirical_policy"`
	ExpectedStartTime *time.Time          `json:"expected_start_time,omitempty"`
	StartTime         *time.Time          `json:"start_time,omitempty"`
	EndTime           *time.Time          `json:"end_time,omitempty"`
	TotalRunTime      float64             `json:"total_run_time"` // seconds
}

// TaskEmpiricalPolicy is a task run's retry policy.
type TaskEmpiricalPolicy struct {
	Retries    *int `json:"retries,omitempty"`
	MaxRetries int  `json:"max_retries"`
}

// Event is one Prefect event (POST /events/filter). Resource and related
// resources are label maps whose "prefect.resource.id" names the object.
type Event struct {
	ID       string              `json:"id"`
	Occurred time.Time           `json:"occurred"`
	Received *time.Time          `json:"received,omitempty"`
	Event    string              `json:"event"`
	Resource map[string]string   `json:"resource"`
	Related  []map[string]string `json:"related,omitempty"`
	Payload  map[string]any      `json:"payload,omitempty"`
	Follows  string              `json:"follows,omitempty"`
}

// EventPage is the answer of POST /events/filter and GET /events/filter/next;
// NextPage is an absolute URL, or empty on the last page.
type EventPage struct {
	Events   []Event `json:"events"`
	Total    int     `json:"total"`
	NextPage string  `json:"next_page,omitempty"`
}

// Automation is a row of POST /automations/filter or GET /automations/{id}.
// Trigger and actions are kept as sent: their shape depends on their type.
type Automation struct {
	ID               string           `json:"id"`
	Created          time.Time        `json:"created"`
	Updated          time.Time        `json:"updated"`
	Name             string           `json:"name"`
	Description      string           `json:"description,omitempty"`
	Enabled          bool             `json:"enabled"`
	Tags             []string         `json:"tags,omitempty"`
	Trigger          map[string]any   `json:"trigger"`
	Actions          []map[string]any `json:"actions,omitempty"`
	ActionsOnTrigger []map[string]any `json:"actions_on_trigger,omitempty"`
	ActionsOnResolve []map[string]any `json:"actions_on_resolve,omitempty"`
}

// EventCount is a row of POST /events/count-by/{countable}: Value is the
// counted key (an event name or a resource id), StartTime and EndTime the
// first and last occurrence in the bucket.
type EventCount struct {
	Value     string    `json:"value"`
	Label     string    `json:"label"`
	Count     int       `json:"count"`
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
}
