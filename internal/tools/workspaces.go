package tools

import (
	"context"
)

type authorizedWorkspacesInput struct{}

func authorizedWorkspacesTool() Definition {
	return define(Definition{
		Name: ToolListAuthorizedWorkspaces, Title: "List authorized workspaces", Group: GroupIdentity, Scope: OAuthOnly, noTarget: true,
		Summary: "Cloud OAuth mode: the Prefect Cloud workspaces your sign-in consented to, to pass as workspace_id.",
	}, `The Prefect Cloud workspaces this sign-in consented to (names, ids, grant id); pass one as workspace_id when there are several.
Example: {}`,
		nil, listAuthorizedWorkspaces)
}

// workspacesResult is the workspaces of the caller's grant.
type workspacesResult struct {
	GrantID    string           `json:"grant_id,omitempty"`
	Workspaces []workspaceEntry `json:"workspaces"`
	Note       string           `json:"note,omitempty"`
}

type workspaceEntry struct {
	Name string `json:"name"`
	ID   string `json:"workspace_id"`
}

func listAuthorizedWorkspaces(ctx context.Context, c *call, _ authorizedWorkspacesInput) (*workspacesResult, error) {
	if c.deps.Grants == nil {
		return nil, badInput("this server is not in Prefect Cloud OAuth mode; it reads one configured workspace (see " + ToolGetIdentity + ")")
	}
	g, err := c.deps.Grants.Grant(ctx, c.treq)
	if err != nil {
		return nil, err
	}
	out := &workspacesResult{GrantID: g.ID, Workspaces: []workspaceEntry{}}
	for _, w := range g.Workspaces {
		out.Workspaces = append(out.Workspaces, workspaceEntry{Name: w.Display(), ID: w.WorkspaceID})
	}
	switch len(g.Workspaces) {
	case 0:
		out.Note = "the grant holds no workspace; sign in again and consent to at least one"
	case 1:
		out.Note = "one workspace: tools use it without workspace_id"
	default:
		out.Note = "several workspaces: pass workspace_id to every tool"
	}
	return out, nil
}
