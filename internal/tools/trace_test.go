package tools_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tracedEnv is the demo behind an API key, with every span recorded and
// debug logs captured.
func tracedEnv(t *testing.T, apiKey string) (*env, *tracetest.SpanRecorder, *lockedBuffer) {
	t.Helper()
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)), prefecttest.WithAPIKey(apiKey))
	t.Cleanup(fake.Close)
	t.Cleanup(func() { noWrites(t, fake) })
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	route := func(method, path string) string {
		if r, ok := spec.Match(method, path); ok {
			return r.Path
		}
		return "other"
	}
	b := target.Builder{HTTPClient: hc, UserAgent: "prefect-mcp/test", Observe: &prefect.Observer{Route: route, Logger: logger}}
	tgt, err := b.Build(target.Credentials{APIURL: fake.URL, APIKey: apiKey}, "")
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	deps := &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: func() time.Time { return now },
		Logger: logger, Tracer: tp.Tracer("test")}
	return connect(t, fake, deps, tools.Selection{Kind: tgt.Kind, KindKnown: true}), rec, logs
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes() {
		out[a.Key] = a.Value
	}
	return out
}

// TestToolCallSpans: one server span per tool call (tool, tenant kind,
// result status) whose children are the upstream requests, one each, with
// method, route template, status, bytes and retries; no span, attribute or
// debug log line carries the credential, an id or a name.
func TestToolCallSpans(t *testing.T) {
	const apiKey = "pnu_tracesecret0123456789abcdefghijklmnop"
	e, rec, logs := tracedEnv(t, apiKey)
	// The first flow-run read fails once with a 503 and is retried.
	e.fake.AddFault(prefecttest.Fault{Route: "POST /flow_runs/filter", Times: 1, Status: 503})
	e.ok(t, "diagnose_flow_run", map[string]any{"flow_run_id": "crimson-falcon"})
	upstream := len(e.fake.Requests())

	spans := rec.Ended()
	var tool sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "tools/call diagnose_flow_run" {
			tool = s
		}
	}
	if tool == nil {
		t.Fatalf("no tool span among %d", len(spans))
	}
	ta := attrs(tool)
	if ta["gen_ai.tool.name"].AsString() != "diagnose_flow_run" || ta["prefect.tenant.kind"].AsString() != "self-hosted" || ta["mcp.result.status"].AsString() != "ok" {
		t.Errorf("tool span attributes %v", ta)
	}
	children, retried := 0, 0
	for _, s := range spans {
		if s == tool {
			continue
		}
		if s.Parent().SpanID() != tool.SpanContext().SpanID() {
			t.Errorf("span %s is not a child of the tool span", s.Name())
		}
		children++
		a := attrs(s)
		if s.Name() != a["http.request.method"].AsString()+" "+a["url.template"].AsString() {
			t.Errorf("span %s: attributes %v", s.Name(), a)
		}
		if a["http.response.status_code"].AsInt64() != 200 || a["http.response.body.size"].AsInt64() <= 0 {
			t.Errorf("span %s: status and size %v", s.Name(), a)
		}
		if a["http.request.resend_count"].AsInt64() == 1 {
			retried++
			if s.Name() != "POST /flow_runs/filter" {
				t.Errorf("retried span %s", s.Name())
			}
		}
	}
	// The fake saw the retried request twice; the trace shows it once.
	if children != upstream-1 || retried != 1 {
		t.Errorf("%d upstream spans (%d retried) for %d upstream requests", children, retried, upstream)
	}
	// One debug line per upstream request, with route, status, latency, bytes.
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "upstream request") {
			lines = append(lines, l)
			for _, want := range []string{"route=/", "status=200", "latency=", "bytes=", "retries="} {
				if !strings.Contains(l, want) {
					t.Errorf("log line lacks %s: %s", want, l)
				}
			}
		}
	}
	if len(lines) != children {
		t.Errorf("%d upstream log lines for %d upstream requests:\n%s", len(lines), children, logs)
	}
	runID := prefecttest.DemoID("flow_run", "crimson-falcon")
	for _, s := range spans {
		text := s.Name()
		for _, a := range s.Attributes() {
			text += " " + a.Value.String()
		}
		for _, secret := range []string{apiKey, runID, "crimson-falcon", e.fake.URL} {
			if strings.Contains(text, secret) {
				t.Errorf("span %s carries %q", s.Name(), secret)
			}
		}
	}
	for _, secret := range []string{apiKey, runID, "crimson-falcon"} {
		for _, l := range lines {
			if strings.Contains(l, secret) {
				t.Errorf("log line carries %q: %s", secret, l)
			}
		}
	}
}

func TestFailedCallSpans(t *testing.T) {
	e, rec, _ := tracedEnv(t, "pnu_othersecret0123456789abcdefghijklmn")
	e.fake.AddFault(prefecttest.Fault{Route: "POST /work_pools/filter", Status: 401, Body: `{"detail":"Unauthorized"}`})
	e.fail(t, "get_work_pools", nil)
	var tool, upstream sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "tools/call get_work_pools":
			tool = s
		case "POST /work_pools/filter":
			upstream = s
		}
	}
	if tool == nil || upstream == nil {
		t.Fatalf("spans: %v", rec.Ended())
	}
	if tool.Status().Code != codes.Error || attrs(tool)["mcp.result.status"].AsString() != "error" {
		t.Errorf("tool span status %v %v", tool.Status(), attrs(tool))
	}
	if a := attrs(upstream); upstream.Status().Code != codes.Error || a["error.type"].AsString() != "401" || a["http.response.status_code"].AsInt64() != 401 {
		t.Errorf("upstream span %v %v", upstream.Status(), a)
	}
	// Resource reads and completions are traced too.
	rec2 := len(rec.Ended())
	e.fake.ClearFaults()
	if _, err := e.session.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "prefect://work-pools/" + prefecttest.DemoKubernetesPool}); err != nil {
		t.Fatal(err)
	}
	complete(t, e.session, promptRef("debug-flow-run"), "flow_run", "crim")
	names := map[string]bool{}
	for _, s := range rec.Ended()[rec2:] {
		names[s.Name()] = true
	}
	if !names["resources/read prefect://work-pools/{name}"] || !names["completion/complete"] || !names["POST /flow_runs/filter"] {
		t.Errorf("spans of a resource read and a completion: %v", names)
	}
}

// TestUpstreamLogOnlyAtDebug: above debug level no upstream line is logged.
func TestUpstreamLogOnlyAtDebug(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b := target.Builder{Observe: &prefect.Observer{Logger: logger}}
	tgt, err := b.Build(target.Credentials{APIURL: fake.URL}, "")
	if err != nil {
		t.Fatal(err)
	}
	e := connect(t, fake, &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: func() time.Time { return now }, Logger: logger},
		tools.Selection{Kind: tgt.Kind, KindKnown: true})
	e.ok(t, "get_flows", nil)
	if len(fake.Requests()) == 0 || strings.Contains(logs.String(), "upstream request") {
		t.Errorf("%d requests; logs at info level: %s", len(fake.Requests()), logs.String())
	}
}
