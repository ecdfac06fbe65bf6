package authtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
)

const audience = "http://127.0.0.1:1/mcp"

var (
	wsA = authtest.Workspace{AccountID: "acct-1", AccountHandle: "acme", WorkspaceID: "ws-a", WorkspaceHandle: "prod"}
	wsB = authtest.Workspace{AccountID: "acct-1", AccountHandle: "acme", WorkspaceID: "ws-b", WorkspaceHandle: "staging"}
)

// now is the issuer's clock, years from the wall clock: the issuer must mint
// and check tokens by it alone.
var now = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

func newIssuer(t *testing.T) *authtest.Issuer {
	t.Helper()
	iss := authtest.New(audience, func() time.Time { return now })
	t.Cleanup(iss.Close)
	return iss
}

// getJSON fetches u and decodes a JSON object.
func getJSON(t *testing.T, hc *http.Client, u string) (int, map[string]any) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, body
}

func TestMetadata(t *testing.T) {
	iss := newIssuer(t)
	status, meta := getJSON(t, iss.Client(), iss.URL+authtest.MetadataPath)
	if status != http.StatusOK || iss.MetadataRequests() != 1 {
		t.Fatalf("status %d, %d metadata requests", status, iss.MetadataRequests())
	}
	want := map[string]string{
		"issuer":                 iss.URL,
		"token_endpoint":         iss.URL + authtest.TokenPath,
		"jwks_uri":               iss.JWKSURL(),
		"authorization_endpoint": iss.URL + authtest.AuthorizePath,
	}
	for k, v := range want {
		if meta[k] != v {
			t.Errorf("%s = %v, want %s", k, meta[k], v)
		}
	}
	list := func(k string) []any { l, _ := meta[k].([]any); return l }
	if !slices.Equal(list("grant_types_supported"), []any{"client_credentials"}) ||
		!slices.Equal(list("token_endpoint_auth_methods_supported"), []any{"client_secret_basic"}) ||
		!slices.Equal(list("scopes_supported"), []any{authtest.Scope}) {
		t.Errorf("metadata = %v", meta)
	}
	if rt, ok := meta["response_types_supported"].([]any); !ok || len(rt) != 0 {
		t.Errorf("response_types_supported = %v, want present and empty", meta["response_types_supported"])
	}

	status, body := getJSON(t, iss.Client(), iss.URL+authtest.AuthorizePath+"?response_type=code")
	if status != http.StatusBadRequest || body["error"] != "unsupported_response_type" {
		t.Errorf("authorize: %d %v", status, body)
	}
}

// token posts a client-credentials request with extra form values.
func token(t *testing.T, iss *authtest.Issuer, extra url.Values) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {authtest.Scope}}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, iss.URL+authtest.TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", "secret-1")
	resp, err := iss.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestTokenResourceIndicator(t *testing.T) {
	iss := newIssuer(t)
	iss.RegisterClient("svc", "secret-1", "grant-1")
	iss.SetGrant("grant-1", wsA)
	for _, tc := range []struct {
		name     string
		resource []string
		status   int
	}{
		{"absent", nil, http.StatusOK},
		{"the audience", []string{audience}, http.StatusOK},
		{"another resource", []string{"http://127.0.0.1:2/mcp"}, http.StatusBadRequest},
		{"a prefix of the audience", []string{"http://127.0.0.1:1/"}, http.StatusBadRequest},
		{"two resources", []string{audience, "http://127.0.0.1:2/mcp"}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := url.Values{}
			if tc.resource != nil {
				extra["resource"] = tc.resource
			}
			status, body := token(t, iss, extra)
			if status != tc.status {
				t.Fatalf("status %d, body %v", status, body)
			}
			if status != http.StatusOK {
				if body["error"] != "invalid_target" {
					t.Errorf("error = %v, want invalid_target", body["error"])
				}
				return
			}
			tok, _ := body["access_token"].(string)
			if grant, ok := iss.GrantOf(tok); !ok || grant != "grant-1" {
				t.Errorf("GrantOf(issued token) = %q, %v", grant, ok)
			}
		})
	}
}

func TestGrantOf(t *testing.T) {
	iss := newIssuer(t)
	iss.SetGrant("grant-1", wsA)
	good := iss.Claims("grant-1")
	if grant, ok := iss.GrantOf(iss.Mint(good)); !ok || grant != "grant-1" {
		t.Fatalf("GrantOf(valid) = %q, %v", grant, ok)
	}
	edit := func(k string, v any) string {
		c := iss.Claims("grant-1")
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return iss.Mint(c)
	}
	unpublished := iss.AddKey()
	iss.RemoveKey(unpublished)
	withUnpublished, err := iss.Sign(authtest.SignOptions{Claims: good, SignWith: unpublished})
	if err != nil {
		t.Fatal(err)
	}
	hs256, err := iss.Sign(authtest.SignOptions{Claims: good, Alg: "HS256", HMACKey: iss.PublicKeyPEM(iss.SigningKID())})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"unknown grant":   iss.Mint(iss.Claims("grant-x")),
		"other scope":     edit("scope", "openid"),
		"no scope":        edit("scope", nil),
		"expired":         edit("exp", now.Add(-time.Minute).Unix()),
		"no expiry":       edit("exp", nil),
		"other issuer":    edit("iss", "https://evil.example"),
		"unpublished key": withUnpublished,
		"HS256":           hs256,
		"garbage":         "not.a.jwt",
	} {
		if grant, ok := iss.GrantOf(tok); ok {
			t.Errorf("%s: GrantOf = %q, accepted", name, grant)
		}
	}
}

func TestCloudGate(t *testing.T) {
	iss := newIssuer(t)
	iss.SetGrant("grant-1", wsA)
	iss.SetGrant("grant-2", wsB)
	var reached []string
	srv := httptest.NewServer(iss.CloudGate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = append(reached, r.URL.Path)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})))
	defer srv.Close()
	tok1 := iss.Mint(iss.Claims("grant-1"))
	tok2 := iss.Mint(iss.Claims("grant-2"))
	wsPath := "/api/accounts/acct-1/workspaces/ws-a/flows/filter"

	for _, tc := range []struct {
		name, auth, path string
		status           int
	}{
		{"no token", "", wsPath, http.StatusUnauthorized},
		{"not a bearer token", "Basic dTpw", wsPath, http.StatusUnauthorized},
		{"forged token", "Bearer " + tok1 + "x", wsPath, http.StatusUnauthorized},
		{"account-level path", "Bearer " + tok1, "/api/me/", http.StatusForbidden},
		{"account path", "Bearer " + tok1, "/api/accounts/acct-1", http.StatusForbidden},
		{"workspace outside the grant", "Bearer " + tok2, wsPath, http.StatusForbidden},
		{"workspace in another account", "Bearer " + tok1, "/api/accounts/acct-2/workspaces/ws-a/flows/filter", http.StatusForbidden},
		{"consented workspace", "Bearer " + tok1, wsPath, http.StatusOK},
		{"consented workspace root", "Bearer " + tok2, "/api/accounts/acct-1/workspaces/ws-b", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(`{}`))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == http.StatusForbidden && !strings.Contains(string(body), "workspace-scoped") {
				t.Errorf("403 body %s", body)
			}
		})
	}
	if !slices.Equal(reached, []string{wsPath, "/api/accounts/acct-1/workspaces/ws-b"}) {
		t.Errorf("requests that reached the API: %v", reached)
	}
}
