package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
	"github.com/prefect-mcp/prefect-mcp/internal/testclock"
)

var (
	wsProd = authtest.Workspace{
		AccountID: "11111111-1111-4111-8111-111111111111", AccountHandle: "acme", AccountName: "Acme",
		WorkspaceID: "22222222-2222-4222-8222-222222222222", WorkspaceHandle: "prod", WorkspaceName: "Production",
	}
	wsStaging = authtest.Workspace{
		AccountID: "11111111-1111-4111-8111-111111111111", AccountHandle: "acme", AccountName: "Acme",
		WorkspaceID: "33333333-3333-4333-8333-333333333333", WorkspaceHandle: "staging", WorkspaceName: "Staging",
	}
)

func toWorkspace(w authtest.Workspace) Workspace { return Workspace(w) }

func TestGrantClientWorkspaces(t *testing.T) {
	t.Parallel()
	iss := authtest.New(testPublicBase+"/mcp", testClock)
	t.Cleanup(iss.Close)
	iss.SetGrant("grant-a", wsProd, wsStaging)
	iss.SetGrant("grant-empty")
	clock := testclock.NewManual(time.Unix(1_700_000_000, 0))
	g := NewGrantClient(iss.Client(), iss.URL+"/", GrantClientOptions{Now: clock.Now, MaxEntries: 2})
	ctx := context.Background()
	tokenA := iss.Mint(iss.Claims("grant-a"))

	got, err := g.Workspaces(ctx, tokenA)
	if err != nil {
		t.Fatalf("Workspaces: %v", err)
	}
	want := []Workspace{toWorkspace(wsProd), toWorkspace(wsStaging)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Workspaces = %+v, want %+v", got, want)
	}
	if got[0].Display() != "acme/prod" {
		t.Errorf("Display = %q", got[0].Display())
	}

	got[0].WorkspaceID = "mutated by the caller"
	again, err := g.Workspaces(ctx, tokenA)
	if err != nil {
		t.Fatal(err)
	}
	if iss.GrantRequests() != 1 {
		t.Errorf("grant endpoint called %d times, want 1 (cached)", iss.GrantRequests())
	}
	if again[0].WorkspaceID != wsProd.WorkspaceID {
		t.Error("a caller's change leaked into the cache")
	}

	clock.Advance(61 * time.Second)
	if _, err := g.Workspaces(ctx, tokenA); err != nil {
		t.Fatal(err)
	}
	if iss.GrantRequests() != 2 {
		t.Errorf("grant endpoint called %d times after expiry, want 2", iss.GrantRequests())
	}

	empty, err := g.Workspaces(ctx, iss.Mint(iss.Claims("grant-empty")))
	if err != nil || len(empty) != 0 {
		t.Errorf("empty grant = %v, %v", empty, err)
	}
	if _, err := g.Workspaces(ctx, iss.Mint(iss.Claims("grant-a"))); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	size := len(g.cache)
	g.mu.Unlock()
	if size > 2 {
		t.Errorf("cache holds %d entries, want at most 2", size)
	}
}

func TestGrantClientErrors(t *testing.T) {
	t.Parallel()
	iss := authtest.New(testPublicBase+"/mcp", testClock)
	t.Cleanup(iss.Close)
	iss.SetGrant("grant-a", wsProd)
	expired := iss.Claims("grant-a")
	expired["exp"] = testNow.Add(-time.Hour).Unix()

	fixed := func(status int, body string) string {
		srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		return srv.URL
	}
	const token = "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJlLXNlY3JldA"
	badID := `[{"account_id":"11111111-1111-4111-8111-111111111111","workspace_id":"../../admin"}]`
	tests := []struct {
		name     string
		authBase string
		token    string
		wantIs   error
		wantText string
	}{
		{"expired token", iss.URL, iss.Mint(expired), ErrGrantRejected, "401"},
		{"unknown grant", iss.URL, iss.Mint(iss.Claims("grant-unknown")), ErrGrantRejected, "403"},
		{"no token", iss.URL, "", ErrGrantRejected, ""},
		{"server error", fixed(502, "bad gateway"), token, nil, "HTTP 502"},
		{"not JSON", fixed(200, "<html>"), token, nil, "not a JSON array"},
		{"object instead of array", fixed(200, `{"workspaces":[]}`), token, nil, "not a JSON array"},
		{"id that is not a UUID", fixed(200, badID), token, nil, "not a UUID"},
		{"oversized body", fixed(200, "["+strings.Repeat(" ", maxGrantBytes)+"]"), token, nil, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGrantClient(nil, tt.authBase, GrantClientOptions{})
			ws, err := g.Workspaces(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("Workspaces = %+v, want an error", ws)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestSelectWorkspace(t *testing.T) {
	t.Parallel()
	prod, staging := toWorkspace(wsProd), toWorkspace(wsStaging)
	tests := []struct {
		name      string
		grant     []Workspace
		requested string
		want      Workspace
		wantIs    error
		wantText  []string
	}{
		{"only one, none requested", []Workspace{prod}, "", prod, nil, nil},
		{"by id", []Workspace{prod, staging}, wsStaging.WorkspaceID, staging, nil, nil},
		{"by upper-case id", []Workspace{prod, staging}, strings.ToUpper(wsStaging.WorkspaceID), staging, nil, nil},
		{"by handles", []Workspace{prod, staging}, " acme/staging ", staging, nil, nil},
		{"several, none requested", []Workspace{prod, staging}, "", Workspace{}, ErrWorkspaceAmbiguous,
			[]string{"acme/prod (" + wsProd.WorkspaceID + ")", "acme/staging (" + wsStaging.WorkspaceID + ")", "workspace_id"}},
		{"not in grant", []Workspace{prod}, "44444444-4444-4444-8444-444444444444", Workspace{}, ErrWorkspaceNotInGrant,
			[]string{"list_authorized_workspaces", "44444444-4444-4444-8444-444444444444"}},
		{"empty grant", nil, "", Workspace{}, ErrNoWorkspaces, nil},
		{"empty handles do not match a slash", []Workspace{{AccountID: wsProd.AccountID, WorkspaceID: wsProd.WorkspaceID}}, "/", Workspace{}, ErrWorkspaceNotInGrant, nil},
		{"long request is truncated", []Workspace{prod}, strings.Repeat("x", 500), Workspace{}, ErrWorkspaceNotInGrant, []string{"…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectWorkspace(tt.grant, tt.requested)
			if tt.wantIs == nil {
				if err != nil || got != tt.want {
					t.Fatalf("SelectWorkspace = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("error %v is not %v", err, tt.wantIs)
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not mention %q", err, text)
				}
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestWorkspaceAPIURL(t *testing.T) {
	t.Parallel()
	w := toWorkspace(wsProd)
	want := "https://api.prefect.cloud/api/accounts/" + wsProd.AccountID + "/workspaces/" + wsProd.WorkspaceID
	for _, base := range []string{"https://api.prefect.cloud", "https://api.prefect.cloud/"} {
		if got := WorkspaceAPIURL(base, w); got != want {
			t.Errorf("WorkspaceAPIURL(%q) = %q, want %q", base, got, want)
		}
	}
	hostile := Workspace{AccountID: "a/../b", WorkspaceID: "w?x=1"}
	if got := WorkspaceAPIURL("https://h", hostile); got != "https://h/api/accounts/a%2F..%2Fb/workspaces/w%3Fx=1" {
		t.Errorf("hostile ids not escaped: %q", got)
	}
}
