package cli

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// TestHTTPPromptsResourcesCompletion: over Streamable HTTP, resources and
// completion read the Prefect named by each request's own X-Prefect-*
// headers, as tools do; without them they get nothing from anyone.
func TestHTTPPromptsResourcesCompletion(t *testing.T) {
	const secret = "admin:extras-canary"
	fake := prefecttest.New(prefecttest.WithAuthString(secret), prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	t.Cleanup(func() { noWritesTo(t, fake) })
	sys, _, errOut := testSystem(t, nil)
	base, stop := runHTTP(t, sys, errOut, "--no-docs", "--allowed-api-url", fake.URL)
	defer stop()
	endpoint := base + "/mcp"
	ctx := context.Background()
	session := func(headers map[string]string) *mcp.ClientSession {
		c := mcp.NewClient(&mcp.Implementation{Name: "extras-test", Version: "1"}, nil)
		cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: headerTransport{headers}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	cs := session(map[string]string{"X-Prefect-Api-Url": fake.URL, "X-Prefect-Api-Auth-String": secret})
	prompts, err := cs.ListPrompts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range prompts.Prompts {
		names = append(names, p.Name)
	}
	// The server's kind is unknown (any tenant may call): rate-limited is offered.
	if want := []string{"automation-not-firing", "debug-flow-run", "rate-limited", "why-late", "workspace-health"}; !slices.Equal(names, want) {
		t.Errorf("prompts %v, want %v", names, want)
	}
	got, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "debug-flow-run"},
		Argument: mcp.CompleteParamsArgument{Name: "flow_run", Value: "crim"}})
	if err != nil || !slices.Contains(got.Completion.Values, "crimson-falcon") {
		t.Errorf("completion with headers: %v %v", got, err)
	}
	res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "prefect://flow-runs/crimson-falcon/logs"})
	if err != nil || !strings.Contains(res.Contents[0].Text, "always-fails") {
		t.Errorf("resource with headers: %v %v", res, err)
	}

	anon := session(nil)
	got, err = anon.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/resource", URI: "prefect://work-pools/{name}"},
		Argument: mcp.CompleteParamsArgument{Name: "name", Value: ""}})
	if err != nil || len(got.Completion.Values) != 0 {
		t.Errorf("completion without headers: %v %v", got, err)
	}
	_, err = anon.ReadResource(ctx, &mcp.ReadResourceParams{URI: "prefect://work-pools/" + prefecttest.DemoProcessPool})
	if err == nil || !strings.Contains(err.Error(), "PREFECT_API_URL") {
		t.Errorf("resource without headers: %v", err)
	}
	if strings.Contains(errOut.String(), "extras-canary") {
		t.Error("a header credential reached the logs")
	}
}
