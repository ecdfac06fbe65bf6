package diagnosis

// RunDiagnosis is diagnose_flow_run's answer.
type RunDiagnosis struct {
	Summary   string       `json:"summary"`
	Cause     string       `json:"cause"`
	FlowRun   RunIdentity  `json:"flow_run"`
	Evidence  RunEvidence  `json:"evidence"`
	Liveness  *Liveness    `json:"liveness,omitempty"`
	NextSteps []string     `json:"next_steps,omitempty"`
	RuledOut  []string     `json:"ruled_out,omitempty"`
	Subflows  []SubflowHop `json:"subflow_chain,omitempty"`
}

// RunIdentity names the run; UIURL is filled by the tool.
type RunIdentity struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Flow         string `json:"flow,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
	State        string `json:"state"`
	Subflow      bool   `json:"is_subflow,omitempty"`
	UIURL        string `json:"ui_url,omitempty"`
}

// RunEvidence is what the verdict rests on.
type RunEvidence struct {
	StateMessage string         `json:"state_message,omitempty"`
	StateAt      string         `json:"state_at,omitempty"`
	Log          string         `json:"log,omitempty"` // the log line that names the cause
	Exception    *Exception     `json:"exception,omitempty"`
	LeaseLog     string         `json:"lease_renewal_log,omitempty"`
	CancelledBy  string         `json:"cancelled_by,omitempty"`
	ExitCode     string         `json:"exit_code,omitempty"`
	ExitMeaning  string         `json:"exit_code_meaning,omitempty"`
	PodEvent     string         `json:"infrastructure_event,omitempty"`
	Retries      string         `json:"retries,omitempty"`
	Attempts     []Attempt      `json:"attempts,omitempty"`
	RootTask     *TaskBrief     `json:"root_task_run,omitempty"`
	TaskRuns     map[string]int `json:"task_runs_by_state,omitempty"`
	FailedTasks  []TaskBrief    `json:"failed_task_runs,omitempty"`
	NotReady     []TaskBrief    `json:"not_ready_task_runs,omitempty"`
	Where        *RunWhere      `json:"where,omitempty"`
	CreatedBy    string         `json:"created_by,omitempty"`
	History      []StateEntry   `json:"state_history,omitempty"`
	Note         string         `json:"note,omitempty"`
}

// Liveness says whether an active run is still doing anything.
type Liveness struct {
	Verdict         string `json:"verdict"`
	InStateFor      string `json:"in_state_for,omitempty"`
	UsualDuration   string `json:"usual_duration,omitempty"`
	LastHeartbeat   string `json:"last_heartbeat,omitempty"`
	Heartbeats      string `json:"heartbeats"`
	LastLog         string `json:"last_log,omitempty"`
	Worker          string `json:"worker,omitempty"`
	WorkerStatus    string `json:"worker_status,omitempty"`
	PoolStatus      string `json:"work_pool_status,omitempty"`
	CrashAutomation string `json:"zombie_automation,omitempty"`
}

// Attempt is one failed attempt of a retried run.
type Attempt struct {
	At    string `json:"at"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// Exception is a Python exception found in the logs or the state message.
type Exception struct {
	Type      string `json:"type,omitempty"`
	Message   string `json:"message,omitempty"`
	Source    string `json:"source,omitempty"`
	Traceback string `json:"traceback,omitempty"`
}

// TaskBrief is one task run in the evidence.
type TaskBrief struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	Runs    int    `json:"run_count,omitempty"`
	Subflow string `json:"child_flow_run_id,omitempty"`
}

// RunWhere says where the run ran.
type RunWhere struct {
	WorkPool      string `json:"work_pool,omitempty"`
	WorkQueue     string `json:"work_queue,omitempty"`
	Worker        string `json:"worker,omitempty"`
	InfraPID      string `json:"infrastructure_pid,omitempty"`
	Started       string `json:"started,omitempty"`
	Ended         string `json:"ended,omitempty"`
	Duration      string `json:"duration,omitempty"`
	LastHeartbeat string `json:"last_heartbeat,omitempty"`
}

// StateEntry is one row of the state history.
type StateEntry struct {
	At      string `json:"at"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
}

// SubflowHop is one level of the failing subflow chain.
type SubflowHop struct {
	Depth     int         `json:"depth"`
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	State     string      `json:"state"`
	Message   string      `json:"message,omitempty"`
	Exception *Exception  `json:"exception,omitempty"`
	Failed    []TaskBrief `json:"failed_task_runs,omitempty"`
}
