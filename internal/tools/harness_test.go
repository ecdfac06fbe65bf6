package tools_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy"
	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy/docstest"
	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/testclock"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// now is the fixed clock of the tools and the fake in tests; CI shifts it
// (testclock) to prove the suite holds on any date.
var now = testclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))

// ts is now+off the way the tools print times (RFC 3339, UTC, seconds).
func ts(off time.Duration) string { return now.Add(off).Format(time.RFC3339) }

func clockNow() time.Time { return now }

// clock pins the fake to now; later options (a test's own clock) win.
var clock = prefecttest.WithClock(clockNow)

// spec is loaded once per test binary: parsing it is the slow part.
var spec = mustSpec()

func mustSpec() *openapi.Spec {
	s, err := openapi.Load()
	if err != nil {
		panic(err)
	}
	return s
}

// env is a full MCP round trip: go-sdk client -> in-memory transport ->
// our server -> real HTTP -> fake Prefect.
type env struct {
	fake    *prefecttest.Server
	session *mcp.ClientSession
}

func newEnv(t testing.TB, opts ...prefecttest.Option) *env {
	t.Helper()
	if len(opts) == 0 {
		opts = []prefecttest.Option{prefecttest.WithData(prefecttest.Demo(now))}
	}
	fake := prefecttest.New(append([]prefecttest.Option{clock}, opts...)...)
	t.Cleanup(fake.Close)
	return newEnvWithTarget(t, fake, target.Credentials{APIURL: fake.URL})
}

func newEnvWithTarget(t testing.TB, fake *prefecttest.Server, creds target.Credentials) *env {
	t.Helper()
	// Every fake of every tool test must end the test without a write.
	t.Cleanup(func() { noWrites(t, fake) })
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	deps, tgt := staticDeps(t, hc, creds, nil)
	return connect(t, fake, deps, tools.Selection{Kind: tgt.Kind, KindKnown: true})
}

// docsClient proxies the docs tools to an in-process fake docs server.
func docsClient(t testing.TB) *docsproxy.Client {
	t.Helper()
	docs := docstest.New()
	t.Cleanup(docs.Close)
	dc := docsproxy.New(docs.URL, &http.Client{}, 5*time.Second)
	t.Cleanup(func() { _ = dc.Close() })
	return dc
}

// fakeWorkspace starts a fake serving data, Cloud-shaped (account,
// workspace, API key) when cloud, and returns it with the credentials
// that read it.
func fakeWorkspace(t testing.TB, cloud bool, opts ...prefecttest.Option) (*prefecttest.Server, target.Credentials) {
	t.Helper()
	creds := target.Credentials{}
	if cloud {
		opts = append(opts, prefecttest.WithCloud(cloudAccount, cloudWorkspace), prefecttest.WithAPIKey(cloudKey))
		creds.APIKey = cloudKey
	}
	fake := prefecttest.New(opts...)
	t.Cleanup(fake.Close)
	creds.APIURL = fake.URL
	return fake, creds
}

// staticDeps are the tools' dependencies reading creds through hc at the
// tests' clock, with the docs tools on dc (nil: none).
func staticDeps(t testing.TB, hc *http.Client, creds target.Credentials, dc tools.DocsClient) (*tools.Deps, *target.Target) {
	t.Helper()
	tgt, err := target.Builder{HTTPClient: hc, UserAgent: "prefect-mcp/test"}.Build(creds, "")
	if err != nil {
		t.Fatal(err)
	}
	return &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: clockNow, Docs: dc}, tgt
}

func connect(t testing.TB, fake *prefecttest.Server, deps *tools.Deps, sel tools.Selection) *env {
	t.Helper()
	s := server.New(server.Config{Version: "test", Deps: deps, Selection: sel})
	ct, st := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return &env{fake: fake, session: cs}
}

// call invokes a tool and returns its text and whether it was an error.
func (e *env) call(t *testing.T, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := e.session.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// ok calls a tool that must succeed and decodes its JSON result.
func (e *env) ok(t *testing.T, name string, args map[string]any) map[string]any {
	t.Helper()
	text, isErr := e.call(t, name, args)
	if isErr {
		t.Fatalf("%s(%v) failed: %s", name, args, text)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("%s: result is not a JSON object: %v\n%s", name, err, text)
	}
	return out
}

// fail calls a tool that must fail and returns its error text.
func (e *env) fail(t *testing.T, name string, args map[string]any) string {
	t.Helper()
	text, isErr := e.call(t, name, args)
	if !isErr {
		t.Fatalf("%s(%v) succeeded, want a tool error: %s", name, args, text)
	}
	return text
}

func rows(t *testing.T, out map[string]any, key string) []map[string]any {
	t.Helper()
	list, ok := out[key].([]any)
	if !ok {
		t.Fatalf("result has no %q list: %v", key, out)
	}
	res := make([]map[string]any, len(list))
	for i, v := range list {
		res[i] = v.(map[string]any)
	}
	return res
}

// noWrites asserts the fake never saw a mutating request.
func noWrites(t testing.TB, fake *prefecttest.Server) {
	t.Helper()
	if w := fake.Writes(); len(w) > 0 {
		t.Fatalf("write requests reached Prefect: %v", w)
	}
}
