// Package toolname holds the MCP tool names. It sits below both the tools and
// the diagnosis rules, so a next step can only name a tool that exists.
package toolname

// Tool names (tools.Tool* are these).
const (
	CountEvents              = "count_events"
	DiagnoseAutomation       = "diagnose_automation"
	DiagnoseFlowRun          = "diagnose_flow_run"
	DiagnoseLateRuns         = "diagnose_late_runs"
	DiagnoseStuckRuns        = "diagnose_stuck_runs"
	DocsGetReleaseNotes      = "docs_get_release_notes"
	DocsSearchPrefect        = "docs_search_prefect"
	GetArtifacts             = "get_artifacts"
	GetAutomations           = "get_automations"
	GetConcurrencyLimits     = "get_concurrency_limits"
	GetDashboard             = "get_dashboard"
	GetDeploymentActivity    = "get_deployment_activity"
	GetDeployments           = "get_deployments"
	GetFlowRunLogs           = "get_flow_run_logs"
	GetFlowRuns              = "get_flow_runs"
	GetFlows                 = "get_flows"
	GetIdentity              = "get_identity"
	GetObjectSchema          = "get_object_schema"
	GetRunStateHistory       = "get_run_state_history"
	GetServerStatus          = "get_server_status"
	GetTaskRuns              = "get_task_runs"
	GetVariables             = "get_variables"
	GetWorkPools             = "get_work_pools"
	GetWorkQueues            = "get_work_queues"
	ListAuthorizedWorkspaces = "list_authorized_workspaces"
	ReadEvents               = "read_events"
	ReviewRateLimits         = "review_rate_limits"
	Search                   = "search"
)
