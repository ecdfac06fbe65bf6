package prefect

import "time"

// Response types for deployments, work pools, workers, queues and
// concurrency limits, modelled on responses captured from Prefect 3.8.

// DeploymentDetail is a Deployment with the fields only detail views need.
type DeploymentDetail struct {
	Deployment
	JobVariables           map[string]any `json:"job_variables,omitempty"`
	ParameterOpenAPISchema map[string]any `json:"parameter_openapi_schema,omitempty"`
	PullSteps              []any          `json:"pull_steps,omitempty"`
}

// WorkPoolDetail is a WorkPool with its base job template.
type WorkPoolDetail struct {
	WorkPool
	BaseJobTemplate map[string]any `json:"base_job_template,omitempty"`
}

// WorkQueue is a row of POST /work_pools/{name}/queues/filter or
// POST /work_queues/filter.
type WorkQueue struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	Description      string     `json:"description,omitempty"`
	IsPaused         bool       `json:"is_paused"`
	ConcurrencyLimit *int       `json:"concurrency_limit,omitempty"`
	Priority         int        `json:"priority"`
	WorkPoolID       string     `json:"work_pool_id,omitempty"`
	WorkPoolName     string     `json:"work_pool_name,omitempty"`
	LastPolled       *time.Time `json:"last_polled,omitempty"`
	Status           string     `json:"status,omitempty"` // READY, NOT_READY or PAUSED
	// ActiveSlots is set by Prefect for queues with a concurrency limit:
	// their Pending and Running flow runs.
	ActiveSlots *int `json:"active_slots,omitempty"`
}

// WorkQueueStatus is GET /work_queues/{id}/status.
type WorkQueueStatus struct {
	Healthy           bool       `json:"healthy"`
	LateRunsCount     int        `json:"late_runs_count"`
	LastPolled        *time.Time `json:"last_polled,omitempty"`
	HealthCheckPolicy struct {
		MaximumLateRuns               *int `json:"maximum_late_runs,omitempty"`
		MaximumSecondsSinceLastPolled *int `json:"maximum_seconds_since_last_polled,omitempty"`
	} `json:"health_check_policy"`
}

// Worker is a row of POST /work_pools/{name}/workers/filter.
type Worker struct {
	ID                       string     `json:"id"`
	Name                     string     `json:"name"`
	WorkPoolID               string     `json:"work_pool_id,omitempty"`
	LastHeartbeatTime        *time.Time `json:"last_heartbeat_time,omitempty"`
	HeartbeatIntervalSeconds *int       `json:"heartbeat_interval_seconds,omitempty"`
	Status                   string     `json:"status,omitempty"` // ONLINE or OFFLINE
}

// TagConcurrencyLimit is a row of POST /concurrency_limits/filter: the v1
// view of a tag limit; ActiveSlots holds the ids of the task runs in it.
type TagConcurrencyLimit struct {
	ID               string    `json:"id"`
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
	Tag              string    `json:"tag"`
	ConcurrencyLimit int       `json:"concurrency_limit"`
	ActiveSlots      []string  `json:"active_slots,omitempty"`
}
