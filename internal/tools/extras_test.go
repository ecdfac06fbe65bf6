package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

var allPromptNames = []string{"automation-not-firing", "debug-flow-run", "rate-limited", "why-late", "workspace-health"}

var allTemplates = []string{"prefect://deployments/{+slug}", "prefect://flow-runs/{id}", "prefect://flow-runs/{id}/logs", "prefect://work-pools/{name}"}

// promptArgs are valid arguments for every prompt (all of them, optional included).
var promptArgs = map[string]map[string]string{
	"debug-flow-run":        {"flow_run": "crimson-falcon"},
	"why-late":              {"deployment": "etl-pipeline/etl-hourly", "work_pool": prefecttest.DemoProcessPool},
	"automation-not-firing": {"automation": "pause-etl-after-3-failures"},
	"rate-limited":          {"since": "-24h"},
	"workspace-health":      {},
}

func promptText(t *testing.T, cs *mcp.ClientSession, name string, args map[string]string) string {
	t.Helper()
	res, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("prompts/get %s: %v", name, err)
	}
	if len(res.Messages) != 1 {
		t.Fatalf("prompts/get %s: %d messages", name, len(res.Messages))
	}
	return res.Messages[0].Content.(*mcp.TextContent).Text
}

// TestPromptsNameOnlyOfferedTools: in every configuration, a prompt is
// listed only with its first tool, and its text names no tool that the
// configuration does not offer (words must be true).
func TestPromptsNameOnlyOfferedTools(t *testing.T) {
	var toolNames []string
	for _, d := range tools.All() {
		toolNames = append(toolNames, d.Name)
	}
	mention := regexp.MustCompile(`\b(` + strings.Join(toolNames, "|") + `)\b`)
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	var sels []tools.Selection
	for _, kind := range []target.Kind{target.SelfHosted, target.Cloud} {
		sels = append(sels, tools.Selection{Kind: kind, KindKnown: true}, tools.Selection{Kind: kind, KindKnown: true, Docs: true})
		for _, g := range tools.Groups() {
			sels = append(sels, tools.Selection{Kind: kind, KindKnown: true, Groups: []string{g}})
		}
	}
	sels = append(sels, tools.Selection{}, tools.Selection{OAuth: true}, tools.Selection{Groups: []string{tools.GroupRuns, tools.GroupDiagnosis}})
	seen := map[string]bool{}
	for _, sel := range sels {
		var offered []string
		for _, d := range tools.Selected(sel) {
			offered = append(offered, d.Name)
		}
		e := connect(t, fake, &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: func() time.Time { return now }}, sel)
		res, err := e.session.ListPrompts(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Prompts {
			seen[p.Name] = true
			text := promptText(t, e.session, p.Name, promptArgs[p.Name])
			names := mention.FindAllString(text, -1)
			if len(names) == 0 {
				t.Errorf("%+v: prompt %s names no tool", sel, p.Name)
			}
			for _, n := range names {
				if !slices.Contains(offered, n) {
					t.Errorf("%+v: prompt %s names %s, which is not offered", sel, p.Name, n)
				}
			}
		}
		// A prompt whose first tool is offered is listed.
		for name, first := range map[string]string{"debug-flow-run": "diagnose_flow_run", "rate-limited": "review_rate_limits", "workspace-health": "get_dashboard"} {
			listed := slices.ContainsFunc(res.Prompts, func(p *mcp.Prompt) bool { return p.Name == name })
			if listed != slices.Contains(offered, first) {
				t.Errorf("%+v: prompt %s listed=%v, %s offered=%v", sel, name, listed, first, !listed)
			}
		}
	}
	if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, allPromptNames) {
		t.Errorf("prompts seen over all configurations: %v, want %v", got, allPromptNames)
	}
}

