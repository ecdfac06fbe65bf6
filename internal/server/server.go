// Package server assembles the MCP server: implementation info,
// instructions for the model, and the selected tools.
package server

import (
	"context"
	"log/slog"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// Instructions orient the model: what the server is, the order in which to
// investigate, and where changes are made instead.
const Instructions = `Read-only access to a Prefect workflow-orchestration workspace. No tool changes anything: make changes (retry, cancel, pause, edit deployments) with the Prefect CLI or UI.
Investigate in this order: 1) the run and its logs (get_flow_runs, get_flow_run_logs; diagnose_flow_run when available); 2) deployment and work-pool health (get_deployments, get_work_pools: paused? workers online?); 3) concurrency (get_concurrency_limits); 4) automations (get_automations, read_events); 5) on Prefect Cloud, rate limits (review_rate_limits).
Filters are Prefect filter objects (e.g. {"state":{"type":{"any_":["FAILED"]}}}); invalid keys are reported with the allowed ones. Lists are newest first and say truncated/next_offset when more exists. Call get_identity to see which workspace answers.`

// oauthInstructions explain workspace_id, which tool schemas leave
// undescribed to stay small.
const oauthInstructions = `Prefect Cloud OAuth mode: every tool takes an optional workspace_id. Call list_authorized_workspaces first; pass one of its workspace ids when there are several.`

// Config is what a server needs.
type Config struct {
	Version   string
	Deps      *tools.Deps
	Selection tools.Selection
	Logger    *slog.Logger
	// Middleware wraps request handling (metrics); may be empty.
	Middleware []mcp.Middleware
}

// New builds the MCP server with the selected tools.
func New(cfg Config) *mcp.Server {
	instructions := Instructions
	if cfg.Selection.OAuth {
		instructions += "\n" + oauthInstructions
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "prefect-mcp", Title: "Prefect (read-only)", Version: cfg.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Logger:       cfg.Logger,
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
	})
	if len(cfg.Middleware) > 0 {
		s.AddReceivingMiddleware(cfg.Middleware...)
	}
	tools.Register(s, cfg.Deps, cfg.Selection)
	return s
}

// RunStdio serves s over stdin/stdout until the client disconnects or ctx
// ends. A malformed line gets a JSON-RPC error instead of ending the session.
func RunStdio(ctx context.Context, s *mcp.Server) error {
	return runIO(ctx, s, os.Stdin, os.Stdout)
}
