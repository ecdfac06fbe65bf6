package prefect

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// countingTransport answers every request with 200 [] without any network
// I/O and counts what reached it.
type countingTransport struct{ calls atomic.Int64 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader("[]")),
		Request:    req,
	}, nil
}

// roundTrip sends method+rawURL through ReadOnlyTransport and reports whether
// it reached the network and the refusal, if any.
func roundTrip(t *testing.T, method, rawURL string, header http.Header) (reached bool, err error) {
	t.Helper()
	counter := &countingTransport{}
	req, reqErr := http.NewRequestWithContext(context.Background(), method, rawURL, strings.NewReader("{}"))
	if reqErr != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, rawURL, reqErr)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ReadOnlyTransport(counter).RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	return counter.calls.Load() > 0, err
}

func TestReadOnlyTransportPolicy(t *testing.T) {
	const base = "http://127.0.0.1:4200/api"
	const cloud = "https://api.prefect.cloud/api/accounts/0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f/workspaces/9d7e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	tests := []struct {
		name    string
		method  string
		url     string
		header  http.Header
		allowed bool
	}{
		{"filter", "POST", base + "/flow_runs/filter", nil, true},
		{"count", "POST", base + "/flow_runs/count", nil, true},
		{"history", "POST", base + "/flow_runs/history", nil, true},
		{"paginate", "POST", base + "/flows/paginate", nil, true},
		{"count-by", "POST", base + "/events/count-by/event", nil, true},
		{"nested filter", "POST", base + "/work_pools/my%20pool/queues/filter", nil, true},
		{"cloud filter", "POST", cloud + "/flow_runs/filter", nil, true},
		{"query string ignored", "POST", base + "/flow_runs/filter?x=/bulk_delete", nil, true},
		{"get", "GET", base + "/flow_runs/0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f", nil, true},
		{"head", "HEAD", base + "/health", nil, true},
		{"get with dot segments", "GET", base + "/flows/../health", nil, false},
		{"get with encoded slash", "GET", base + "/block%5Fdocuments%2Fabc", nil, false},
		{"get with escaped block documents", "GET", base + "/block%5Fdocuments/abc", nil, false},

		{"create", "POST", base + "/flow_runs/", nil, false},
		{"set_state", "POST", base + "/flow_runs/abc/set_state", nil, false},
		{"bulk delete", "POST", base + "/flows/bulk_delete", nil, false},
		{"get_runs writes", "POST", base + "/work_queues/abc/get_runs", nil, false},
		{"pool scheduled runs writes", "POST", base + "/work_pools/p/get_scheduled_flow_runs", nil, false},
		{"deployment scheduled runs writes", "POST", base + "/deployments/get_scheduled_flow_runs", nil, false},
		{"lateness", "POST", base + "/flow_runs/lateness", nil, false},
		{"templates validate", "POST", base + "/templates/validate", nil, false},
		{"ui schemas validate", "POST", base + "/ui/schemas/validate", nil, false},
		{"encoded slash", "POST", base + "/flows/bulk_delete%2Ffilter", nil, false},
		{"encoded slash lowercase", "POST", base + "/flows/bulk_delete%2ffilter", nil, false},
		{"encoded backslash", "POST", base + "/flows/bulk_delete%5Cfilter", nil, false},
		{"dot dot after filter", "POST", base + "/flows/filter/../bulk_delete", nil, false},
		{"dot dot before filter", "POST", base + "/flows/bulk_delete/../filter", nil, false},
		{"encoded dot dot", "POST", base + "/flows/bulk_delete/%2E%2E/filter", nil, false},
		{"single dot", "POST", base + "/flows/./filter", nil, false},
		{"trailing slash", "POST", base + "/flows/filter/", nil, false},
		{"double slash", "POST", base + "/flows//filter", nil, false},
		{"upper case", "POST", base + "/flows/FILTER", nil, false},
		{"escaped suffix", "POST", base + "/flows/%66ilter", nil, false},
		{"suffix with semicolon", "POST", base + "/flows/filter;x", nil, false},
		{"count-by without countable", "POST", base + "/events/count-by/", nil, false},
		{"count-by odd countable", "POST", base + "/events/count-by/a%20b", nil, false},
		{"patch", "PATCH", base + "/flow_runs/abc", nil, false},
		{"put", "PUT", base + "/variables/name/x", nil, false},
		{"delete", "DELETE", base + "/flows/abc", nil, false},
		{"options", "OPTIONS", base + "/flows/filter", nil, false},
		{"lowercase method", "post", base + "/flows/filter", nil, false},
		{"method override", "POST", base + "/flows/filter", http.Header{"X-Http-Method-Override": {"DELETE"}}, false},
		{"block documents filter", "POST", base + "/block_documents/filter", nil, false},
		{"block document read", "GET", base + "/block_documents/abc", nil, false},
		{"block documents by type", "GET", base + "/block_types/slug/aws/block_documents", nil, false},
		// GETs with side effects (issue 13, item 11).
		{"csrf token", "GET", base + "/csrf-token?client=x", nil, false},
		{"csrf token, trailing slash", "GET", base + "/csrf-token/", nil, false},
		{"csrf token, case", "HEAD", base + "/CSRF-Token", nil, false},
		{"csrf token, escaped", "GET", base + "/csrf%2Dtoken", nil, false},
		{"csrf token, cloud", "GET", cloud + "/csrf-token", nil, false},
		{"collections view", "GET", base + "/collections/views/aggregate-worker-metadata", nil, false},
		{"collections view, escaped", "GET", base + "/collections/view%73/demo-flows", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached, err := roundTrip(t, tt.method, tt.url, tt.header)
			if tt.allowed {
				if err != nil || !reached {
					t.Fatalf("%s %s: want allowed, got reached=%v err=%v", tt.method, tt.url, reached, err)
				}
				return
			}
			if reached {
				t.Fatalf("%s %s reached the network", tt.method, tt.url)
			}
			var refused *WriteRefusedError
			if !errors.As(err, &refused) || !errors.Is(err, ErrWriteRefused) {
				t.Fatalf("%s %s: want *WriteRefusedError, got %v", tt.method, tt.url, err)
			}
			if refused.Method != tt.method || !strings.Contains(err.Error(), refused.Path) || refused.Path == "" {
				t.Fatalf("refusal does not name method and path: %+v", refused)
			}
		})
	}
}

