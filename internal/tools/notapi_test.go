package tools_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// TestURLThatIsNotTheAPI: a URL without /api, or one that serves HTML (the
// UI, a login proxy, `python -m http.server`), is named as the problem; it
// used to answer "Not found … check the id" or "server side, retry".
func TestURLThatIsNotTheAPI(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	page := "<!DOCTYPE html><html><head><title>Prefect</title></head><body><div id=app></div></body></html>"
	html := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(page))
		}
	}
	// python3 -m http.server: GET of a missing file is an HTML 404, POST an
	// HTML 501.
	pyServer := func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusNotFound
		if r.Method == http.MethodPost {
			status = http.StatusNotImplemented
		}
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`<!DOCTYPE HTML><html lang="en"><head><meta charset="utf-8"><title>Error response</title></head><body><h1>Error response</h1><p>Error code: 501</p></body></html>`))
	}
	login := func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/oauth2/sign_in", http.StatusFound) }
	cases := []struct {
		name    string
		handler http.Handler // nil: the fake itself, with apiURL
		path    string       // appended to the server URL
		want    []string
	}{
		{"the server root, without /api", nil, "", []string{"does not end in /api", "Prefect API URLs end in /api", fake.URL}},
		{"UI page (200 HTML)", html(http.StatusOK), "/api", []string{"serves HTML, not the Prefect API", "Prefect API URLs end in /api"}},
		{"UI page, no /api", html(http.StatusOK), "", []string{"serves HTML, not the Prefect API", "here probably"}},
		{"proxy login page (401 HTML)", html(http.StatusUnauthorized), "/api", []string{"serves HTML, not the Prefect API", "login proxy"}},
		{"proxy login redirect", http.HandlerFunc(login), "/api", []string{"redirects", "not the Prefect API", "302", "sign_in"}},
		{"python -m http.server", http.HandlerFunc(pyServer), "", []string{"serves HTML, not the Prefect API", "Error response"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			apiURL := strings.TrimSuffix(fake.URL, "/api") + tc.path
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				apiURL = srv.URL + tc.path
			}
			// Not faultEnv: the POSTs to unknown routes (no /api) count as
			// writes for the fake's detector, and they are the point here.
			tgt := buildTarget(t, httpClient(t, prefect.TLSOptions{}, 5*time.Second), apiURL)
			e := connect(t, fake, &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: func() time.Time { return now }}, tools.Selection{Kind: target.SelfHosted, KindKnown: true})
			for _, call := range []struct {
				tool string
				args map[string]any
			}{
				{"get_flows", nil}, // POST /flows/filter
				{"get_flow_run_logs", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "amber-otter")}},
				// A GET by id or name: its 404 once answered "was not found".
				{"diagnose_flow_run", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "crimson-falcon")}},
				{"get_variables", map[string]any{"name": "environment"}},
				{"get_work_queues", map[string]any{"work_pool_name": "k8s-pool"}},
				{"diagnose_late_runs", map[string]any{"work_pool_name": "k8s-pool"}},
			} {
				text, isErr := e.callWithin(t, call.tool, call.args)
				if !isErr {
					t.Fatalf("%s succeeded: %s", call.tool, text)
				}
				for _, w := range tc.want {
					if !strings.Contains(text, w) {
						t.Errorf("%s: the answer lacks %q:\n%s", call.tool, w, text)
					}
				}
				for _, wrong := range []string{"Check the id", "server side", "retry shortly", "not found", "is named"} {
					if strings.Contains(text, wrong) {
						t.Errorf("%s: the answer still says %q:\n%s", call.tool, wrong, text)
					}
				}
			}
		})
	}
}

// TestCloudDNSFailurePointsAtTheNetwork: a Prefect Cloud host that does not
// resolve means this machine cannot resolve names; the URL is not at fault.
func TestCloudDNSFailurePointsAtTheNetwork(t *testing.T) {
	noDNS := &http.Client{Transport: &http.Transport{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}}}
	const cloudURL = "https://api.prefect.cloud/api/accounts/0f4e6e3b-5c2e-4f39-9d6b-3f7f5c1d2a10/workspaces/8a1d7c3e-2b4f-4e6a-9c8d-1e2f3a4b5c6d"
	for _, tc := range []struct {
		url  string
		want []string
		not  string
	}{
		{cloudURL, []string{"Prefect Cloud host", "network", "HTTPS_PROXY"}, "Check PREFECT_API_URL"},
		{"http://prefect.internal.example/api", []string{"does not resolve", "PREFECT_API_URL"}, "HTTPS_PROXY"},
	} {
		tgt, err := target.Builder{HTTPClient: noDNS, UserAgent: "prefect-mcp/test"}.Build(target.Credentials{APIURL: tc.url, APIKey: "pnu_test"}, "")
		if err != nil {
			t.Fatal(err)
		}
		fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
		t.Cleanup(fake.Close)
		e := connect(t, fake, &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: func() time.Time { return now }}, tools.Selection{Kind: tgt.Kind, KindKnown: true})
		text, isErr := e.callWithin(t, "get_flows", nil)
		if !isErr {
			t.Fatalf("%s: no error: %s", tc.url, text)
		}
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the answer lacks %q:\n%s", tc.url, w, text)
			}
		}
		if strings.Contains(text, tc.not) {
			t.Errorf("%s: the answer says %q:\n%s", tc.url, tc.not, text)
		}
	}
}
