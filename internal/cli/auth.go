package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/auth"
	"github.com/prefect-mcp/prefect-mcp/internal/httpserver"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// inboundAuth configures who may call the HTTP endpoint: static bearer
// tokens (a gateway in front) or Prefect Cloud OAuth. It reports whether any
// inbound authentication is in force.
func inboundAuth(ctx context.Context, o Options, sys System, a *app, hopts *httpserver.Options, logger *slog.Logger) (bool, error) {
	if o.CloudOAuth && o.AuthTokensFile != "" {
		return false, errors.New("--cloud-oauth and --auth-tokens-file are alternatives: choose one inbound authentication")
	}
	switch {
	case o.AuthTokensFile != "":
		tokens, err := auth.LoadStaticTokens(o.AuthTokensFile, auth.StaticTokensOptions{Logger: logger})
		if err != nil {
			return false, fmt.Errorf("--auth-tokens-file: %w", err)
		}
		hopts.Wrap = tokens.Middleware
		a.onReload = append(a.onReload, func() {
			if err := tokens.Reload(); err != nil {
				logger.Error("reloading the static token file failed; refusing every token", "error", err.Error())
				return
			}
			logger.Info("static bearer tokens reloaded", "tokens", tokens.Len())
		})
		logger.Info("inbound static bearer tokens enabled", "tokens", tokens.Len())
		return true, nil
	case o.CloudOAuth:
		cfg, err := auth.CloudConfigFromEnv(sys.Lookup)
		if err != nil {
			return false, err
		}
		if cfg.PublicBaseURL == "" {
			return false, errors.New("--cloud-oauth needs PREFECT_MCP_CLOUD_PUBLIC_BASE_URL (where clients reach this server, e.g. https://mcp.example.com)")
		}
		hc := &http.Client{Timeout: 15 * time.Second}
		verifier, err := auth.NewVerifier(ctx, hc, cfg, auth.VerifierOptions{Logger: logger, Now: sys.Now})
		if err != nil {
			return false, err
		}
		a.closers = append(a.closers, verifier.Close)
		meta := auth.NewMetadataHandler(cfg)
		hopts.Wrap = verifier.Middleware
		hopts.Extra = map[string]http.Handler{auth.MetadataPath: meta, auth.MetadataRootPath: meta}
		oauth := &target.OAuth{Grants: auth.NewGrantClient(hc, cfg.AuthBaseURL, auth.GrantClientOptions{}), APIBase: cfg.APIBaseURL, Builder: a.builder}
		a.deps.Resolver = oauth
		a.deps.Grants = oauth
		logger.Info("Prefect Cloud OAuth mode", "resource", cfg.ResourceURL(), "authorization_server", cfg.AuthorizationServer)
		return true, nil
	}
	return false, nil
}