func TestPromptsOnSelfHostedAndCloud(t *testing.T) {
	e := newEnv(t)
	res, err := e.session.ListPrompts(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range res.Prompts {
		names = append(names, p.Name)
	}
	// review_rate_limits needs Prefect Cloud with an API key.
	if want := []string{"automation-not-firing", "debug-flow-run", "why-late", "workspace-health"}; !slices.Equal(names, want) {
		t.Errorf("self-hosted prompts %v, want %v", names, want)
	}
	text := promptText(t, e.session, "debug-flow-run", map[string]string{"flow_run": "crimson-falcon"})
	for _, want := range []string{`diagnose_flow_run first with {"flow_run_id":"crimson-falcon"}`, "get_flow_run_logs", "read-only"} {
		if !strings.Contains(text, want) {
			t.Errorf("debug-flow-run text lacks %q:\n%s", want, text)
		}
	}
	// The example arguments it gives are valid for the tool.
	e.ok(t, "diagnose_flow_run", map[string]any{"flow_run_id": "crimson-falcon"})
	text = promptText(t, e.session, "why-late", map[string]string{"work_pool": prefecttest.DemoProcessPool})
	if !strings.Contains(text, `diagnose_late_runs first with {"work_pool_name":"`+prefecttest.DemoProcessPool+`"}`) {
		t.Errorf("why-late text:\n%s", text)
	}
	text = promptText(t, e.session, "why-late", nil)
	if !strings.Contains(text, "diagnose_late_runs first with {}") {
		t.Errorf("why-late without arguments:\n%s", text)
	}
}

func rpcCode(t *testing.T, err error) int64 {
	t.Helper()
	var rpc *jsonrpc.Error
	if !errors.As(err, &rpc) {
		t.Fatalf("want a JSON-RPC error, got %v", err)
	}
	return rpc.Code
}

// TestPromptArgumentBounds: required arguments are required, the longest
// accepted argument works and one more character is refused; unknown
// arguments are refused.
func TestPromptArgumentBounds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	get := func(args map[string]string) error {
		_, err := e.session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "debug-flow-run", Arguments: args})
		return err
	}
	if err := get(nil); err == nil || rpcCode(t, err) != jsonrpc.CodeInvalidParams || !strings.Contains(err.Error(), "flow_run") {
		t.Errorf("missing flow_run: %v", err)
	}
	if err := get(map[string]string{"flow_run": strings.Repeat("a", 200)}); err != nil {
		t.Errorf("200 characters: %v", err)
	}
	if err := get(map[string]string{"flow_run": strings.Repeat("a", 201)}); err == nil || rpcCode(t, err) != jsonrpc.CodeInvalidParams {
		t.Errorf("201 characters: %v", err)
	}
	if err := get(map[string]string{"flow_run": "x", "bogus": "y"}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown argument: %v", err)
	}
	// A value with quotes stays one JSON string in the text.
	text := promptText(t, e.session, "debug-flow-run", map[string]string{"flow_run": `a"}, {"x":"y`})
	if !strings.Contains(text, `{"flow_run_id":"a\"}, {\"x\":\"y"}`) {
		t.Errorf("argument not quoted:\n%s", text)
	}
}

func complete(t *testing.T, cs *mcp.ClientSession, ref *mcp.CompleteReference, arg, value string) mcp.CompletionResultDetails {
	t.Helper()
	res, err := cs.Complete(context.Background(), &mcp.CompleteParams{Ref: ref, Argument: mcp.CompleteParamsArgument{Name: arg, Value: value}})
	if err != nil {
		t.Fatalf("complete %s %s=%q: %v", ref.Name+ref.URI, arg, value, err)
	}
	return res.Completion
}

func promptRef(name string) *mcp.CompleteReference {
	return &mcp.CompleteReference{Type: "ref/prompt", Name: name}
}
func resourceRef(uri string) *mcp.CompleteReference {
	return &mcp.CompleteReference{Type: "ref/resource", URI: uri}
}