// exampleParams gives each path parameter of the document a concrete value;
// names need escaping to prove escaped segments are judged correctly.
var exampleParams = map[string]string{
	"countable": "event",
	"name":      "my pool ü",
}

var paramPattern = regexp.MustCompile(`\{([^}]+)\}`)

func concretePath(template string) string {
	return paramPattern.ReplaceAllStringFunc(template, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := exampleParams[name]; ok {
			return escapeSegment(v)
		}
		return "0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f"
	})
}

// readPosts is every POST of the OpenAPI document that reads, spelled out
// rather than derived from the policy so that the policy is checked against it.
var readPosts = map[string]bool{
	"/artifacts/count": true, "/artifacts/filter": true,
	"/artifacts/latest/count": true, "/artifacts/latest/filter": true,
	"/automations/count": true, "/automations/filter": true,
	"/block_schemas/filter": true, "/block_types/filter": true,
	"/concurrency_limits/filter": true,
	"/deployments/count":         true, "/deployments/filter": true, "/deployments/paginate": true,
	"/events/count-by/{countable}": true, "/events/filter": true,
	"/flow_runs/count": true, "/flow_runs/filter": true, "/flow_runs/history": true, "/flow_runs/paginate": true,
	"/flow_runs/{id}/input/filter": true,
	"/flows/count":                 true, "/flows/filter": true, "/flows/paginate": true,
	"/logs/filter":           true,
	"/saved_searches/filter": true,
	"/task_runs/count":       true, "/task_runs/filter": true, "/task_runs/history": true, "/task_runs/paginate": true,
	"/task_workers/filter":  true,
	"/ui/flow_runs/history": true, "/ui/task_runs/count": true,
	"/v2/concurrency_limits/filter": true,
	"/variables/count":              true, "/variables/filter": true,
	"/work_pools/count": true, "/work_pools/filter": true,
	"/work_pools/{work_pool_name}/queues/filter":  true,
	"/work_pools/{work_pool_name}/workers/filter": true,
	"/work_queues/filter":                         true,
}

