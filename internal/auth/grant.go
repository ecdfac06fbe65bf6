package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Workspace is one Prefect Cloud workspace the user consented to in the grant.
type Workspace struct {
	AccountID       string `json:"account_id"`
	AccountHandle   string `json:"account_handle"`
	AccountName     string `json:"account_name"`
	WorkspaceID     string `json:"workspace_id"`
	WorkspaceHandle string `json:"workspace_handle"`
	WorkspaceName   string `json:"workspace_name"`
}

// Display is the handle pair users know the workspace by: account/workspace.
func (w Workspace) Display() string { return w.AccountHandle + "/" + w.WorkspaceHandle }

// ErrGrantRejected is matched by errors from GrantClient.Workspaces when Cloud
// refuses the token (401/403): the client must authorize again.
var ErrGrantRejected = errors.New("prefect cloud rejected the access token")

const maxGrantBytes = 1 << 20

// GrantClientOptions tunes a GrantClient; zero values select the defaults.
type GrantClientOptions struct {
	TTL        time.Duration    // how long a token's workspaces are reused; default 60s
	MaxEntries int              // cached tokens; default 1024
	Now        func() time.Time // clock for the cache; default time.Now
}

// GrantClient lists the workspaces of a token's grant. Results are cached
// briefly per token, keyed by the token's SHA-256 so the cache never holds
// the token itself. Safe for concurrent use.
type GrantClient struct {
	hc   *http.Client
	url  string
	opts GrantClientOptions

	mu    sync.Mutex
	cache map[[sha256.Size]byte]grantEntry
}

type grantEntry struct {
	workspaces []Workspace
	expires    time.Time
}

// NewGrantClient lists grants at {authBase}/auth/mcp/oauth/grant/workspaces.
// hc nil means a plain http.Client.
func NewGrantClient(hc *http.Client, authBase string, opts GrantClientOptions) *GrantClient {
	if hc == nil {
		hc = &http.Client{}
	}
	if opts.TTL <= 0 {
		opts.TTL = 60 * time.Second
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 1024
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &GrantClient{
		hc:    hc,
		url:   strings.TrimRight(authBase, "/") + "/auth/mcp/oauth/grant/workspaces",
		opts:  opts,
		cache: make(map[[sha256.Size]byte]grantEntry),
	}
}

// Workspaces returns the workspaces in token's grant. Callers may modify the
// returned slice.
func (g *GrantClient) Workspaces(ctx context.Context, token string) ([]Workspace, error) {
	if token == "" {
		return nil, fmt.Errorf("grant workspaces: %w: no access token", ErrGrantRejected)
	}
	key := sha256.Sum256([]byte(token))
	if ws, ok := g.cached(key); ok {
		return ws, nil
	}
	ws, err := g.fetch(ctx, token)
	if err != nil {
		return nil, err
	}
	g.store(key, ws)
	return append([]Workspace(nil), ws...), nil
}

func (g *GrantClient) cached(key [sha256.Size]byte) ([]Workspace, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.cache[key]
	if !ok {
		return nil, false
	}
	if !g.opts.Now().Before(e.expires) {
		delete(g.cache, key)
		return nil, false
	}
	return append([]Workspace(nil), e.workspaces...), true
}

func (g *GrantClient) store(key [sha256.Size]byte, ws []Workspace) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.opts.Now()
	if len(g.cache) >= g.opts.MaxEntries {
		for k, e := range g.cache {
			if !now.Before(e.expires) {
				delete(g.cache, k)
			}
		}
	}
	// Still full of live entries: drop the one closest to expiry.
	for len(g.cache) >= g.opts.MaxEntries {
		var oldest [sha256.Size]byte
		var oldestExpiry time.Time
		first := true
		for k, e := range g.cache {
			if first || e.expires.Before(oldestExpiry) {
				oldest, oldestExpiry, first = k, e.expires, false
			}
		}
		delete(g.cache, oldest)
	}
	g.cache[key] = grantEntry{workspaces: ws, expires: now.Add(g.opts.TTL)}
}

func (g *GrantClient) fetch(ctx context.Context, token string) ([]Workspace, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return nil, fmt.Errorf("grant workspaces: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := g.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("grant workspaces: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("grant workspaces: %w (HTTP %d)", ErrGrantRejected, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("grant workspaces: unexpected HTTP %d from %s", resp.StatusCode, g.url)
	}
	body, err := readBody(resp, maxGrantBytes)
	if err != nil {
		return nil, fmt.Errorf("grant workspaces: %w", err)
	}
	var ws []Workspace
	if err := json.Unmarshal(body, &ws); err != nil {
		return nil, fmt.Errorf("grant workspaces: response is not a JSON array of workspaces: %w", err)
	}
	for i, w := range ws {
		// The ids become URL path segments: accept nothing but UUIDs.
		if !prefect.IsUUID(w.AccountID) || !prefect.IsUUID(w.WorkspaceID) {
			return nil, fmt.Errorf("grant workspaces: entry %d has an account_id or workspace_id that is not a UUID", i)
		}
	}
	return ws, nil
}

// Errors from SelectWorkspace, for errors.Is.
var (
	ErrNoWorkspaces        = errors.New("the authorization grant contains no workspaces")
	ErrWorkspaceAmbiguous  = errors.New("several workspaces are authorized")
	ErrWorkspaceNotInGrant = errors.New("workspace is not in the authorization grant")
)

// SelectWorkspace picks the workspace a call targets. requested may be a
// workspace id or "account_handle/workspace_handle"; empty means "the only
// one". Error texts tell the model what to do next.
func SelectWorkspace(grant []Workspace, requested string) (Workspace, error) {
	requested = strings.TrimSpace(requested)
	if len(grant) == 0 {
		return Workspace{}, fmt.Errorf("%w; authorize again and consent to at least one workspace", ErrNoWorkspaces)
	}
	if requested == "" {
		if len(grant) == 1 {
			return grant[0], nil
		}
		names := make([]string, len(grant))
		for i, w := range grant {
			names[i] = fmt.Sprintf("%s (%s)", w.Display(), w.WorkspaceID)
		}
		return Workspace{}, fmt.Errorf("%w; pass workspace_id with one of: %s", ErrWorkspaceAmbiguous, strings.Join(names, ", "))
	}
	for _, w := range grant {
		byHandle := w.AccountHandle != "" && w.WorkspaceHandle != "" && strings.EqualFold(w.Display(), requested)
		if strings.EqualFold(w.WorkspaceID, requested) || byHandle {
			return w, nil
		}
	}
	return Workspace{}, fmt.Errorf("%w: %q; call list_authorized_workspaces to see the workspaces this token may use", ErrWorkspaceNotInGrant, truncate(requested, 80))
}

// WorkspaceAPIURL is the Cloud API base of a workspace:
// {apiBase}/api/accounts/{account_id}/workspaces/{workspace_id}.
func WorkspaceAPIURL(apiBase string, w Workspace) string {
	return strings.TrimRight(apiBase, "/") + "/api/accounts/" + url.PathEscape(w.AccountID) + "/workspaces/" + url.PathEscape(w.WorkspaceID)
}