// TestCompletion: every completed argument suggests the demo's names, and
// each suggestion costs the same upstream requests on a workspace with
// hundreds more runs.
func TestCompletion(t *testing.T) {
	cases := []struct {
		ref      *mcp.CompleteReference
		arg      string
		value    string
		want     string
		requests int
	}{
		{promptRef("debug-flow-run"), "flow_run", "crim", "crimson-falcon", 1},
		{promptRef("debug-flow-run"), "flow_run", "FALCON", "crimson-falcon", 1},
		{promptRef("why-late"), "deployment", "etl-h", "etl-pipeline/etl-hourly", 2},
		{promptRef("why-late"), "deployment", "etl-pipeline/etl-h", "etl-pipeline/etl-hourly", 2},
		{promptRef("why-late"), "work_pool", "k8s", prefecttest.DemoKubernetesPool, 1},
		{promptRef("automation-not-firing"), "automation", "pause", "pause-etl-after-3-failures", 1},
		{resourceRef("prefect://flow-runs/{id}"), "id", "crimson", "crimson-falcon", 1},
		{resourceRef("prefect://flow-runs/{id}/logs"), "id", "crimson", "crimson-falcon", 1},
		{resourceRef("prefect://deployments/{+slug}"), "slug", "", "etl-pipeline/etl-hourly", 2},
		{resourceRef("prefect://deployments/{+slug}"), "slug", "etl-pipeline/etl-h", "etl-pipeline/etl-hourly", 2},
		{resourceRef("prefect://work-pools/{name}"), "name", "", prefecttest.DemoProcessPool, 1},
	}
	for _, big := range []bool{false, true} {
		e := newEnv(t)
		if big {
			e.fake.Put(prefecttest.FlowRuns, extraRuns(t, 300)...)
		}
		for _, c := range cases {
			e.fake.ResetLog()
			got := complete(t, e.session, c.ref, c.arg, c.value)
			if !slices.Contains(got.Values, c.want) {
				t.Errorf("big=%v %s %s=%q: %v, want %s among them", big, c.ref.Name+c.ref.URI, c.arg, c.value, got.Values, c.want)
			}
			if n := len(e.fake.Requests()); n != c.requests {
				t.Errorf("big=%v %s %s=%q: %d upstream requests, want %d", big, c.ref.Name+c.ref.URI, c.arg, c.value, n, c.requests)
			}
		}
	}
}

// extraRuns are n copies of demo runs named bulk-run-N.
func extraRuns(t *testing.T, n int) []map[string]any {
	t.Helper()
	base := prefecttest.Demo(now).Objects(prefecttest.FlowRuns)
	out := make([]map[string]any, n)
	for i := range out {
		run := maps.Clone(base[i%len(base)])
		run["id"] = prefecttest.DemoID("flow_run", fmt.Sprintf("bulk-%d", i))
		run["name"] = fmt.Sprintf("bulk-run-%d", i)
		out[i] = run
	}
	return out
}

func TestCompletionBounds(t *testing.T) {
	e := newEnv(t)
	e.fake.Put(prefecttest.FlowRuns, extraRuns(t, 30)...)
	got := complete(t, e.session, promptRef("debug-flow-run"), "flow_run", "bulk-run")
	if len(got.Values) != 20 || !got.HasMore {
		t.Errorf("30 matches: %d values, hasMore %v; want 20 and true", len(got.Values), got.HasMore)
	}
	// rate-limited is offered when Prefect Cloud may answer.
	cloud := connect(t, e.fake, &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: func() time.Time { return now }}, tools.Selection{})
	got = complete(t, cloud.session, promptRef("rate-limited"), "since", "-2")
	if !slices.Equal(got.Values, []string{"-24h"}) {
		t.Errorf("since -2: %v", got.Values)
	}
	// A value far longer than any name is cut, not refused.
	got = complete(t, e.session, promptRef("debug-flow-run"), "flow_run", strings.Repeat("z", 5000))
	if len(got.Values) != 0 || got.HasMore {
		t.Errorf("long value: %+v", got)
	}
	// Arguments and references that do not complete are invalid params.
	for _, c := range []struct {
		ref *mcp.CompleteReference
		arg string
	}{
		{promptRef("no-such-prompt"), "flow_run"},
		{promptRef("debug-flow-run"), "bogus"},
		{promptRef("rate-limited"), "since"}, // not offered on self-hosted
		{resourceRef("prefect://nothing/{id}"), "id"},
	} {
		_, err := e.session.Complete(context.Background(), &mcp.CompleteParams{Ref: c.ref, Argument: mcp.CompleteParamsArgument{Name: c.arg, Value: "x"}})
		if c.ref.Name == "rate-limited" {
			if err == nil {
				t.Errorf("rate-limited completes on self-hosted")
			}
			continue
		}
		if err == nil || rpcCode(t, err) != jsonrpc.CodeInvalidParams {
			t.Errorf("%s %s: %v", c.ref.Name+c.ref.URI, c.arg, err)
		}
		// The conformance suite's check reads "unknown prompt" as a missing fixture.
		if c.ref.Name == "no-such-prompt" && !strings.Contains(err.Error(), `unknown prompt "no-such-prompt"`) {
			t.Errorf("unknown prompt: %v", err)
		}
	}
}

