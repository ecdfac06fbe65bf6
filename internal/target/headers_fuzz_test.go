package target

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzHeadersResolve feeds arbitrary X-Prefect-* header values: Resolve
// never panics, a target it returns is inside the allowlist and carries the
// caller's own credentials, and no error text echoes a header value.
func FuzzHeadersResolve(f *testing.F) {
	f.Add("https://api.prefect.cloud/api/accounts/a/workspaces/b", "pnu_key", "")
	f.Add("http://127.0.0.1:4200/api", "", "user:pass")
	f.Add("http://user:pw@127.0.0.1:4200/api", "", "")
	f.Add("http://127.0.0.1:4200/api/../../admin", "k", "")
	f.Add("http://169.254.169.254/latest", "k", "")
	f.Add("", "pnu_only_key", "")
	f.Add("https://api.prefect.cloud/api?x=1", "", "a:b")
	f.Add("\x00http://127.0.0.1:4200/api", "\r\n", ":")
	own, err := Builder{}.Build(Credentials{APIURL: "http://127.0.0.1:4200/api", AuthString: "operator:opsecret"}, "")
	if err != nil {
		f.Fatal(err)
	}
	allowed := []string{"https://api.prefect.cloud/api", "http://127.0.0.1:4200/api"}
	h := &Headers{Builder: Builder{UserAgent: "fuzz"}, Server: func() *Target { return own }, AllowedURLs: allowed}
	resolve := func(apiURL, key, auth string) (*Target, error) {
		hdr := http.Header{}
		for name, v := range map[string]string{HeaderAPIURL: apiURL, HeaderAPIKey: key, HeaderAuthString: auth} {
			if v != "" {
				hdr[name] = []string{v}
			}
		}
		return h.Resolve(context.Background(), Request{Header: hdr})
	}
	f.Fuzz(func(t *testing.T, apiURL, key, auth string) {
		tg, err := resolve(apiURL, key, auth)
		if err != nil {
			// Compare with the text for placeholder values: whatever the
			// message shares with the input by coincidence is not an echo.
			_, plain := resolve(placeholder(apiURL), placeholder(key), placeholder(auth))
			for _, v := range []string{strings.TrimSpace(apiURL), strings.TrimSpace(key), strings.TrimSpace(auth)} {
				if len(v) >= 6 && strings.Contains(err.Error(), v) && (plain == nil || !strings.Contains(plain.Error(), v)) {
					t.Fatalf("error echoes a header value %q: %v", v, err)
				}
			}
			return
		}
		if tg == own {
			if strings.TrimSpace(apiURL) != "" || strings.TrimSpace(key) != "" || strings.TrimSpace(auth) != "" {
				t.Fatalf("credential headers %q %q %q fell back to the server's own target", apiURL, key, auth)
			}
			return
		}
		if !URLAllowed(tg.APIURL, allowed) {
			t.Fatalf("target %q is outside the allowlist", tg.APIURL)
		}
		if tg.Auth == AuthBasic && strings.TrimSpace(auth) == "" || tg.Auth == AuthAPIKey && strings.TrimSpace(key) == "" {
			t.Fatalf("target uses credentials the caller did not send: %v", tg.Auth)
		}
		if u, err := url.Parse(tg.APIURL); err != nil || u.User != nil {
			t.Fatalf("target URL %q carries userinfo or does not parse: %v", tg.APIURL, err)
		}
	})
}

// placeholder keeps the shape of a value (empty, blank or set) without its text.
func placeholder(v string) string {
	switch {
	case v == "":
		return ""
	case strings.TrimSpace(v) == "":
		return v
	}
	return "x"
}
