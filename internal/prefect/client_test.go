package prefect

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRequestHeaders(t *testing.T) {
	tests := []struct {
		name       string
		apiKey     string
		authString string
		wantAuth   string
	}{
		{"api key", "pnu_key123", "", "Bearer pnu_key123"},
		{"auth string", "", "admin:s3cret", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))},
		{"both: auth string wins, as in Prefect", "pnb_key456", "admin:s3cret", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))},
		{"none", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got http.Header
			var gotBody string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				b, _ := io.ReadAll(r.Body)
				gotBody = string(b)
				w.Write([]byte("[]"))
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL+"/api", nil, func(cfg *Config) {
				cfg.APIKey, cfg.AuthString = tt.apiKey, tt.authString
			})
			if err := c.Post(context.Background(), "/flow_runs/filter", nil, nil); err != nil {
				t.Fatal(err)
			}
			_, hasAuth := got["Authorization"]
			if got.Get("Authorization") != tt.wantAuth || hasAuth != (tt.wantAuth != "") {
				t.Errorf("Authorization = %q, want %q", got.Get("Authorization"), tt.wantAuth)
			}
			want := map[string]string{
				"User-Agent":            "prefect-mcp/test",
				"X-Prefect-Api-Version": APIVersion,
				"Content-Type":          "application/json",
				"Accept":                "application/json",
			}
			for k, v := range want {
				if got.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Get(k), v)
				}
			}
			if _, ok := got["Idempotency-Key"]; ok {
				t.Error("Idempotency-Key marker was sent on the wire")
			}
			if gotBody != "{}" {
				t.Errorf("nil body sent as %q, want {}", gotBody)
			}
		})
	}
}

func TestDefaultUserAgent(t *testing.T) {
	var ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.UserAgent()
		w.Write([]byte("true"))
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/api"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Get(context.Background(), "/health", nil, nil); err != nil {
		t.Fatal(err)
	}
	if ua != DefaultUserAgent {
		t.Fatalf("User-Agent = %q, want %q", ua, DefaultUserAgent)
	}
}

func TestNewValidatesBaseURL(t *testing.T) {
	const secret = "hunter2-CANARY"
	tests := []struct {
		name    string
		url     string
		want    string // BaseURL() on success
		wantErr string
	}{
		{"self-hosted", "http://127.0.0.1:4200/api", "http://127.0.0.1:4200/api", ""},
		{"trailing slash", "http://localhost:4200/api/", "http://localhost:4200/api", ""},
		{"spaces trimmed", "  https://prefect.example.com/api \n", "https://prefect.example.com/api", ""},
		{"cloud", "https://api.prefect.cloud/api/accounts/a/workspaces/w", "https://api.prefect.cloud/api/accounts/a/workspaces/w", ""},
		{"empty", "", "", "empty"},
		{"relative", "/api", "", "absolute"},
		{"no scheme", "localhost:4200/api", "", "absolute"},
		{"ftp", "ftp://host/api", "", "absolute"},
		{"no host", "http:///api", "", "no host"},
		{"credentials", "http://admin:" + secret + "@host:4200/api", "", "credentials"},
		{"user only", "http://" + secret + "@host:4200/api", "", "credentials"},
		{"unparsable with credentials", "http://admin:" + secret + "@ho st/api", "", "not a valid URL"},
		{"query", "http://host/api?key=" + secret, "", "query"},
		{"fragment", "http://host/api#x", "", "fragment"},
		{"dot segment", "http://host/api/../x", "", "path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{BaseURL: tt.url}, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New(%q): %v", tt.url, err)
				}
				if c.BaseURL() != tt.want {
					t.Fatalf("BaseURL() = %q, want %q", c.BaseURL(), tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New(%q) error = %v, want it to mention %q", tt.url, err, tt.wantErr)
			}
			assertNoSecrets(t, err, secret)
		})
	}
	if _, err := New(Config{BaseURL: "http://h/api", MaxResponseBytes: -1}, nil); err == nil {
		t.Error("negative MaxResponseBytes accepted")
	}
}