// sideEffectGETs are the GET routes of the document that change something
// or reach out (see checkReadOnly's review); reviewedGETs are all the others,
// each checked to be a plain read. A GET in neither list fails the walk: a
// new Prefect route must be reviewed before the policy lets it through.
var sideEffectGETs = map[string]bool{"/csrf-token": true, "/collections/views/{view}": true}

var reviewedGETs = map[string]bool{
	"/admin/settings": true, "/admin/storage": true, "/admin/version": true,
	"/artifacts/{id}": true, "/artifacts/{key}/latest": true,
	"/automations/related-to/{resource_id}": true, "/automations/{id}": true,
	"/block_capabilities/": true, "/block_schemas/checksum/{checksum}": true, "/block_schemas/{id}": true,
	"/block_types/slug/{slug}": true, "/block_types/{id}": true,
	"/concurrency_limits/tag/{tag}": true, "/concurrency_limits/{id}": true,
	"/deployments/name/{flow_name}/{deployment_name}": true, "/deployments/{id}": true,
	"/deployments/{id}/schedules": true, "/deployments/{id}/work_queue_check": true,
	"/events/filter/next": true, "/flow_run_states/": true, "/flow_run_states/{id}": true,
	"/flow_runs/{id}": true, "/flow_runs/{id}/graph": true, "/flow_runs/{id}/graph-v2": true,
	"/flow_runs/{id}/input/{key}": true, "/flow_runs/{id}/logs/download": true,
	"/flows/name/{name}": true, "/flows/{id}": true, "/health": true, "/hello": true, "/ready": true,
	"/saved_searches/{id}": true, "/task_run_states/": true, "/task_run_states/{id}": true,
	"/task_runs/{id}": true, "/ui/task_runs/{id}": true, "/v2/concurrency_limits/{id_or_name}": true,
	"/variables/name/{name}": true, "/variables/{id}": true, "/version": true,
	"/work_pools/{name}": true, "/work_pools/{work_pool_name}/queues/{name}": true,
	"/work_queues/name/{name}": true, "/work_queues/{id}": true, "/work_queues/{id}/status": true,
}

type route struct{ Method, Path string }

// openAPIRoutes lists every operation of the OpenAPI document in the
// repository. It is parsed here rather than through package openapi so that
// this safety test depends on nothing but the document itself.
func openAPIRoutes(t *testing.T) []route {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "openapi", "prefect-openapi.json"))
	if err != nil {
		t.Fatalf("reading the OpenAPI document: %v", err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parsing the OpenAPI document: %v", err)
	}
	var routes []route
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "head", "post", "put", "patch", "delete", "options", "trace":
				routes = append(routes, route{strings.ToUpper(method), path})
			}
		}
	}
	slices.SortFunc(routes, func(a, b route) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	return routes
}

func TestReadOnlyTransportWalksEveryOpenAPIRoute(t *testing.T) {
	routes := openAPIRoutes(t)
	if len(routes) < 150 {
		t.Fatalf("only %d routes in the document", len(routes))
	}
	seenReadPosts := map[string]bool{}
	var allowed, refused int
	for _, route := range routes {
		wantAllowed := false
		switch {
		case strings.Contains(route.Path, "/block_documents"):
			wantAllowed = false // secrets
		case route.Method == "GET" || route.Method == "HEAD":
			if !reviewedGETs[route.Path] && !sideEffectGETs[route.Path] {
				t.Errorf("GET %s is not reviewed for side effects: add it to reviewedGETs or sideEffectGETs (and to checkReadOnly's review)", route.Path)
			}
			wantAllowed = !sideEffectGETs[route.Path]
		case route.Method == "POST":
			wantAllowed = readPosts[route.Path]
			seenReadPosts[route.Path] = wantAllowed
		}
		path := concretePath(route.Path)
		reached, err := roundTrip(t, route.Method, "http://127.0.0.1:4200/api"+path, nil)
		switch {
		case wantAllowed && (err != nil || !reached):
			t.Errorf("%s %s (%s) should be allowed: %v", route.Method, route.Path, path, err)
		case !wantAllowed && reached:
			t.Errorf("%s %s (%s) is a write or secret and reached the network", route.Method, route.Path, path)
		case !wantAllowed && !errors.Is(err, ErrWriteRefused):
			t.Errorf("%s %s: want ErrWriteRefused, got %v", route.Method, route.Path, err)
		}
		if wantAllowed {
			allowed++
		} else {
			refused++
		}
	}
	for path := range readPosts {
		if !seenReadPosts[path] && !strings.Contains(path, "block_documents") {
			t.Errorf("read table lists POST %s, which the document does not have", path)
		}
	}
	t.Logf("%d routes allowed, %d refused", allowed, refused)
}