// TestCompletionWithoutPrefect: no suggestions, no error, when no Prefect
// is configured (completion helps typing; the tools explain the setup).
func TestCompletionWithoutPrefect(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	e := connect(t, fake, &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: func() time.Time { return now }}, tools.Selection{Kind: target.SelfHosted, KindKnown: true})
	got := complete(t, e.session, promptRef("debug-flow-run"), "flow_run", "crim")
	if len(got.Values) != 0 {
		t.Errorf("values without a Prefect: %v", got.Values)
	}
}

func readResource(t *testing.T, cs *mcp.ClientSession, uri string) (map[string]any, error) {
	t.Helper()
	res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		return nil, err
	}
	if len(res.Contents) != 1 || res.Contents[0].MIMEType != "application/json" || res.Contents[0].URI != uri {
		t.Fatalf("%s: contents %+v", uri, res.Contents)
	}
	if n := len(res.Contents[0].Text); n > 64<<10 {
		t.Errorf("%s: %d bytes", uri, n)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(res.Contents[0].Text), &out); err != nil {
		t.Fatalf("%s: %v", uri, err)
	}
	return out, nil
}

func TestResourceTemplates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.session.ListResourceTemplates(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, rt := range res.ResourceTemplates {
		uris = append(uris, rt.URITemplate)
		if rt.MIMEType != "application/json" || rt.Description == "" {
			t.Errorf("%s: %+v", rt.URITemplate, rt)
		}
	}
	slices.Sort(uris)
	if !slices.Equal(uris, allTemplates) {
		t.Errorf("templates %v, want %v", uris, allTemplates)
	}
	runID := prefecttest.DemoID("flow_run", "crimson-falcon")
	for _, c := range []struct{ uri, list, field, want string }{
		{"prefect://flow-runs/crimson-falcon", "flow_runs", "id", runID},
		{"prefect://flow-runs/" + runID, "flow_runs", "name", "crimson-falcon"},
		{"prefect://deployments/etl-pipeline/etl-hourly", "deployments", "name", "etl-hourly"},
		{"prefect://deployments/etl-pipeline%2Fetl-hourly", "deployments", "name", "etl-hourly"}, // the encoded slash, as before
		{"prefect://deployments/etl-pipeline%2fetl-hourly", "deployments", "name", "etl-hourly"},
		{"prefect://deployments/" + prefecttest.DemoID("deployment", "etl-hourly"), "deployments", "name", "etl-hourly"},
		{"prefect://work-pools/" + prefecttest.DemoKubernetesPool, "work_pools", "name", prefecttest.DemoKubernetesPool},
	} {
		out, err := readResource(t, e.session, c.uri)
		if err != nil {
			t.Errorf("%s: %v", c.uri, err)
			continue
		}
		list := rows(t, out, c.list)
		if len(list) != 1 || list[0][c.field] != c.want {
			t.Errorf("%s: %s = %v", c.uri, c.list, list)
		}
	}
	// The detail view, as the tools give it when selecting by id or name.
	for uri, key := range map[string]string{
		"prefect://flow-runs/crimson-falcon":                  "flow_runs.state_history",
		"prefect://deployments/etl-pipeline/etl-hourly":       "deployments.recent_runs",
		"prefect://work-pools/" + prefecttest.DemoProcessPool: "work_pools.job_template",
	} {
		out, err := readResource(t, e.session, uri)
		if err != nil {
			t.Fatal(err)
		}
		list, field, _ := strings.Cut(key, ".")
		if _, ok := rows(t, out, list)[0][field]; !ok {
			t.Errorf("%s lacks the detail view (%s): %v", uri, field, out)
		}
	}
	out, err := readResource(t, e.session, "prefect://flow-runs/crimson-falcon/logs")
	if err != nil {
		t.Fatal(err)
	}
	if lines, _ := out["lines"].([]any); len(lines) == 0 || !strings.Contains(fmt.Sprint(lines), "crimson-falcon") {
		t.Errorf("logs resource: %v", out)
	}
}

