package target

import (
	"context"
	"errors"

	"github.com/prefect-mcp/prefect-mcp/internal/auth"
)

// OAuth resolves calls in Prefect Cloud OAuth mode: the verified bearer
// token's consent grant lists the workspaces it may read, the call's
// workspace_id picks one, and the same token authenticates to Cloud.
type OAuth struct {
	Grants  *auth.GrantClient
	APIBase string // Cloud API origin, e.g. https://api.prefect.cloud
	Builder Builder
}

// Grant lists the grant of the calling token without choosing a workspace.
func (o *OAuth) Grant(ctx context.Context, req Request) (*Grant, error) {
	g, _, err := o.grant(ctx, req)
	return g, err
}

func (o *OAuth) grant(ctx context.Context, req Request) (*Grant, []auth.Workspace, error) {
	tok, ok := auth.AccessToken(req.TokenInfo)
	if !ok {
		return nil, nil, errorf("this call carries no verified Prefect Cloud OAuth token; reconnect the client so it runs the OAuth flow")
	}
	ws, err := o.Grants.Workspaces(ctx, tok.Reveal())
	if err != nil {
		if errors.Is(err, auth.ErrGrantRejected) {
			return nil, nil, errorf("Prefect Cloud rejected the OAuth token when listing its workspaces; sign in again")
		}
		return nil, nil, errorf("could not read the OAuth grant's workspaces from Prefect Cloud: %v", err)
	}
	g := &Grant{ID: auth.GrantID(req.TokenInfo)}
	for _, w := range ws {
		g.Workspaces = append(g.Workspaces, grantWorkspace(w))
	}
	return g, ws, nil
}

// Resolve picks the workspace (refusing one outside the grant before any
// Prefect request) and builds a target that sends the user's token.
func (o *OAuth) Resolve(ctx context.Context, req Request) (*Target, error) {
	g, ws, err := o.grant(ctx, req)
	if err != nil {
		return nil, err
	}
	sel, err := auth.SelectWorkspace(ws, req.WorkspaceID)
	if err != nil {
		if errors.Is(err, auth.ErrWorkspaceNotInGrant) {
			return nil, errorf("workspace %q is not in this OAuth grant; call list_authorized_workspaces to see the workspaces you consented to", clipID(req.WorkspaceID))
		}
		return nil, &Error{Msg: err.Error()}
	}
	tok, _ := auth.AccessToken(req.TokenInfo)
	t, err := o.Builder.Build(Credentials{APIURL: auth.WorkspaceAPIURL(o.APIBase, sel), APIKey: tok.Reveal()}, "")
	if err != nil {
		return nil, err
	}
	t.Auth = AuthCloudOAuth
	g.Selected = grantWorkspace(sel)
	t.Grant = g
	return t, nil
}

func grantWorkspace(w auth.Workspace) GrantWorkspace {
	return GrantWorkspace{AccountID: w.AccountID, AccountHandle: w.AccountHandle, WorkspaceID: w.WorkspaceID, WorkspaceHandle: w.WorkspaceHandle}
}

func clipID(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