// TestToolRoutesAllowed pins the reads the tools use, Cloud-only ones included.
func TestToolRoutesAllowed(t *testing.T) {
	const id = "0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f"
	routes := []struct{ method, path string }{
		{"GET", "/health"}, {"GET", "/ready"}, {"GET", "/version"}, {"GET", "/admin/version"},
		{"GET", Path("/flows/%s", id)}, {"GET", Path("/flow_runs/%s", id)},
		{"GET", "/flow_run_states/"}, {"GET", "/task_run_states/"},
		{"GET", Path("/deployments/%s", id)},
		{"GET", Path("/deployments/name/%s/%s", "etl pipeline", "prod ü")},
		{"GET", Path("/work_pools/%s", "local process pool")},
		{"GET", Path("/work_queues/%s", id)}, {"GET", Path("/work_queues/%s/status", id)},
		{"GET", Path("/v2/concurrency_limits/%s", "tag:etl")},
		{"GET", Path("/automations/%s", id)},
		{"GET", Path("/automations/related-to/%s", "prefect.flow-run."+id)},
		{"GET", "/events/filter/next"},
		{"GET", Path("/variables/name/%s", "my var")},
		{"GET", "/me/"}, {"GET", Path("/accounts/%s", id)},
		{"GET", Path("/accounts/%s/workspaces/%s", id, id)},
		{"GET", Path("/accounts/%s/rate-limits/usage", id)},
		{"POST", "/flows/filter"}, {"POST", "/flow_runs/filter"}, {"POST", "/task_runs/filter"},
		{"POST", "/logs/filter"}, {"POST", "/deployments/filter"}, {"POST", "/work_pools/filter"},
		{"POST", Path("/work_pools/%s/queues/filter", "local process pool")},
		{"POST", Path("/work_pools/%s/workers/filter", "local process pool")},
		{"POST", "/work_queues/filter"}, {"POST", "/v2/concurrency_limits/filter"},
		{"POST", "/concurrency_limits/filter"}, {"POST", "/automations/filter"},
		{"POST", "/events/filter"}, {"POST", "/artifacts/filter"}, {"POST", "/variables/filter"},
		{"POST", "/flow_runs/count"}, {"POST", "/task_runs/count"}, {"POST", "/deployments/count"},
		{"POST", "/flow_runs/history"}, {"POST", "/events/count-by/event"}, {"POST", "/events/count-by/day"},
	}
	for _, r := range routes {
		reached, err := roundTrip(t, r.method, "http://127.0.0.1:4200/api"+r.path, nil)
		if err != nil || !reached {
			t.Errorf("%s %s refused: %v", r.method, r.path, err)
		}
	}
}

func TestNewHTTPClientTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("true"))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    TLSOptions
		wantTLS bool
	}{
		{"system roots reject the test CA", TLSOptions{}, true},
		{"insecure skip verify", TLSOptions{InsecureSkipVerify: true}, false},
		{"CA file", TLSOptions{CAFile: caFile}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := NewHTTPClient(tt.opts, 0)
			if err != nil {
				t.Fatal(err)
			}
			c := newTestClient(t, srv.URL+"/api", hc, nil)
			var healthy bool
			err = c.Get(context.Background(), "/health", nil, &healthy)
			if !tt.wantTLS {
				if err != nil || !healthy {
					t.Fatalf("want success, got %v (healthy=%v)", err, healthy)
				}
				return
			}
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != KindTLS {
				t.Fatalf("want TransportError kind tls, got %#v", err)
			}
			if !strings.Contains(err.Error(), srv.URL+"/api") || !strings.Contains(err.Error(), "TLS") {
				t.Fatalf("error should name the API URL and TLS: %v", err)
			}
		})
	}
}

