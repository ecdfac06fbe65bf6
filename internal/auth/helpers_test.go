package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
	"github.com/prefect-mcp/prefect-mcp/internal/testclock"
)

const testPublicBase = "https://mcp.example.test"

// testNow is the auth tests' clock: fixed, and shifted by CI as the other
// suites' are, so token times never depend on the day the tests run.
var testNow = testclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))

func testClock() time.Time { return testNow }

func envLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// cloudFixture is a fake Cloud issuer and a Verifier trusting it.
type cloudFixture struct {
	issuer   *authtest.Issuer
	cfg      CloudConfig
	verifier *Verifier
}

func newCloudConfig(t testing.TB, iss *authtest.Issuer) CloudConfig {
	t.Helper()
	cfg, err := CloudConfigFromEnv(envLookup(map[string]string{
		EnvCloudEnabled:       "true",
		EnvCloudPublicBaseURL: testPublicBase,
		EnvCloudAuthBaseURL:   iss.URL,
	}))
	if err != nil {
		t.Fatalf("CloudConfigFromEnv: %v", err)
	}
	return cfg
}

func newCloudFixture(t testing.TB, opts VerifierOptions) *cloudFixture {
	t.Helper()
	iss := authtest.New(testPublicBase+"/mcp", testClock)
	t.Cleanup(iss.Close)
	return newCloudFixtureFor(t, iss, opts)
}

func newCloudFixtureFor(t testing.TB, iss *authtest.Issuer, opts VerifierOptions) *cloudFixture {
	t.Helper()
	cfg := newCloudConfig(t, iss)
	if opts.Now == nil {
		opts.Now = testClock
	}
	v, err := NewVerifier(context.Background(), iss.Client(), cfg, opts)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return &cloudFixture{issuer: iss, cfg: cfg, verifier: v}
}

// serve sends one request through handler and returns the recorded response.
func serve(handler http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(""))
	for name, values := range header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// httptestServer starts a real server for handler, closed with the test.
func httptestServer(t testing.TB, handler http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}
