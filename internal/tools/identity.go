package tools

import (
	"context"
	"sync"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

type identityInput struct {
	Workspace
}

func identityTool() Definition {
	return define(Definition{
		Name: ToolGetIdentity, Title: "Get identity", Group: GroupIdentity,
		Summary: "Which Prefect this server reads: self-hosted or Cloud, API URL, Prefect version, and for Cloud the account, workspace and user.",
	}, `Which Prefect this server reads: self-hosted, Cloud or demo, API URL, version, auth kind (never the secret), Cloud account/workspace/user or OAuth grant.
Example: {}`,
		nil, getIdentity)
}

type identityResult struct {
	Kind       string         `json:"kind"`
	Demo       string         `json:"demo,omitempty"`
	APIURL     string         `json:"api_url"`
	UIURL      string         `json:"ui_url,omitempty"`
	Auth       string         `json:"auth"`
	Version    string         `json:"prefect_version,omitempty"`
	APIVersion string         `json:"api_version,omitempty"`
	Account    map[string]any `json:"account,omitempty"`
	Workspace  map[string]any `json:"workspace,omitempty"`
	// User is the user's fields, or a sentence for a service account.
	User  any           `json:"user,omitempty"`
	Grant *grantSummary `json:"grant,omitempty"`
	Notes []string      `json:"notes,omitempty"`

	mu sync.Mutex // guards Notes while probes run concurrently
}

func (r *identityResult) note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, s)
}

func getIdentity(ctx context.Context, c *call, _ identityInput) (*identityResult, error) {
	t := c.target
	res := &identityResult{Kind: t.Kind.String(), APIURL: t.APIURL, UIURL: t.UIURL, Auth: string(t.Auth)}
	if t.Kind == target.Demo {
		res.Demo = "This is the built-in DEMO workspace (prefect-mcp --demo): invented data served in-process, not a real Prefect. Configure PREFECT_API_URL or a Prefect profile to read your own."
		res.UIURL = ""
	}
	var version, apiVersion string
	jobs := []func(context.Context) error{func(ctx context.Context) error {
		// /admin/version is the Prefect release; Cloud and older servers
		// may refuse it, /version (the REST API version) is the fallback.
		if err := t.Client.Get(ctx, "/admin/version", nil, &version); err == nil {
			return nil
		}
		if err := t.Client.Get(ctx, "/version", nil, &apiVersion); err != nil {
			res.note("version unavailable: " + c.describe(err))
		}
		return nil
	}}
	if t.Grant != nil {
		res.Grant = summarizeGrant(t.Grant)
	} else if t.Kind == target.Cloud && t.Auth == target.AuthAPIKey {
		jobs = append(jobs, c.cloudIdentity(res)...)
	}
	if err := parallel(ctx, 4, jobs...); err != nil {
		return nil, err
	}
	res.Version, res.APIVersion = version, apiVersion
	return res, nil
}

// cloudIdentity reads account, workspace and user. A service account's 403
// on /me/ is expected and reported as such, not as a failure.
func (c *call) cloudIdentity(res *identityResult) []func(context.Context) error {
	t := c.target
	acct, err := t.Client.WithBaseURL(t.CloudAPIRoot)
	if err != nil {
		return nil
	}
	var account, workspace, user map[string]any
	note := func(what string, err error) {
		res.note(what + " unavailable: " + c.describe(err))
	}
	return []func(context.Context) error{
		func(ctx context.Context) error {
			if err := acct.Get(ctx, prefect.Path("/accounts/%s", t.AccountID), nil, &account); err != nil {
				note("account", err)
				return nil
			}
			res.Account = pick(account, "id", "name", "handle", "plan_type", "plan_tier", "run_retention_days")
			return nil
		},
		func(ctx context.Context) error {
			if err := acct.Get(ctx, prefect.Path("/accounts/%s/workspaces/%s", t.AccountID, t.WorkspaceID), nil, &workspace); err != nil {
				note("workspace", err)
				return nil
			}
			res.Workspace = pick(workspace, "id", "name", "handle", "description")
			return nil
		},
		func(ctx context.Context) error {
			err := acct.Get(ctx, "/me/", nil, &user)
			switch {
			case prefect.StatusOf(err) == 403:
				res.User = "service account (no user identity; /me/ is for users only)"
			case err != nil:
				note("user", err)
			default:
				res.User = pick(user, "id", "handle", "email", "first_name", "last_name")
			}
			return nil
		},
	}
}

// grantSummary is an OAuth grant: the workspaces it reaches.
type grantSummary struct {
	ID         string             `json:"grant_id,omitempty"`
	Selected   string             `json:"selected_workspace,omitempty"`
	Workspaces []grantedWorkspace `json:"workspaces"`
}

type grantedWorkspace struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

func summarizeGrant(g *target.Grant) *grantSummary {
	out := &grantSummary{ID: g.ID}
	if g.Selected.WorkspaceID != "" {
		out.Selected = g.Selected.Display() + " (" + g.Selected.WorkspaceID + ")"
	}
	for _, w := range g.Workspaces {
		out.Workspaces = append(out.Workspaces, grantedWorkspace{Name: w.Display(), ID: w.WorkspaceID})
	}
	return out
}

// pick keeps the named non-empty fields of a decoded object.
func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok && v != nil && v != "" {
			out[k] = v
		}
	}
	return out
}