func TestNewHTTPClientSettings(t *testing.T) {
	hc, err := NewHTTPClient(TLSOptions{}, 7e9)
	if err != nil {
		t.Fatal(err)
	}
	ro, ok := hc.Transport.(readOnlyTransport)
	if !ok {
		t.Fatalf("transport is %T, want the read-only transport", hc.Transport)
	}
	tr, ok := ro.next.(*http.Transport)
	if !ok {
		t.Fatalf("inner transport is %T", ro.next)
	}
	if tr.MaxIdleConnsPerHost < 2 || tr.TLSHandshakeTimeout == 0 || tr.ResponseHeaderTimeout != 7e9 || hc.Timeout != 7e9 {
		t.Fatalf("transport limits not set: %+v timeout %v", tr, hc.Timeout)
	}
	if tr.TLSClientConfig.MinVersion < tls.VersionTLS12 {
		t.Fatal("TLS below 1.2 allowed")
	}

	badCA := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(badCA, []byte("not a certificate"), 0o600)
	for _, opts := range []TLSOptions{{CAFile: badCA}, {CAFile: filepath.Join(t.TempDir(), "missing.pem")}} {
		if _, err := NewHTTPClient(opts, 0); err == nil {
			t.Errorf("NewHTTPClient(%+v) accepted an unusable CA file", opts)
		}
	}
	if _, err := NewHTTPClient(TLSOptions{}, -1); err == nil {
		t.Error("negative timeout accepted")
	}
}

// TestNewWrapsForeignClient proves a client not built by NewHTTPClient is
// still read-only.
func TestNewWrapsForeignClient(t *testing.T) {
	counter := &countingTransport{}
	c, err := New(Config{BaseURL: "http://127.0.0.1:4200/api"}, &http.Client{Transport: counter})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Post(context.Background(), "/flow_runs/bulk_delete", nil, nil)
	if !errors.Is(err, ErrWriteRefused) || counter.calls.Load() != 0 {
		t.Fatalf("want refusal without I/O, got %v after %d calls", err, counter.calls.Load())
	}
	if err := c.Post(context.Background(), "/flow_runs/filter", nil, nil); err != nil || counter.calls.Load() != 1 {
		t.Fatalf("read refused: %v", err)
	}
}

func TestRedirects(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect to another origin was followed, Authorization=%q", r.Header.Get("Authorization"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/same":
			http.Redirect(w, r, "/api/health", http.StatusTemporaryRedirect)
		case "/api/health":
			w.Write([]byte("true"))
		case "/api/leave":
			http.Redirect(w, r, "/admin/x", http.StatusTemporaryRedirect) // same origin, outside /api
		case "/api/tenant-a":
			http.Redirect(w, r, "/api/tenant-b/flows", http.StatusTemporaryRedirect) // under /api, outside AllowURL
		case "/admin/x", "/api/tenant-b/flows":
			t.Errorf("redirect outside the scope was followed to %s, Authorization=%q", r.URL.Path, r.Header.Get("Authorization"))
		default:
			http.Redirect(w, r, other.URL+"/steal?token=x", http.StatusFound)
		}
	}))
	defer srv.Close()
	hc, err := NewHTTPClient(TLSOptions{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, srv.URL+"/api", hc, func(cfg *Config) { cfg.APIKey = "pnu_secret" })
	var ok bool
	if err := c.Get(context.Background(), "/same", nil, &ok); err != nil || !ok {
		t.Fatalf("same-origin redirect: %v", err)
	}
	err = c.Get(context.Background(), "/elsewhere", nil, &ok)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusFound || !strings.Contains(apiErr.Detail, other.URL+"/steal") {
		t.Fatalf("want 302 APIError naming the target, got %v", err)
	}
	if strings.Contains(err.Error(), "token=x") {
		t.Fatalf("redirect query leaked into the error: %v", err)
	}
	if err := c.Get(context.Background(), "/leave", nil, nil); StatusOf(err) != http.StatusTemporaryRedirect {
		t.Fatalf("redirect out of the base path: want the 307 itself, got %v", err)
	}
	scoped := newTestClient(t, srv.URL+"/api", hc, func(cfg *Config) {
		cfg.APIKey = "pnu_secret"
		cfg.AllowURL = func(u *url.URL) bool { return !strings.HasPrefix(u.Path, "/api/tenant-b") }
	})
	if err := scoped.Get(context.Background(), "/tenant-a", nil, nil); StatusOf(err) != http.StatusTemporaryRedirect {
		t.Fatalf("redirect refused by AllowURL: want the 307 itself, got %v", err)
	}
}

