package target

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzHeadersResolve feeds arbitrary X-Prefect-* headers: Resolve never
// panics; a request carrying any X-Prefect-* header (even empty, duplicated
// or unknown) never gets the server's own target; a target it returns is
// inside the allowlist, strictly parsed when Cloud-shaped, and carries the
// caller's own credentials; no error text echoes a header value.
//
// mask picks the shape of the request: bits 0-2 send the URL, key and auth
// string headers even when empty (a set value is always sent), bit 3 sends
// the URL header twice, bit 4 adds an unknown X-Prefect-* header.
func FuzzHeadersResolve(f *testing.F) {
	const account, workspace = "0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f", "9d7e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	for _, seed := range []struct {
		url, key, auth string
		mask           byte
	}{
		{"https://api.prefect.cloud/api/accounts/a/workspaces/b", "pnu_key", "", 0},
		{"http://127.0.0.1:4200/api", "", "user:pass", 0},
		{"http://user:pw@127.0.0.1:4200/api", "", "", 0},
		{"http://127.0.0.1:4200/api/../../admin", "k", "", 0},
		{"http://169.254.169.254/latest", "k", "", 0},
		{"", "pnu_only_key", "", 0},
		{"https://api.prefect.cloud/api?x=1", "", "a:b", 0},
		{"\x00http://127.0.0.1:4200/api", "\r\n", ":", 0},
		// issue 13: empty headers (mcp-remote with PREFECT_API_KEY unset),
		// duplicates, unknown names, ambiguous segments, Cloud-shaped escapes.
		{"", "", "", 0b011},
		{"", "", "", 0b111},
		{"   ", "", "", 0b001},
		{"http://127.0.0.1:4200/api", "k", "", 0b1000},
		{"", "", "", 0b10000},
		{"http://127.0.0.1:4200/api/..;/x", "k", "", 0},
		{"http://127.0.0.1:4200/api/%252e%252e/x", "k", "", 0},
		{"http://127.0.0.1:4200/api/%00", "k", "", 0},
		{"http://127.0.0.1:4200/api/.%2e/x", "k", "", 0},
		{"http://127.0.0.1:4200/api/x;y", "k", "", 0},
		{"http://127.0.0.1:4200/api/...", "k", "", 0},
		{"http://127.0.0.1:4200/api\\..\\x", "k", "", 0},
		{"https://cloud.example/api/accounts/" + account + "/api/accounts/" + workspace + "/workspaces/" + workspace, "k", "", 0},
		{"https://cloud.example/api/accounts/" + account + "/workspaces/" + workspace, "k", "", 0},
	} {
		f.Add(seed.url, seed.key, seed.auth, seed.mask)
	}
	own, err := Builder{}.Build(Credentials{APIURL: "http://127.0.0.1:4200/api", AuthString: "operator:opsecret"}, "")
	if err != nil {
		f.Fatal(err)
	}
	allowed := []string{"https://api.prefect.cloud/api", "http://127.0.0.1:4200/api", "https://cloud.example/api/accounts/" + account}
	h := &Headers{Builder: Builder{UserAgent: "fuzz"}, Server: func() *Target { return own }, Allowed: func() []string { return allowed }}
	resolve := func(apiURL, key, auth string, mask byte) (*Target, error) {
		hdr := http.Header{}
		for i, kv := range [][2]string{{HeaderAPIURL, apiURL}, {HeaderAPIKey, key}, {HeaderAuthString, auth}} {
			if kv[1] != "" || mask&(1<<i) != 0 {
				hdr[kv[0]] = []string{kv[1]}
			}
		}
		for mask&0b1000 != 0 && len(hdr[HeaderAPIURL]) < 2 {
			hdr[HeaderAPIURL] = append(hdr[HeaderAPIURL], "http://127.0.0.1:4200/api")
		}
		if mask&0b10000 != 0 {
			hdr["X-Prefect-Api-Token"] = []string{"t"}
		}
		return h.Resolve(context.Background(), Request{Header: hdr})
	}
	f.Fuzz(func(t *testing.T, apiURL, key, auth string, mask byte) {
		mask &= 0b11111
		tg, err := resolve(apiURL, key, auth, mask)
		if err != nil {
			// Compare with the text for placeholder values: whatever the
			// message shares with the input by coincidence is not an echo.
			_, plain := resolve(placeholder(apiURL), placeholder(key), placeholder(auth), mask)
			for _, v := range []string{strings.TrimSpace(apiURL), strings.TrimSpace(key), strings.TrimSpace(auth)} {
				if len(v) >= 6 && strings.Contains(err.Error(), v) && (plain == nil || !strings.Contains(plain.Error(), v)) {
					t.Fatalf("error echoes a header value %q: %v", v, err)
				}
			}
			return
		}
		sent := mask != 0 || apiURL != "" || key != "" || auth != ""
		if tg == own {
			if sent {
				t.Fatalf("X-Prefect-* headers %q %q %q (mask %05b) fell back to the server's own target", apiURL, key, auth, mask)
			}
			return
		}
		if mask&0b11000 != 0 {
			t.Fatalf("a duplicated or unknown X-Prefect-* header was accepted (mask %05b)", mask)
		}
		if strings.TrimSpace(apiURL) == "" {
			if tg.APIURL != own.APIURL {
				t.Fatalf("no URL header, yet the target is %q", tg.APIURL)
			}
		} else if !URLAllowed(tg.APIURL, allowed) {
			t.Fatalf("target %q is outside the allowlist", tg.APIURL)
		}
		if tg.Auth == AuthBasic && strings.TrimSpace(auth) == "" || tg.Auth == AuthAPIKey && strings.TrimSpace(key) == "" || tg.Auth == AuthNone && strings.TrimSpace(key+auth) != "" {
			t.Fatalf("target uses credentials the caller did not send: %v", tg.Auth)
		}
		if tg.Kind == Cloud && !strings.EqualFold(tg.APIURL, tg.CloudAPIRoot+"/accounts/"+tg.AccountID+"/workspaces/"+tg.WorkspaceID) {
			t.Fatalf("Cloud target %q read loosely: root %q", tg.APIURL, tg.CloudAPIRoot)
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
