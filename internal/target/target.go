// Package target decides which Prefect API a tool call reads from and with
// which credentials: the server's own settings (stdio), the caller's
// X-Prefect-* headers (shared HTTP server), or an OAuth grant.
package target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Kind tells the tools what sort of Prefect they talk to; some tools exist
// only for one kind (rate limits need Cloud, server status self-hosted).
type Kind int

const (
	SelfHosted Kind = iota
	Cloud
	Demo
)

func (k Kind) String() string {
	switch k {
	case Cloud:
		return "cloud"
	case Demo:
		return "demo"
	default:
		return "self-hosted"
	}
}

// AuthMode says how the credentials of a target were obtained.
type AuthMode string

const (
	AuthNone       AuthMode = "none"
	AuthAPIKey     AuthMode = "api key"
	AuthBasic      AuthMode = "basic auth string"
	AuthCloudOAuth AuthMode = "cloud oauth"
)

// Target is one Prefect workspace API plus a client bound to its credentials.
type Target struct {
	Client *prefect.Client
	APIURL string
	Kind   Kind
	Auth   AuthMode
	// AccountID and WorkspaceID are set for Prefect Cloud targets.
	AccountID, WorkspaceID string
	// CloudAPIRoot is the account-level API root for Cloud targets
	// (e.g. https://api.prefect.cloud/api); empty otherwise.
	CloudAPIRoot string
	// UIURL is the base of the Prefect UI for links; empty when unknown.
	UIURL string
	// Grant describes the OAuth grant in Cloud OAuth mode.
	Grant *Grant
}

// Grant is what an OAuth consent grant allows, for reporting.
type Grant struct {
	ID         string
	Workspaces []GrantWorkspace
	Selected   GrantWorkspace
}

// GrantWorkspace is one workspace of a grant.
type GrantWorkspace struct {
	AccountID, AccountHandle, WorkspaceID, WorkspaceHandle string
}

// Display is the account/workspace handle pair users see in Prefect Cloud.
func (w GrantWorkspace) Display() string { return w.AccountHandle + "/" + w.WorkspaceHandle }

// Request is what a resolver may look at for one tool call.
type Request struct {
	Header      http.Header
	TokenInfo   *auth.TokenInfo
	WorkspaceID string
}

// Resolver returns the target for one tool call.
type Resolver interface {
	Resolve(ctx context.Context, req Request) (*Target, error)
}

// ErrNotConfigured means no Prefect API URL is known for this call.
var ErrNotConfigured = errors.New("no Prefect API is configured: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api), " +
	"select a profile with `prefect profile use NAME`, or start the server with --demo to try it on a demo workspace")

// Error is a resolution failure the caller can fix; its text is safe to show.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Static always answers with the same target (the demo, tests). A
// workspace_id argument is a mistake outside Cloud OAuth mode and is reported.
type Static struct {
	Target *Target // nil when nothing is configured
}

func (s Static) Resolve(_ context.Context, req Request) (*Target, error) {
	if req.WorkspaceID != "" {
		return nil, errorf("workspace_id is only accepted when the server runs in Prefect Cloud OAuth mode (--cloud-oauth); " +
			"this server is connected to a single workspace, so omit workspace_id")
	}
	if s.Target == nil {
		return nil, ErrNotConfigured
	}
	return s.Target, nil
}

// UIBase derives the Prefect UI base URL from an API URL when no explicit
// UI URL is configured: self-hosted serves the UI at the API URL minus "/api";
// Cloud serves it on app.prefect.cloud under account and workspace.
func UIBase(apiURL, explicit string, kind Kind, account, workspace string) string {
	if explicit != "" {
		return strings.TrimRight(explicit, "/")
	}
	switch kind {
	case Cloud:
		app := "https://app.prefect.cloud"
		if strings.Contains(apiURL, ".stg.prefect.dev") {
			app = "https://app.stg.prefect.dev"
		}
		return app + "/account/" + account + "/workspace/" + workspace
	default:
		u := strings.TrimRight(apiURL, "/")
		return strings.TrimSuffix(u, "/api")
	}
}
