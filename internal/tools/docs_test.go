package tools_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy"
	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy/docstest"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// newDocsEnv is the demo workspace with the docs tools proxied to docsURL.
func newDocsEnv(t *testing.T, docsURL string, timeout time.Duration) *env {
	t.Helper()
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := target.Builder{HTTPClient: hc, UserAgent: "prefect-mcp/test"}.Build(target.Credentials{APIURL: fake.URL}, "")
	if err != nil {
		t.Fatal(err)
	}
	docs := docsproxy.New(docsURL, &http.Client{}, timeout)
	t.Cleanup(func() { _ = docs.Close() })
	deps := &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: clockNow, Docs: docs}
	return connect(t, fake, deps, tools.Selection{Kind: tgt.Kind, KindKnown: true, Docs: true})
}

func TestDocsToolsProxyLazilyOverOneSession(t *testing.T) {
	docs := docstest.New()
	defer docs.Close()
	e := newDocsEnv(t, docs.URL, 5*time.Second)

	list, err := e.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"docs_search_prefect", "docs_get_release_notes"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %s: %v", want, names)
		}
	}
	if n := docs.Requests(); n != 0 {
		t.Fatalf("the docs server saw %d requests before any docs call (start-up, tools/list); want none", n)
	}

	out := e.ok(t, "docs_search_prefect", map[string]any{"query": "work pools", "top_k": 3})
	text, _ := e.call(t, "docs_search_prefect", map[string]any{"query": "late runs"})
	t.Logf("docs_search_prefect: %d bytes", len(text))
	results := out["result"].(map[string]any)["results"].([]any)
	if len(results) != 3 || results[2].(map[string]any)["link"] != "https://docs.prefect.io/v3/concepts/work-pools#3" {
		t.Errorf("search results = %v", results)
	}
	if !strings.Contains(text, "excerpt 5)") || strings.Contains(text, "excerpt 6)") {
		t.Errorf("top_k default is not 5: %s", text)
	}

	notes := e.ok(t, "docs_get_release_notes", map[string]any{"version": "latest"})
	rel := notes["result"].(map[string]any)
	if rel["version"] != docstest.LatestVersion || rel["released_on"] != "2025-10-02" || !strings.Contains(rel["source_url"].(string), "release-notes") {
		t.Errorf("release notes = %v", rel)
	}
	e.ok(t, "docs_get_release_notes", map[string]any{"version": "v3.4.20"})
	e.ok(t, "docs_get_release_notes", map[string]any{})

	if n := docs.Count("initialize"); n != 1 {
		t.Errorf("%d initialize requests for 5 docs calls, want 1 (the session is reused)", n)
	}
	if n := docs.Count("tools/call"); n != 5 {
		t.Errorf("%d tools/call requests, want 5", n)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("docs tools made %d Prefect requests, want none", n)
	}
}

func TestDocsToolsErrors(t *testing.T) {
	docs := docstest.New()
	defer docs.Close()
	e := newDocsEnv(t, docs.URL, 300*time.Millisecond)
	tests := []struct {
		tool string
		args map[string]any
		want []string
	}{
		{"docs_search_prefect", map[string]any{"query": "  "}, []string{"query is required"}},
		{"docs_search_prefect", map[string]any{"query": "x", "top_k": 21}, []string{"top_k"}},
		{"docs_get_release_notes", map[string]any{"version": "three"}, []string{`"three"`, "latest", "3.4.20"}},
		// The remote tool's own error passes through.
		{"docs_get_release_notes", map[string]any{"version": "2.0.0"}, []string{"could not answer", "2.0.0 was not found"}},
		{"docs_search_prefect", map[string]any{"query": docstest.SlowQuery}, []string{"The Prefect docs server at " + docs.URL + " did not answer within 300ms", "--no-docs"}},
	}
	for _, tt := range tests {
		msg := e.fail(t, tt.tool, tt.args)
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s(%v): error %q does not contain %q", tt.tool, tt.args, msg, w)
			}
		}
	}
	// The abandoned call is cancelled on the docs server before it stops.
	for deadline := time.Now().Add(5 * time.Second); docs.Count("notifications/cancelled") == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the timed-out call was never cancelled on the docs server")
		}
	}
	// A slow docs server costs that call only.
	e.ok(t, "docs_search_prefect", map[string]any{"query": "work pools"})
	e.ok(t, "get_flows", map[string]any{})
}

func TestDocsUnreachableLeavesOtherToolsWorking(t *testing.T) {
	e := newDocsEnv(t, "http://127.0.0.1:1/mcp", 5*time.Second)
	msg := e.fail(t, "docs_search_prefect", map[string]any{"query": "work pools"})
	for _, w := range []string{"The Prefect docs server at http://127.0.0.1:1/mcp is unreachable", "--no-docs"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	out := e.ok(t, "get_flows", map[string]any{})
	if len(rows(t, out, "flows")) == 0 {
		t.Error("get_flows returned no flows")
	}
}

func TestDocsToolsCutLargeAnswers(t *testing.T) {
	docs := docstest.New()
	defer docs.Close()
	e := newDocsEnv(t, docs.URL, 5*time.Second)
	text, isErr := e.call(t, "docs_search_prefect", map[string]any{"query": docstest.HugeQuery})
	if isErr {
		t.Fatal(text)
	}
	t.Logf("docs_search_prefect(huge): %d bytes", len(text))
	if len(text) > 34<<10 || !strings.Contains(text, "more chars cut") || !strings.Contains(text, "smaller top_k") {
		t.Errorf("a 200 KB answer was not cut to the budget: %d bytes", len(text))
	}
}

func TestDocsToolsWithoutDocsOrPrefect(t *testing.T) {
	// --no-docs: not offered.
	e := newEnv(t)
	list, err := e.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range list.Tools {
		if strings.HasPrefix(tool.Name, "docs_") {
			t.Errorf("%s offered with docs off", tool.Name)
		}
	}
	// Docs do not need a Prefect API: no target is configured here.
	docs := docstest.New()
	defer docs.Close()
	dc := docsproxy.New(docs.URL, nil, 5*time.Second)
	defer dc.Close()
	e = connect(t, nil, &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: clockNow, Docs: dc}, tools.Selection{Docs: true})
	e.ok(t, "docs_search_prefect", map[string]any{"query": "work pools"})
	// Offered but no client wired: a clear error.
	e = connect(t, nil, &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: clockNow}, tools.Selection{Docs: true})
	if msg := e.fail(t, "docs_search_prefect", map[string]any{"query": "x"}); !strings.Contains(msg, "turned off") {
		t.Errorf("error = %q", msg)
	}
}
