package target

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
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
		AllowedURLs: []string{"https://api.prefect.cloud/api", "http://127.0.0.1:4200/api"}}
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