func TestPath(t *testing.T) {
	tests := []struct {
		format   string
		segments []string
		want     string
	}{
		{"/flows/%s", []string{"0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f"}, "/flows/0b3e4b4e-1c1f-4e1a-9d7e-1a2b3c4d5e6f"},
		{"/deployments/name/%s/%s", []string{"etl pipeline", "prod"}, "/deployments/name/etl%20pipeline/prod"},
		{"/variables/name/%s", []string{"a/b"}, "/variables/name/a%2Fb"},
		{"/variables/name/%s", []string{"ünï"}, "/variables/name/%C3%BCn%C3%AF"},
		{"/variables/name/%s", []string{"x?y#z"}, "/variables/name/x%3Fy%23z"},
		{"/variables/name/%s", []string{"50%"}, "/variables/name/50%25"},
		{"/variables/name/%s", []string{".."}, "/variables/name/%2E%2E"},
		{"/variables/name/%s", []string{"."}, "/variables/name/%2E"},
		{"/v2/concurrency_limits/%s", []string{"tag:etl"}, "/v2/concurrency_limits/tag:etl"},
	}
	for _, tt := range tests {
		if got := Path(tt.format, tt.segments...); got != tt.want {
			t.Errorf("Path(%q, %q) = %q, want %q", tt.format, tt.segments, got, tt.want)
		}
	}
}

func TestPathAndQueryReachServer(t *testing.T) {
	var gotPath, gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery = r.URL.EscapedPath(), r.URL.RawQuery
		w.Write([]byte(`{"name":"x"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL+"/api/", nil, nil)
	q := url.Values{"keys": {"runs", "flows"}, "since": {"2026-11-26T00:00:00Z"}}
	var out map[string]any
	if err := c.Get(context.Background(), Path("/variables/name/%s", "my var ü"), q, &out); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/api/variables/name/my%20var%20%C3%BC" {
		t.Errorf("path on the wire = %q", gotPath)
	}
	if gotQuery != q.Encode() {
		t.Errorf("query on the wire = %q, want %q", gotQuery, q.Encode())
	}
}

func TestInvalidRequestPath(t *testing.T) {
	counter := &countingTransport{}
	c := newTestClient(t, "http://127.0.0.1:4200/api", &http.Client{Transport: counter}, nil)
	for _, p := range []string{"flows/filter", "/flows/filter?x=1", "/flows#x", "/a//filter", "/a/../filter", ""} {
		if err := c.Post(context.Background(), p, nil, nil); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	if counter.calls.Load() != 0 {
		t.Fatalf("%d invalid requests reached the transport", counter.calls.Load())
	}
}

func TestResponseBodies(t *testing.T) {
	const limit = 64
	big := `["` + strings.Repeat("x", limit) + `"]`
	tests := []struct {
		name     string
		status   int
		body     string
		chunked  bool
		out      func() any
		wantErr  error
		wantText string
		check    func(t *testing.T, out any)
	}{
		{name: "decoded", status: 200, body: `{"id":"a","name":"n","run_count":2}`, out: func() any { return new(FlowRun) },
			check: func(t *testing.T, out any) {
				if r := out.(*FlowRun); r.ID != "a" || r.RunCount != 2 {
					t.Errorf("decoded %+v", r)
				}
			}},
		{name: "raw message", status: 200, body: `[{"id":"a"}]`, out: func() any { return new(json.RawMessage) },
			check: func(t *testing.T, out any) {
				if string(*out.(*json.RawMessage)) != `[{"id":"a"}]` {
					t.Errorf("raw = %s", *out.(*json.RawMessage))
				}
			}},
		{name: "nil out discards", status: 200, body: `[1,2,3]`, out: func() any { return nil }},
		{name: "exactly at the cap", status: 200, body: `"` + strings.Repeat("y", limit-2) + `"`, out: func() any { return new(string) }},
		{name: "too large, length known", status: 200, body: big, out: func() any { return new([]string) }, wantErr: ErrResponseTooLarge, wantText: "too large"},
		{name: "too large, chunked", status: 200, body: big, chunked: true, out: func() any { return new([]string) }, wantErr: ErrResponseTooLarge},
		{name: "too large, discarded out", status: 200, body: big, chunked: true, out: func() any { return nil }, wantErr: ErrResponseTooLarge},
		{name: "malformed", status: 200, body: `<html>oops</html>`, out: func() any { return new([]FlowRun) }, wantErr: ErrMalformedResponse, wantText: "/flow_runs/filter"},
		{name: "truncated", status: 200, body: `[{"id":"a","na`, out: func() any { return new([]FlowRun) }, wantErr: ErrMalformedResponse, wantText: "truncated"},
		{name: "wrong shape", status: 200, body: `{"id":"a"}`, out: func() any { return new([]FlowRun) }, wantErr: ErrMalformedResponse},
		{name: "empty 200", status: 200, body: ``, out: func() any { return new([]FlowRun) }, wantErr: ErrMalformedResponse, wantText: "empty"},
		{name: "204 no content", status: 204, body: ``, out: func() any { return new([]FlowRun) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.chunked {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tt.status)
					for _, b := range []byte(tt.body) {
						w.Write([]byte{b})
						w.(http.Flusher).Flush()
					}
					return
				}
				w.Header().Set("Content-Length", fmt.Sprint(len(tt.body)))
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL+"/api", nil, func(cfg *Config) { cfg.MaxResponseBytes = limit })
			out := tt.out()
			err := c.Post(context.Background(), "/flow_runs/filter", map[string]any{"limit": 1}, out)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tt.check != nil {
					tt.check(t, out)
				}
				return
			}
			var respErr *ResponseError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &respErr) {
				t.Fatalf("error = %v, want *ResponseError wrapping %v", err, tt.wantErr)
			}
			if respErr.Path != "/flow_runs/filter" || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %q should name the path and mention %q", err, tt.wantText)
			}
		})
	}
}

