package target

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

func TestURLAllowed(t *testing.T) {
	allowed := []string{"https://api.prefect.cloud/api", "http://prefect.internal:4200/api/"}
	cases := []struct {
		url  string
		want bool
	}{
		{"https://api.prefect.cloud/api", true},
		{"https://api.prefect.cloud/api/accounts/a/workspaces/w", true},
		{"https://API.PREFECT.CLOUD/api/accounts/a", true},
		{"https://api.prefect.cloud:443/api", true},
		{"https://api.prefect.cloud/apix", false},
		{"https://api.prefect.cloud.evil.com/api", false},
		{"https://api.prefect.cloud@evil.com/api", false},
		{"http://api.prefect.cloud/api", false},
		{"https://api.prefect.cloud:8443/api", false},
		{"https://api.prefect.cloud/api/../admin", false},
		{"http://prefect.internal:4200/api", true},
		{"http://prefect.internal/api", false},
		{"http://169.254.169.254/latest/meta-data", false},
		{"not a url", false},
	}
	for _, tc := range cases {
		if got := URLAllowed(tc.url, allowed); got != tc.want {
			t.Errorf("URLAllowed(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func FuzzURLAllowed(f *testing.F) {
	for _, s := range []string{"https://api.prefect.cloud/api/x", "http://a/../b", "%zz", "https://api.prefect.cloud.evil/api"} {
		f.Add(s)
	}
	allowed := []string{"https://api.prefect.cloud/api"}
	f.Fuzz(func(t *testing.T, raw string) {
		if URLAllowed(raw, allowed) && !strings.HasPrefix(strings.ToLower(raw), "https://api.prefect.cloud") {
			t.Fatalf("allowed %q", raw)
		}
	})
}

func newHeaders(t *testing.T, server *Target, locked bool) *Headers {
	t.Helper()
	return &Headers{Builder: Builder{UserAgent: "test"}, Server: func() *Target { return server }, Locked: locked,
		Allowed: func() []string { return []string{"https://api.prefect.cloud/api", "http://127.0.0.1:4200/api"} }}
}

func TestHeadersResolve(t *testing.T) {
	own, err := Builder{}.Build(Credentials{APIURL: "http://127.0.0.1:4200/api", AuthString: "operator:secret"}, "")
	if err != nil {
		t.Fatal(err)
	}
	cloud := "https://api.prefect.cloud/api/accounts/9c1b2a3d-0000-4000-8000-000000000001/workspaces/9c1b2a3d-0000-4000-8000-000000000002"
	h := newHeaders(t, own, false)
	cases := []struct {
		name    string
		headers map[string]string
		ws      string
		check   func(t *testing.T, tg *Target, err error)
	}{
		{"no headers: the server's own target", nil, "", func(t *testing.T, tg *Target, err error) {
			if err != nil || tg != own {
				t.Fatalf("got %v, %v", tg, err)
			}
		}},
		{"cloud URL and key", map[string]string{"x-prefect-api-url": cloud, "X-PREFECT-API-KEY": "pnu_k"}, "", func(t *testing.T, tg *Target, err error) {
			if err != nil || tg.Kind != Cloud || tg.Auth != AuthAPIKey || tg.AccountID == "" || tg.CloudAPIRoot != "https://api.prefect.cloud/api" {
				t.Fatalf("got %+v, %v", tg, err)
			}
		}},
		{"key only: the server URL with the caller's key, never the operator's auth string", map[string]string{"X-Prefect-Api-Key": "pnu_k"}, "", func(t *testing.T, tg *Target, err error) {
			if err != nil || tg.APIURL != own.APIURL || tg.Auth != AuthAPIKey {
				t.Fatalf("got %+v, %v", tg, err)
			}
		}},
		{"URL only: no credentials at all", map[string]string{"X-Prefect-Api-Url": "http://127.0.0.1:4200/api"}, "", func(t *testing.T, tg *Target, err error) {
			if err != nil || tg.Auth != AuthNone || tg == own {
				t.Fatalf("got %+v, %v", tg, err)
			}
		}},
		{"key and auth string: the auth string, as Prefect", map[string]string{"X-Prefect-Api-Key": "pnu_k", "X-Prefect-Api-Auth-String": "u:p"}, "", func(t *testing.T, tg *Target, err error) {
			if err != nil || tg.Auth != AuthBasic {
				t.Fatalf("got %+v, %v", tg, err)
			}
		}},
		{"URL outside the allowlist", map[string]string{"X-Prefect-Api-Url": "http://10.0.0.1/api"}, "", func(t *testing.T, _ *Target, err error) {
			if err == nil || !strings.Contains(err.Error(), "--allowed-api-url") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"relative URL", map[string]string{"X-Prefect-Api-Url": "/api"}, "", func(t *testing.T, _ *Target, err error) {
			if err == nil || !strings.Contains(err.Error(), "absolute") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"credentials inside the URL", map[string]string{"X-Prefect-Api-Url": "http://u:canary@127.0.0.1:4200/api"}, "", func(t *testing.T, _ *Target, err error) {
			if err == nil || strings.Contains(err.Error(), "canary") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"workspace_id outside OAuth mode", nil, "w", func(t *testing.T, _ *Target, err error) {
			if err == nil || !strings.Contains(err.Error(), "OAuth") {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{}
			for k, v := range tc.headers {
				hdr.Set(k, v)
			}
			tg, err := h.Resolve(context.Background(), Request{Header: hdr, WorkspaceID: tc.ws})
			tc.check(t, tg, err)
		})
	}
}

func TestHeadersLockedAndUnconfigured(t *testing.T) {
	locked := newHeaders(t, nil, true)
	_, err := locked.Resolve(context.Background(), Request{Header: http.Header{"X-Prefect-Api-Key": {"k"}}})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("locked server accepted a header: %v", err)
	}
	open := newHeaders(t, nil, false)
	if _, err := open.Resolve(context.Background(), Request{Header: http.Header{}}); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("err = %v, want ErrNotConfigured", err)
	}
	if _, err := open.Resolve(context.Background(), Request{Header: http.Header{"X-Prefect-Api-Key": {"k"}}}); err == nil || !strings.Contains(err.Error(), HeaderAPIURL) {
		t.Fatalf("key without any URL: %v", err)
	}
}

func TestUIBase(t *testing.T) {
	cases := []struct {
		api, explicit string
		kind          Kind
		want          string
	}{
		{"http://127.0.0.1:4200/api", "", SelfHosted, "http://127.0.0.1:4200"},
		{"https://prefect.example.com/prefect/api/", "", SelfHosted, "https://prefect.example.com/prefect"},
		{"http://x/api", "https://ui.example.com/", SelfHosted, "https://ui.example.com"},
		{"https://api.prefect.cloud/api/accounts/a/workspaces/w", "", Cloud, "https://app.prefect.cloud/account/a/workspace/w"},
	}
	for _, tc := range cases {
		if got := UIBase(tc.api, tc.explicit, tc.kind, "a", "w"); got != tc.want {
			t.Errorf("UIBase(%q) = %q, want %q", tc.api, got, tc.want)
		}
	}
}

// TestHeadersHostile: issue 13's header attacks (items 4-7). Each is refused
// with a message that does not echo the value, and never reaches the
// server's own target.
func TestHeadersHostile(t *testing.T) {
	own, err := Builder{}.Build(Credentials{APIURL: "http://127.0.0.1:4200/api", AuthString: "operator:secret"}, "")
	if err != nil {
		t.Fatal(err)
	}
	const acctA, acctB, ws = "0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f", "1c4f5c5f-2d2a-4f2b-8e8f-2b3c4d5e6f70", "9d7e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	h := newHeaders(t, own, false)
	h.Allowed = func() []string {
		return []string{"http://127.0.0.1:4200/api", "https://cloud.example/api/accounts/" + acctA}
	}
	cases := []struct {
		name   string
		header http.Header
		want   string
	}{
		// Item 4: the README's mcp-remote example with its variables unset
		// sends "X-Prefect-Api-Url:" and "X-Prefect-Api-Key:".
		{"mcp-remote with unset variables", http.Header{HeaderAPIURL: {""}, HeaderAPIKey: {""}}, "never uses the server's own credentials"},
		{"blank values", http.Header{HeaderAPIURL: {"  "}, HeaderAPIKey: {"\t"}, HeaderAuthString: {" "}}, "empty"},
		{"one empty key header", http.Header{HeaderAPIKey: {""}}, "empty"},
		{"misspelt header", http.Header{"X-Prefect-Api-Token": {"pnu_x"}}, "unknown header X-Prefect-Api-Token"},
		// Item 5: a gateway's pinning header plus the client's own.
		{"URL header twice", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api", "http://127.0.0.1:4200/api"}, HeaderAPIKey: {"k"}}, "more than once"},
		{"key header twice", http.Header{HeaderAPIKey: {"a", "b"}}, "more than once"},
		{"URL header twice, non-canonical spelling", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api"}, "x-prefect-api-url": {"http://127.0.0.1:4200/api"}}, "more than once"},
		{"empty key header twice, non-canonical spelling", http.Header{HeaderAPIKey: {""}, "x-prefect-api-key": {"pnu_x"}}, "more than once"},
		// Item 6: the account root cut at the first /accounts/ while the ids
		// come from the last segments escaped the allowed account.
		{"Cloud URL nested in an allowed account", http.Header{HeaderAPIURL: {"https://cloud.example/api/accounts/" + acctA + "/api/accounts/" + acctB + "/workspaces/" + ws}, HeaderAPIKey: {"k"}}, "not exactly …/api/accounts/"},
		{"workspaces segment before the tail", http.Header{HeaderAPIURL: {"https://cloud.example/api/accounts/" + acctA + "/workspaces/x/api/accounts/" + acctA + "/workspaces/" + ws}, HeaderAPIKey: {"k"}}, "not exactly"},
		// Item 7: segments a proxy or router may read as another path.
		{"tomcat ..;", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api/..;/x"}, HeaderAPIKey: {"k"}}, "unusual path"},
		{"double-encoded dots", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api/%252e%252e/x"}, HeaderAPIKey: {"k"}}, "unusual path"},
		{"encoded NUL", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api/%00"}, HeaderAPIKey: {"k"}}, "unusual path"},
		{"encoded dots", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api/%2e%2e/x"}, HeaderAPIKey: {"k"}}, "unusual path"},
		{"dot-only segment", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api/.../x"}, HeaderAPIKey: {"k"}}, "unusual path"},
		{"empty segment", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api//x"}, HeaderAPIKey: {"k"}}, "unusual path"},
		{"backslash", http.Header{HeaderAPIURL: {`http://127.0.0.1:4200/api\..\x`}, HeaderAPIKey: {"k"}}, "unusual path"},
		{"space", http.Header{HeaderAPIURL: {"http://127.0.0.1:4200/api/a b"}, HeaderAPIKey: {"k"}}, "unusual path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := h.Resolve(context.Background(), Request{Header: tc.header})
			if err == nil {
				t.Fatalf("accepted: %+v", tg)
			}
			var terr *Error
			if !errors.As(err, &terr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a *target.Error containing %q", err, tc.want)
			}
			for _, vs := range tc.header {
				for _, v := range vs {
					if len(strings.TrimSpace(v)) > 8 && strings.Contains(err.Error(), v) {
						t.Errorf("the error echoes %q", v)
					}
				}
			}
		})
	}
}

// TestCloudDerivedURLsStayInTheAllowlist: with only one workspace allowed,
// a Cloud target reads that workspace, while the URLs derived from it (the
// account root, /me/) and a redirect out of it are refused before any
// request (issue 13, items 6 and 7).
func TestCloudDerivedURLsStayInTheAllowlist(t *testing.T) {
	const acct, ws = "0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f", "9d7e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	workspace := "/api/accounts/" + acct + "/workspaces/" + ws
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path)
		mu.Unlock()
		if r.URL.Path == workspace+"/leave" {
			http.Redirect(w, r, "/api/me/", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	h := &Headers{Builder: Builder{HTTPClient: mustHTTPClient(t)}, Allowed: func() []string { return []string{srv.URL + workspace} }}
	tg, err := h.Resolve(context.Background(), Request{Header: http.Header{HeaderAPIURL: {srv.URL + workspace}, HeaderAPIKey: {"pnu_k"}}})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Kind != Cloud || tg.CloudAPIRoot != srv.URL+"/api" {
		t.Fatalf("target %+v", tg)
	}
	ctx := context.Background()
	if err := tg.Client.Get(ctx, "/flows/x", nil, nil); err != nil {
		t.Fatalf("a workspace read: %v", err)
	}
	root, err := tg.Client.WithBaseURL(tg.CloudAPIRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/me/", "/accounts/" + acct} {
		if err := root.Get(ctx, p, nil, nil); !errors.Is(err, prefect.ErrOutOfScope) {
			t.Errorf("GET %s on the account root: %v, want ErrOutOfScope", p, err)
		}
	}
	if err := tg.Client.Get(ctx, "/leave", nil, nil); prefect.StatusOf(err) != http.StatusFound {
		t.Errorf("a redirect out of the allowed workspace: %v, want the 302 itself", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range seen {
		if !strings.HasPrefix(p, workspace+"/") {
			t.Errorf("a request left the allowed workspace: %s", p)
		}
	}
}

func mustHTTPClient(t *testing.T) *http.Client {
	t.Helper()
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}
