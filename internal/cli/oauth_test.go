package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// cloudWorkspace is one fake Prefect Cloud workspace that accepts one token.
type cloudWorkspace struct {
	ws   authtest.Workspace
	fake *prefecttest.Server
	flow string
}

// oauthEnv is a test authorization server, a fake Prefect Cloud holding
// three workspaces, and our server in Cloud OAuth mode in front of them.
type oauthEnv struct {
	issuer     *authtest.Issuer
	workspaces []*cloudWorkspace
	endpoint   string
	base       string
	tokenA     string // grant A: workspaces 0 and 1
	tokenB     string // grant B: workspace 2 only
}

func newOAuthEnv(t *testing.T) *oauthEnv {
	t.Helper()
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	issuer := authtest.New(base+"/mcp", clock)
	t.Cleanup(issuer.Close)
	e := &oauthEnv{issuer: issuer, endpoint: base + "/mcp", base: base}
	e.tokenA = issuer.Mint(issuer.Claims("grant-a"))
	e.tokenB = issuer.Mint(issuer.Claims("grant-b"))

	mux := http.NewServeMux()
	for i, spec := range []struct{ account, handle, ws, wsHandle, token string }{
		{"a1000000-0000-4000-8000-000000000001", "acme", "b1000000-0000-4000-8000-000000000001", "prod", e.tokenA},
		{"a1000000-0000-4000-8000-000000000001", "acme", "b1000000-0000-4000-8000-000000000002", "staging", e.tokenA},
		{"a2000000-0000-4000-8000-000000000002", "globex", "b2000000-0000-4000-8000-000000000003", "main", e.tokenB},
	} {
		flow := "flow-of-" + spec.wsHandle
		data := prefecttest.NewData()
		data.AsOf = now
		data.Add("flows", map[string]any{"id": "c0000000-0000-4000-8000-00000000000" + strconv.Itoa(i), "created": "2026-11-26T07:40:14.301918Z",
			"updated": "2026-11-26T07:40:14.301935Z", "name": flow, "tags": []any{}, "labels": map[string]any{}})
		fake := prefecttest.NewHandler(prefecttest.WithCloud(spec.account, spec.ws), prefecttest.WithAPIKey(spec.token), prefecttest.WithData(data))
		t.Cleanup(func() { noWritesTo(t, fake) })
		mux.Handle("/api/accounts/"+spec.account+"/workspaces/"+spec.ws+"/", fake.Handler())
		cw := &cloudWorkspace{fake: fake, flow: flow, ws: authtest.Workspace{AccountID: spec.account, AccountHandle: spec.handle, AccountName: spec.handle,
			WorkspaceID: spec.ws, WorkspaceHandle: spec.wsHandle, WorkspaceName: spec.wsHandle}}
		e.workspaces = append(e.workspaces, cw)
	}
	cloud := httptest.NewServer(mux)
	t.Cleanup(cloud.Close)
	issuer.SetGrant("grant-a", e.workspaces[0].ws, e.workspaces[1].ws)
	issuer.SetGrant("grant-b", e.workspaces[2].ws)

	sys, _, errOut := testSystem(t, map[string]string{
		"PREFECT_MCP_CLOUD_PUBLIC_BASE_URL": base,
		"PREFECT_MCP_CLOUD_AUTH_BASE_URL":   issuer.URL,
		"PREFECT_MCP_CLOUD_API_BASE_URL":    cloud.URL,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"--transport", "http", "--port", strconv.Itoa(port), "--cloud-oauth", "--no-docs", "--log-level", "error"}, sys)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("server exit %d: %s", code, errOut)
		}
		for _, tok := range []string{e.tokenA, e.tokenB} {
			if strings.Contains(errOut.String(), tok) {
				t.Error("a bearer token reached the server log")
			}
		}
	})
	waitHTTP(t, base+"/healthz")
	return e
}