// hijackServer answers each request with handle(n, conn), n counting from 1.
func hijackServer(t *testing.T, handle func(n int, conn net.Conn, rw *bufio.ReadWriter)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		handle(n, conn, rw)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestConnectionResetIsRetried(t *testing.T) {
	const good = `[{"id":"a"}]`
	tests := []struct {
		name      string
		failures  int // attempts that fail before a good one
		fail      func(rw *bufio.ReadWriter)
		wantCalls int64
		wantErr   bool
	}{
		{"cut mid-body then success", 1, cutMidBody, 2, false},
		{"closed before headers then success", 2, func(*bufio.ReadWriter) {}, 3, false},
		{"always cut mid-body", 99, cutMidBody, DefaultMaxAttempts, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := hijackServer(t, func(n int, conn net.Conn, rw *bufio.ReadWriter) {
				if n <= tt.failures {
					tt.fail(rw)
					return
				}
				fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(good), good)
				rw.Flush()
			})
			c, clock := newTestClientClock(t, srv.URL+"/api", nil, nil)
			var runs []FlowRun
			err := c.Post(context.Background(), "/flow_runs/filter", nil, &runs)
			if calls.Load() != tt.wantCalls {
				t.Errorf("server saw %d attempts, want %d", calls.Load(), tt.wantCalls)
			}
			if len(clock.Sleeps()) != int(tt.wantCalls)-1 {
				t.Errorf("waited %v between %d attempts", clock.Sleeps(), tt.wantCalls)
			}
			if !tt.wantErr {
				if err != nil || len(runs) != 1 {
					t.Fatalf("got %v, runs %v", err, runs)
				}
				return
			}
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != KindReset {
				t.Fatalf("want TransportError kind reset, got %#v", err)
			}
		})
	}
}

func cutMidBody(rw *bufio.ReadWriter) {
	io.WriteString(rw, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{\"id\":")
	rw.Flush()
}

func TestTransportErrorKinds(t *testing.T) {
	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/api"
	}()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		baseURL string
		timeout time.Duration
		ctx     context.Context
		want    ErrorKind
	}{
		{"connection refused", closedPort, 0, context.Background(), KindRefused},
		{"dns failure", "http://nonexistent.invalid/api", 0, context.Background(), KindDNS},
		{"per-attempt timeout", slow.URL + "/api", time.Millisecond, context.Background(), KindTimeout},
		{"canceled", slow.URL + "/api", 0, canceled, KindCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := NewHTTPClient(TLSOptions{}, tt.timeout)
			if err != nil {
				t.Fatal(err)
			}
			c, clock := newTestClientClock(t, tt.baseURL, hc, func(cfg *Config) { cfg.APIKey = "pnu_CANARY_transport" })
			err = c.Post(tt.ctx, "/flow_runs/filter", nil, nil)
			var te *TransportError
			if !errors.As(err, &te) || te.Kind != tt.want {
				t.Fatalf("want TransportError kind %q, got %#v (%v)", tt.want, err, err)
			}
			if len(clock.Sleeps()) != 0 {
				t.Errorf("%s was retried: %v", tt.want, clock.Sleeps())
			}
			msg := err.Error()
			if !strings.Contains(msg, "prefect API at "+tt.baseURL+" is unreachable") || !strings.Contains(msg, "POST /flow_runs/filter") {
				t.Errorf("error text does not say which API is unreachable: %s", msg)
			}
			assertNoSecrets(t, err, "pnu_CANARY_transport")
			if tt.want == KindCanceled && !errors.Is(err, context.Canceled) {
				t.Errorf("canceled error does not unwrap to context.Canceled: %v", err)
			}
		})
	}
}