// TestScopeRefusedWithoutIO: a URL outside the client's scope — another base
// from WithBaseURL that AllowURL refuses — is refused before any request.
func TestScopeRefusedWithoutIO(t *testing.T) {
	srv, counter := scriptedServer(t, step{status: 200, body: "[]"})
	c := newTestClient(t, srv.URL+"/api/accounts/a", nil, func(cfg *Config) {
		cfg.AllowURL = func(u *url.URL) bool { return strings.HasPrefix(u.EscapedPath(), "/api/accounts/a") }
	})
	if err := c.Get(context.Background(), "/flows", nil, nil); err != nil {
		t.Fatalf("a URL in scope: %v", err)
	}
	before := counter.Load()
	root, err := c.WithBaseURL(srv.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	err = root.Get(context.Background(), "/me/", nil, nil)
	if !errors.Is(err, ErrOutOfScope) || counter.Load() != before {
		t.Fatalf("want ErrOutOfScope without I/O, got %v after %d requests", err, counter.Load()-before)
	}
	if !strings.Contains(err.Error(), "/api/me/") {
		t.Errorf("the error does not name the URL: %v", err)
	}
}

// FuzzCheckReadOnly checks the policy against the way Prefect's router reads
// a path: decoded first, then split. Whatever passes must, once decoded, be
// free of dot segments and block documents, and a POST must end in a read
// endpoint.
func FuzzCheckReadOnly(f *testing.F) {
	for _, seed := range []string{"/api/flows/filter", "/api/flows/%2E%2E/filter", "/api/events/count-by/day",
		"/api/flows/filter/../bulk_delete", "/api/x%2Ffilter", "/api//count", "/api/block%5Fdocuments/filter"} {
		f.Add("POST", seed)
		f.Add("GET", seed)
	}
	f.Fuzz(func(t *testing.T, method, rawPath string) {
		u, err := url.Parse("http://127.0.0.1:4200" + rawPath)
		if err != nil || u.Host != "127.0.0.1:4200" {
			return
		}
		req := &http.Request{Method: method, URL: u, Header: http.Header{}}
		if checkReadOnly(req) != nil {
			return
		}
		if method != "" && method != "GET" && method != "HEAD" && method != "POST" {
			t.Fatalf("method %q allowed", method)
		}
		decoded, err := url.PathUnescape(u.EscapedPath())
		if err != nil {
			t.Fatalf("allowed an undecodable path %q", u.EscapedPath())
		}
		parts := strings.Split(decoded, "/")
		for i, p := range parts {
			if p == "." || p == ".." || p == "block_documents" || (p == "" && i > 0 && i < len(parts)-1) {
				t.Fatalf("%s %q allowed; decoded %q", method, u.EscapedPath(), decoded)
			}
		}
		if method == "POST" {
			last := parts[len(parts)-1]
			countBy := len(parts) >= 2 && parts[len(parts)-2] == "count-by" && last != ""
			if !readSuffixes[last] && !countBy {
				t.Fatalf("POST %q allowed; decoded %q", u.EscapedPath(), decoded)
			}
		}
	})
}
