// Package server assembles the MCP server: implementation info,
// instructions for the model, and the selected tools.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// instructions orient the model: what the server is, the order in which to
// investigate, and where changes are made instead. They name only the tools
// this server offers.
func instructions(offered tools.Offered, oauth bool) string {
	var b strings.Builder
	b.WriteString("Read-only access to a Prefect workflow-orchestration workspace. No tool changes anything: make changes (retry, cancel, pause, edit deployments) with the Prefect CLI or UI.\nInvestigate in this order:")
	n := 0
	for _, st := range []struct {
		what  string
		tools []string
		note  string
	}{
		{"the run and its logs", []string{tools.ToolGetFlowRuns, tools.ToolGetFlowRunLogs, tools.ToolDiagnoseFlowRun}, ": why it failed or crashed, or whether a Running/Pending/Cancelling run is still alive"},
		{"runs not starting or running too long", []string{tools.ToolDiagnoseLateRuns, tools.ToolDiagnoseStuckRuns}, ": why late runs wait; a deployment's scheduling health: paused? next occurrence; runs stuck past max(10× usual duration, 2 min), with a liveness verdict: alive_slow, zombie, silent, orphaned, stuck_pending"},
		{"deployment and work-pool health", []string{tools.ToolGetDeployments, tools.ToolGetWorkPools}, ": paused? workers online?"},
		{"concurrency", []string{tools.ToolGetConcurrencyLimits}, ""},
		{"automations", []string{tools.ToolGetAutomations, tools.ToolDiagnoseAutomation, tools.ToolReadEvents}, ""},
		{"on Prefect Cloud, rate limits", []string{tools.ToolReviewRateLimits}, ""},
	} {
		var have []string
		for _, t := range st.tools {
			if offered.Has(t) {
				have = append(have, t)
			}
		}
		if len(have) == 0 {
			continue
		}
		n++
		if n > 1 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %d) %s (%s%s)", n, st.what, strings.Join(have, ", "), st.note)
	}
	b.WriteString(".\nFilters are Prefect filter objects (e.g. {\"state\":{\"type\":{\"any_\":[\"FAILED\"]}}}); invalid keys are reported with the allowed ones. Lists come in pages (each tool's default size, or limit) and say truncated/next_offset when more exists. Call " + tools.ToolGetIdentity + " to see which workspace answers.")
	if oauth {
		// workspace_id is left undescribed in the tool schemas to keep them small.
		b.WriteString("\nPrefect Cloud OAuth mode: every tool takes an optional workspace_id. Call " + tools.ToolListAuthorizedWorkspaces + " first; pass one of its workspace ids when there are several.")
	}
	return b.String()
}

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
	defs := tools.Selected(cfg.Selection)
	offered := tools.Offer(defs)
	extras := tools.NewExtras(cfg.Deps, offered)
	text := instructions(offered, cfg.Selection.OAuth)
	if names := extras.PromptNames(); len(names) > 0 {
		text += "\nPrompts start the common investigations: " + strings.Join(names, ", ") + "."
	}
	if uris := extras.TemplateURIs(); len(uris) > 0 {
		text += "\nResource templates let the user attach a Prefect object to the conversation: " + strings.Join(uris, ", ") + "."
	}
	// The lists never change while the server runs: no listChanged.
	caps := &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}}
	if len(extras.PromptNames()) > 0 {
		caps.Prompts = &mcp.PromptCapabilities{}
	}
	if len(extras.TemplateURIs()) > 0 {
		caps.Resources = &mcp.ResourceCapabilities{}
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "prefect-mcp", Title: "Prefect (read-only)", Version: cfg.Version}, &mcp.ServerOptions{
		Instructions:      text,
		Logger:            cfg.Logger,
		Capabilities:      caps,
		CompletionHandler: extras.Complete(),
	})
	if len(cfg.Middleware) > 0 {
		s.AddReceivingMiddleware(cfg.Middleware...)
	}
	tools.RegisterDefinitions(s, cfg.Deps, defs)
	extras.Register(s)
	return s
}

// RunStdio serves s over stdin/stdout until the client disconnects or ctx
// ends. A malformed line gets a JSON-RPC error instead of ending the session.
func RunStdio(ctx context.Context, s *mcp.Server) error {
	return runIO(ctx, s, os.Stdin, os.Stdout)
}
