package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/auth"
)

// runToken exchanges the service account's client credentials for a Cloud
// OAuth access token (for unattended agents) and prints it.
func runToken(ctx context.Context, args []string, sys System) int {
	if len(args) > 0 {
		fmt.Fprintf(sys.Stderr, "prefect-mcp token: takes no arguments; it reads PREFECT_MCP_CLOUD_CLIENT_ID and PREFECT_MCP_CLOUD_CLIENT_SECRET\n")
		return 2
	}
	cfg, err := auth.CloudConfigFromEnv(sys.Lookup)
	if err != nil {
		fmt.Fprintf(sys.Stderr, "prefect-mcp token: %v\n", err)
		return 1
	}
	if !cfg.HasClientCredentials() || cfg.ClientSecret == "" {
		fmt.Fprintln(sys.Stderr, "prefect-mcp token: set PREFECT_MCP_CLOUD_CLIENT_ID and PREFECT_MCP_CLOUD_CLIENT_SECRET (a Prefect Cloud service account's OAuth client)")
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tok, err := auth.ExchangeClientCredentials(ctx, &http.Client{Timeout: 30 * time.Second}, cfg.AuthBaseURL, cfg.ClientID, cfg.ClientSecret.Reveal())
	if err != nil {
		fmt.Fprintf(sys.Stderr, "prefect-mcp token: %v\n", err)
		return 1
	}
	fmt.Fprintln(sys.Stdout, tok.AccessToken.Reveal())
	return 0
}