func (e *oauthEnv) session(t *testing.T, token string) *mcp.ClientSession {
	t.Helper()
	hc := &http.Client{Transport: headerTransport{map[string]string{"Authorization": "Bearer " + token}}}
	c := mcp.NewClient(&mcp.Implementation{Name: "oauth-test", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: e.endpoint, HTTPClient: hc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func callText(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return res.Content[0].(*mcp.TextContent).Text, res.IsError
}

func TestCloudOAuthMode(t *testing.T) {
	e := newOAuthEnv(t)
	prod, staging, globex := e.workspaces[0], e.workspaces[1], e.workspaces[2]

	t.Run("no token: 401 pointing at the metadata", func(t *testing.T) {
		resp, err := http.Post(e.endpoint, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		chal := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != 401 || !strings.Contains(chal, `resource_metadata="`+e.base+"/.well-known/oauth-protected-resource/mcp") || !strings.Contains(chal, "prefect-cloud:workspaces") {
			t.Fatalf("status %d, WWW-Authenticate %q", resp.StatusCode, chal)
		}
		resp, err = http.Get(e.base + "/.well-known/oauth-protected-resource/mcp")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var meta map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil {
			t.Fatal(err)
		}
		if meta["resource"] != e.endpoint || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("metadata %v, CORS %q", meta, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("single workspace is the default", func(t *testing.T) {
		text, isErr := callText(t, e.session(t, e.tokenB), "get_flows", nil)
		if isErr || !strings.Contains(text, globex.flow) {
			t.Fatalf("get_flows = %s", text)
		}
	})

	a := e.session(t, e.tokenA)
	t.Run("several workspaces need workspace_id", func(t *testing.T) {
		text, isErr := callText(t, a, "get_flows", nil)
		if !isErr || !strings.Contains(text, "acme/prod ("+prod.ws.WorkspaceID+")") || !strings.Contains(text, "acme/staging") {
			t.Fatalf("get_flows without workspace_id = %s", text)
		}
		text, isErr = callText(t, a, "get_flows", map[string]any{"workspace_id": staging.ws.WorkspaceID})
		if isErr || !strings.Contains(text, staging.flow) || strings.Contains(text, prod.flow) {
			t.Fatalf("get_flows in staging = %s", text)
		}
	})

	t.Run("a workspace outside the grant is refused before any upstream call", func(t *testing.T) {
		before := len(globex.fake.Requests())
		text, isErr := callText(t, a, "get_flows", map[string]any{"workspace_id": globex.ws.WorkspaceID})
		if !isErr || !strings.Contains(text, "list_authorized_workspaces") {
			t.Fatalf("foreign workspace = %s", text)
		}
		if len(globex.fake.Requests()) != before {
			t.Fatal("the foreign workspace received a request")
		}
	})

	t.Run("list_authorized_workspaces and identity report the grant", func(t *testing.T) {
		text, isErr := callText(t, a, "list_authorized_workspaces", nil)
		if isErr || !strings.Contains(text, "grant-a") || !strings.Contains(text, "acme/staging") || strings.Contains(text, "globex") {
			t.Fatalf("list_authorized_workspaces = %s", text)
		}
		before := len(prod.fake.Requests())
		text, isErr = callText(t, a, "get_identity", map[string]any{"workspace_id": prod.ws.WorkspaceID})
		if isErr || !strings.Contains(text, "grant-a") || !strings.Contains(text, "acme/prod") {
			t.Fatalf("get_identity = %s", text)
		}
		for _, r := range prod.fake.Requests()[before:] {
			if strings.Contains(r.Path, "/me") || r.Route == "" {
				t.Errorf("identity called an account-level endpoint: %s %s", r.Method, r.Path)
			}
		}
		list, err := a.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range list.Tools {
			if tool.Name == "review_rate_limits" {
				t.Error("account-level review_rate_limits offered in OAuth mode")
			}
		}
	})

	t.Run("two users concurrently see only their own workspaces", func(t *testing.T) {
		b := e.session(t, e.tokenB)
		var wg sync.WaitGroup
		errs := make(chan string, 100)
		for i := range 50 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				text, isErr := callText(t, a, "get_flows", map[string]any{"workspace_id": []string{prod.ws.WorkspaceID, staging.ws.WorkspaceID}[i%2]})
				if isErr || strings.Contains(text, globex.flow) {
					errs <- "user A: " + text
				}
			}()
			go func() {
				defer wg.Done()
				text, isErr := callText(t, b, "get_flows", nil)
				if isErr || strings.Contains(text, prod.flow) || strings.Contains(text, staging.flow) {
					errs <- "user B: " + text
				}
			}()
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Error(msg)
		}
	})

	t.Run("key rotation mid-run", func(t *testing.T) {
		kid := e.issuer.AddKey()
		e.issuer.UseKey(kid)
		rotated := e.issuer.Mint(e.issuer.Claims("grant-b"))
		text, isErr := callText(t, e.session(t, rotated), "list_authorized_workspaces", nil)
		if isErr || !strings.Contains(text, "globex/main") {
			t.Fatalf("token signed with the rotated key: %s", text)
		}
	})

	t.Run("JWKS outage fails closed for unknown keys", func(t *testing.T) {
		kid := e.issuer.AddKey()
		e.issuer.UseKey(kid)
		e.issuer.SetJWKSOutage(true)
		defer e.issuer.SetJWKSOutage(false)
		tok := e.issuer.Mint(e.issuer.Claims("grant-b"))
		req, _ := http.NewRequest(http.MethodPost, e.endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d with the JWKS down, want 401", resp.StatusCode)
		}
	})
}

func TestTokenCommand(t *testing.T) {
	issuer := authtest.New("https://mcp.example.com/mcp", clock)
	defer issuer.Close()
	const secret = "client-secret-canary"
	issuer.RegisterClient("svc-client", secret, "grant-svc")
	env := map[string]string{
		"PREFECT_MCP_CLOUD_AUTH_BASE_URL": issuer.URL,
		"PREFECT_MCP_CLOUD_CLIENT_ID":     "svc-client",
		"PREFECT_MCP_CLOUD_CLIENT_SECRET": secret,
	}
	sys, out, errOut := testSystem(t, env)
	if code := Run(context.Background(), []string{"token"}, sys); code != 0 {
		t.Fatalf("token exit %d: %s", code, errOut)
	}
	if tok := strings.TrimSpace(out.String()); strings.Count(tok, ".") != 2 {
		t.Fatalf("printed %q, want a JWT", tok)
	}
	env["PREFECT_MCP_CLOUD_CLIENT_SECRET"] = "wrong-" + secret
	sys, out, errOut = testSystem(t, env)
	if code := Run(context.Background(), []string{"token"}, sys); code == 0 {
		t.Fatal("a wrong client secret printed a token")
	}
	if strings.Contains(errOut.String()+out.String(), secret) {
		t.Fatal("the client secret appears in the output")
	}
}
