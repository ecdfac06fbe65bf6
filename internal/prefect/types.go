package prefect

import (
	"encoding/json"
	"strings"
	"time"
)

// Response types for the first tools, modelled on responses captured from
// Prefect 3.8. Nullable strings decode to "", nullable times and numbers to
// nil pointers; fields the tools do not need are left out. GET /version and
// GET /admin/version answer a bare JSON string: decode them into a string.

// Flow is a row of POST /flows/filter or GET /flows/{id}.
type Flow struct {
	ID      string         `json:"id"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
	Name    string         `json:"name"`
	Tags    []string       `json:"tags,omitempty"`
	Labels  map[string]any `json:"labels,omitempty"`
}

// FlowRun is a row of POST /flow_runs/filter or GET /flow_runs/{id}.
type FlowRun struct {
	ID                string    `json:"id"`
	Created           time.Time `json:"created"`
	Updated           time.Time `json:"updated"`
	Name              string    `json:"name"`
	FlowID            string    `json:"flow_id"`
	FlowVersion       string    `json:"flow_version,omitempty"`
	DeploymentID      string    `json:"deployment_id,omitempty"`
	DeploymentVersion string    `json:"deployment_version,omitempty"`
	WorkQueueID       string    `json:"work_queue_id,omitempty"`
	WorkQueueName     string    `json:"work_queue_name,omitempty"`
	WorkPoolID        string    `json:"work_pool_id,omitempty"`
	WorkPoolName      string    `json:"work_pool_name,omitempty"`
	StateID           string    `json:"state_id,omitempty"`
	StateType         string    `json:"state_type,omitempty"`
	StateName         string    `json:"state_name,omitempty"`
	State             *State    `json:"state,omitempty"`
	// Parameters and Labels stay raw: list views never read them, and
	// decoding them into maps was most of a run's allocations.
	Parameters              json.RawMessage `json:"parameters,omitempty"`
	Tags                    []string        `json:"tags,omitempty"`
	Labels                  json.RawMessage `json:"labels,omitempty"`
	RunCount                int             `json:"run_count"`
	ExpectedStartTime       *time.Time      `json:"expected_start_time,omitempty"`
	NextScheduledStartTime  *time.Time      `json:"next_scheduled_start_time,omitempty"`
	StartTime               *time.Time      `json:"start_time,omitempty"`
	EndTime                 *time.Time      `json:"end_time,omitempty"`
	TotalRunTime            float64         `json:"total_run_time"`     // seconds
	EstimatedRunTime        float64         `json:"estimated_run_time"` // seconds
	EstimatedStartTimeDelta float64         `json:"estimated_start_time_delta"`
	AutoScheduled           bool            `json:"auto_scheduled"`
	ParentTaskRunID         string          `json:"parent_task_run_id,omitempty"`
	InfrastructurePID       string          `json:"infrastructure_pid,omitempty"`
	IdempotencyKey          string          `json:"idempotency_key,omitempty"`
	EmpiricalPolicy         EmpiricalPolicy `json:"empirical_policy"`
	CreatedBy               *CreatedBy      `json:"created_by,omitempty"`
}

// State is a flow or task run state; also a row of GET /flow_run_states/.
type State struct {
	ID           string       `json:"id,omitempty"`
	Type         string       `json:"type"` // SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED, CANCELLING
	Name         string       `json:"name,omitempty"`
	Timestamp    time.Time    `json:"timestamp"`
	Message      string       `json:"message,omitempty"`
	StateDetails StateDetails `json:"state_details"`
}

// StateDetails carries the links and scheduling facts of a state.
type StateDetails struct {
	FlowRunID                    string     `json:"flow_run_id,omitempty"`
	TaskRunID                    string     `json:"task_run_id,omitempty"`
	ChildFlowRunID               string     `json:"child_flow_run_id,omitempty"` // set on a subflow's tracking task run
	ScheduledTime                *time.Time `json:"scheduled_time,omitempty"`
	CacheKey                     string     `json:"cache_key,omitempty"`
	CacheExpiration              *time.Time `json:"cache_expiration,omitempty"`
	Deferred                     bool       `json:"deferred,omitempty"`
	UntrackableResult            bool       `json:"untrackable_result,omitempty"`
	PauseTimeout                 *time.Time `json:"pause_timeout,omitempty"`
	PauseReschedule              bool       `json:"pause_reschedule,omitempty"`
	PauseKey                     string     `json:"pause_key,omitempty"`
	RefreshCache                 *bool      `json:"refresh_cache,omitempty"`
	Retriable                    *bool      `json:"retriable,omitempty"`
	TransitionID                 string     `json:"transition_id,omitempty"`
	DeploymentConcurrencyLeaseID string     `json:"deployment_concurrency_lease_id,omitempty"`
}

// EmpiricalPolicy is a flow run's retry policy as the server applies it.
type EmpiricalPolicy struct {
	MaxRetries        int      `json:"max_retries"`
	RetryDelaySeconds float64  `json:"retry_delay_seconds"`
	Retries           *int     `json:"retries,omitempty"`
	RetryDelay        *float64 `json:"retry_delay,omitempty"` // seconds
	PauseKeys         []string `json:"pause_keys,omitempty"`
	Resuming          bool     `json:"resuming,omitempty"`
	RetryType         string   `json:"retry_type,omitempty"`
}

// CreatedBy names what created an object: a schedule, a user, an automation.
type CreatedBy struct {
	ID           string `json:"id,omitempty"`
	Type         string `json:"type,omitempty"`
	DisplayValue string `json:"display_value,omitempty"`
}

// LogEntry is a row of POST /logs/filter. Level is Python's numeric level
// (10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50 CRITICAL).
type LogEntry struct {
	ID        string    `json:"id,omitempty"`
	Created   time.Time `json:"created"`
	Name      string    `json:"name"`
	Level     int       `json:"level"`
	Message   string    `json:"message"`
	Timestamp time.Time `json:"timestamp"`
	FlowRunID string    `json:"flow_run_id,omitempty"`
	TaskRunID string    `json:"task_run_id,omitempty"`
}

// Deployment is a row of POST /deployments/filter or GET /deployments/{id}.
type Deployment struct {
	ID                     string                  `json:"id"`
	Created                time.Time               `json:"created"`
	Updated                time.Time               `json:"updated"`
	Name                   string                  `json:"name"`
	Version                string                  `json:"version,omitempty"`
	Description            string                  `json:"description,omitempty"`
	FlowID                 string                  `json:"flow_id"`
	Paused                 bool                    `json:"paused"`
	Status                 string                  `json:"status,omitempty"` // READY or NOT_READY
	Schedules              []DeploymentSchedule    `json:"schedules,omitempty"`
	ConcurrencyLimit       *int                    `json:"concurrency_limit,omitempty"`
	GlobalConcurrencyLimit *GlobalConcurrencyLimit `json:"global_concurrency_limit,omitempty"`
	ConcurrencyOptions     *ConcurrencyOptions     `json:"concurrency_options,omitempty"`
	Parameters             map[string]any          `json:"parameters,omitempty"`
	Tags                   []string                `json:"tags,omitempty"`
	Labels                 map[string]any          `json:"labels,omitempty"`
	WorkQueueName          string                  `json:"work_queue_name,omitempty"`
	WorkQueueID            string                  `json:"work_queue_id,omitempty"`
	WorkPoolName           string                  `json:"work_pool_name,omitempty"`
	LastPolled             *time.Time              `json:"last_polled,omitempty"`
	Entrypoint             string                  `json:"entrypoint,omitempty"`
	Path                   string                  `json:"path,omitempty"`
	EnforceParameterSchema bool                    `json:"enforce_parameter_schema,omitempty"`
	CreatedBy              *CreatedBy              `json:"created_by,omitempty"`
	UpdatedBy              *CreatedBy              `json:"updated_by,omitempty"`
}

// DeploymentSchedule is one schedule of a deployment. Schedule holds the
// interval, cron or rrule object as sent.
type DeploymentSchedule struct {
	ID               string         `json:"id"`
	Active           bool           `json:"active"`
	Schedule         map[string]any `json:"schedule,omitempty"`
	MaxScheduledRuns *int           `json:"max_scheduled_runs,omitempty"`
	Slug             string         `json:"slug,omitempty"`
}

// GlobalConcurrencyLimit is a v2 concurrency limit; a deployment's own limit
// appears as one named "deployment:<id>".
type GlobalConcurrencyLimit struct {
	ID                 string    `json:"id"`
	Created            time.Time `json:"created"`
	Updated            time.Time `json:"updated"`
	Active             bool      `json:"active"`
	Name               string    `json:"name"`
	Limit              int       `json:"limit"`
	ActiveSlots        int       `json:"active_slots"`
	SlotDecayPerSecond float64   `json:"slot_decay_per_second"`
}

// ConcurrencyOptions says what happens to a run that finds the deployment's
// concurrency limit full.
type ConcurrencyOptions struct {
	CollisionStrategy  string `json:"collision_strategy"` // ENQUEUE or CANCEL_NEW
	GracePeriodSeconds *int   `json:"grace_period_seconds,omitempty"`
}

// WorkPool is a row of POST /work_pools/filter or GET /work_pools/{name}.
type WorkPool struct {
	ID               string    `json:"id"`
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
	Name             string    `json:"name"`
	Description      string    `json:"description,omitempty"`
	Type             string    `json:"type"`
	IsPaused         bool      `json:"is_paused"`
	ConcurrencyLimit *int      `json:"concurrency_limit,omitempty"`
	Status           string    `json:"status,omitempty"` // READY, NOT_READY or PAUSED
	DefaultQueueID   string    `json:"default_queue_id,omitempty"`
	ActiveSlots      *int      `json:"active_slots,omitempty"`
}

// NeedsNoWorker reports a push or managed pool, which Prefect (or the cloud
// provider) submits runs for without a polling worker: a type ending in
// ":push" or ":managed", as WorkPool.is_push_pool and is_managed_pool decide
// (src/prefect/client/schemas/objects.py).
func (p WorkPool) NeedsNoWorker() bool {
	return strings.HasSuffix(p.Type, ":push") || strings.HasSuffix(p.Type, ":managed")
}