func TestResourceErrors(t *testing.T) {
	e := newEnv(t)
	// Not found and bad input are both invalid params (SEP-2164); not found
	// says so and carries the URI.
	for _, c := range []struct {
		uri      string
		notFound bool
	}{
		{"prefect://work-pools/no-such-pool", true},
		{"prefect://flow-runs/no-such-run", true},
		{"prefect://flow-runs/" + prefecttest.DemoID("flow_run", "nope"), true},
		{"prefect://flow-runs/" + prefecttest.DemoID("flow_run", "nope") + "/logs", true},
		{"prefect://deployments/no-flow%2Fno-deployment", true},
		{"prefect://deployments/no-flow/no-deployment", true},
		{"prefect://deployments/etl-pipeline/etl-hourly/extra", true}, // no deployment name holds a slash
		{"prefect://deployments/", false},
		{"prefect://deployments/" + prefecttest.DemoID("deployment", "nope"), true},
		{"prefect://work-pools/" + strings.Repeat("p", 201), false},
		{"prefect://work-pools/", false},
	} {
		_, err := readResource(t, e.session, c.uri)
		if err == nil {
			t.Errorf("%s: no error", c.uri)
			continue
		}
		if got := rpcCode(t, err); got != jsonrpc.CodeInvalidParams {
			t.Errorf("%s: code %d (%v), want %d", c.uri, got, err, jsonrpc.CodeInvalidParams)
		}
		if strings.Contains(err.Error(), "Resource not found") != c.notFound {
			t.Errorf("%s: %v; not found: %v", c.uri, err, c.notFound)
		}
		var rpc *jsonrpc.Error
		if c.notFound && errors.As(err, &rpc) && !strings.Contains(string(rpc.Data), `"uri"`) {
			t.Errorf("%s: data %s lacks the uri", c.uri, rpc.Data)
		}
	}
	// The longest accepted name is looked up.
	if _, err := readResource(t, e.session, "prefect://work-pools/"+strings.Repeat("p", 200)); err == nil || !strings.Contains(err.Error(), "Resource not found") {
		t.Errorf("200-character name: %v", err)
	}
	// A Prefect failure says what happened, as the tool would.
	e.fake.AddFault(prefecttest.Fault{Status: 401, Body: `{"detail":"Unauthorized"}`})
	_, err := readResource(t, e.session, "prefect://work-pools/"+prefecttest.DemoKubernetesPool)
	if err == nil || rpcCode(t, err) != jsonrpc.CodeInternalError || !strings.Contains(err.Error(), "401") {
		t.Errorf("upstream 401: %v", err)
	}
}

// TestExtrasFollowTheSelection: resources come with their tools.
func TestExtrasFollowTheSelection(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	e := connect(t, fake, &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: func() time.Time { return now }}, tools.Selection{Groups: []string{tools.GroupInfrastructure}})
	res, err := e.session.ListResourceTemplates(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ResourceTemplates) != 1 || res.ResourceTemplates[0].URITemplate != "prefect://work-pools/{name}" {
		t.Errorf("infrastructure only: %v", res.ResourceTemplates)
	}
	// identity alone: no prompts, no resources, no completion.
	e = connect(t, fake, &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: func() time.Time { return now }}, tools.Selection{Groups: []string{tools.GroupIdentity}})
	caps := e.session.InitializeResult().Capabilities
	if caps.Prompts != nil || caps.Resources != nil || caps.Completions != nil {
		t.Errorf("identity only: capabilities %+v", caps)
	}
}
