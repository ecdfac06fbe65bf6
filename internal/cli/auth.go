package cli

import (
	"context"
	"log/slog"

	"github.com/prefect-mcp/prefect-mcp/internal/httpserver"
)

// inboundAuth configures who may call the HTTP endpoint: static bearer
// tokens (a gateway in front) or Prefect Cloud OAuth. It reports whether any
// inbound authentication is in force.
func inboundAuth(ctx context.Context, o Options, sys System, a *app, hopts *httpserver.Options, logger *slog.Logger) (bool, error) {
	return false, nil
}