func TestRedactError(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:4200/api", nil, func(cfg *Config) { cfg.AuthString = "admin:pw-CANARY" })
	cause := fmt.Errorf("echo %s and %s: %w", "admin:pw-CANARY", base64.StdEncoding.EncodeToString([]byte("admin:pw-CANARY")), io.ErrUnexpectedEOF)
	err := c.redactError(cause)
	assertNoSecrets(t, err, "admin:pw-CANARY", "pw-CANARY", base64.StdEncoding.EncodeToString([]byte("admin:pw-CANARY")))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), redacted) {
		t.Fatalf("redacted error lost its cause or marker: %v", err)
	}
	if plain := errors.New("nothing secret"); c.redactError(plain) != plain {
		t.Fatal("an error without credentials was rewrapped")
	}
}

func TestWriteRefusedBeforeNetwork(t *testing.T) {
	srv, calls := scriptedServer(t, step{status: 200, body: "[]"})
	c := newTestClient(t, srv.URL+"/api", nil, nil)
	for _, p := range []string{"/flow_runs/", "/work_queues/abc/get_runs", "/deployments/get_scheduled_flow_runs"} {
		err := c.Post(context.Background(), p, map[string]any{}, nil)
		var refused *WriteRefusedError
		if !errors.As(err, &refused) || refused.Method != "POST" || !strings.HasSuffix(refused.Path, p) {
			t.Errorf("POST %s: want *WriteRefusedError, got %v", p, err)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("refused writes reached the server %d times", calls.Load())
	}
}

// TestCredentialCanary makes a hostile server echo every credential back in
// every place an error takes text from; none may survive.
func TestCredentialCanary(t *testing.T) {
	const apiKey = "pnu_CANARYapikey0123456789"
	const authString = "admin:CANARYpassword"
	encoded := base64.StdEncoding.EncodeToString([]byte(authString))
	secrets := []string{apiKey, authString, encoded, "CANARYpassword"}
	// echo repeats the credential the request carried in every form.
	echo := func(w http.ResponseWriter, r *http.Request) string {
		header := r.Header.Get("Authorization")
		_, token, _ := strings.Cut(header, " ")
		decoded, _ := base64.StdEncoding.DecodeString(token)
		return header + " " + token + " " + string(decoded)
	}
	handlers := map[string]http.HandlerFunc{
		"detail string": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			json.NewEncoder(w).Encode(map[string]string{"detail": echo(w, r)})
		},
		"validation list": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(422)
			json.NewEncoder(w).Encode(map[string]any{
				"exception_message": "Invalid request received.",
				"exception_detail":  []map[string]any{{"loc": []any{"body", echo(w, r)}, "msg": echo(w, r), "type": "x"}},
				"request_body":      echo(w, r),
			})
		},
		"html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(403)
			fmt.Fprintf(w, "<html><body>%s</body></html>", echo(w, r))
		},
		"malformed success": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `[%s]`, echo(w, r))
		},
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://elsewhere.invalid/x?"+url.QueryEscape(echo(w, r)), http.StatusFound)
		},
	}
	for name, h := range handlers {
		for _, cfg := range []Config{{APIKey: apiKey}, {AuthString: authString}, {APIKey: apiKey, AuthString: authString}} {
			t.Run(name, func(t *testing.T) {
				srv := httptest.NewServer(h)
				defer srv.Close()
				c := newTestClient(t, srv.URL+"/api", nil, func(c *Config) { c.APIKey, c.AuthString = cfg.APIKey, cfg.AuthString })
				var out []FlowRun
				err := c.Post(context.Background(), "/flow_runs/filter", nil, &out)
				if err == nil {
					t.Fatal("want an error")
				}
				assertNoSecrets(t, err, secrets...)
				if strings.Contains(fmt.Sprintf("%+v %#v", err, err), "CANARY") {
					t.Fatalf("credential in the error's fields: %#v", err)
				}
			})
		}
	}
}

func TestWithBaseURL(t *testing.T) {
	var gotAuth, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		w.Write([]byte(`{"id":"u"}`))
	}))
	defer srv.Close()
	workspace := newTestClient(t, srv.URL+"/api/accounts/a/workspaces/w", nil, func(cfg *Config) { cfg.APIKey = "pnu_k" })
	account, err := workspace.WithBaseURL(srv.URL + "/api/")
	if err != nil {
		t.Fatal(err)
	}
	if err := account.Get(context.Background(), "/me/", nil, nil); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer pnu_k" || gotPath != "/api/me/" || account.BaseURL() != srv.URL+"/api" {
		t.Fatalf("auth %q path %q base %q", gotAuth, gotPath, account.BaseURL())
	}
	if workspace.BaseURL() != srv.URL+"/api/accounts/a/workspaces/w" {
		t.Fatal("WithBaseURL changed the original client")
	}
	if _, err := workspace.WithBaseURL("http://user:pw-CANARY@host/api"); err == nil {
		t.Fatal("credentials in the URL accepted")
	} else {
		assertNoSecrets(t, err, "pw-CANARY")
	}
}
