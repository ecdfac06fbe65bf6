package auth

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// headerTransport adds an Authorization header to every request.
type headerTransport struct {
	authorization string
	base          http.RoundTripper
}

func (t headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", t.authorization)
	return t.base.RoundTrip(req)
}

type whoamiOutput struct {
	GrantID     string `json:"grant_id"`
	UserID      string `json:"user_id"`
	TokenOK     bool   `json:"token_ok"`
	ScopesMatch bool   `json:"scopes_match"`
}

// TestStreamableHandlerSeesTokenInfo checks the contract with the tools: the
// go-sdk streamable handler behind Middleware hands the verified TokenInfo
// to tool handlers as req.Extra.TokenInfo.
func TestStreamableHandlerSeesTokenInfo(t *testing.T) {
	t.Parallel()
	f := newCloudFixture(t, VerifierOptions{})
	token := f.issuer.Mint(f.issuer.Claims("grant-9"))

	server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoamiOutput, error) {
		ti := req.Extra.TokenInfo
		raw, ok := AccessToken(ti)
		return nil, whoamiOutput{
			GrantID:     GrantID(ti),
			UserID:      ti.UserID,
			TokenOK:     ok && raw.Reveal() == token,
			ScopesMatch: strings.Join(ti.Scopes, " ") == ScopeWorkspaces,
		}, nil
	})
	mux := http.NewServeMux()
	mux.Handle(MetadataPath, NewMetadataHandler(f.cfg))
	mux.Handle("/mcp", f.verifier.Middleware(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)))
	srv := httptestServer(t, mux)

	connect := func(authorization string) (*mcp.ClientSession, error) {
		hc := &http.Client{Transport: headerTransport{authorization: authorization, base: http.DefaultTransport}}
		client := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "0"}, nil)
		return client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: hc, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	}

	if session, err := connect("Bearer " + tamperSignature(token)); err == nil {
		session.Close()
		t.Fatal("connected with a tampered token")
	}

	session, err := connect("Bearer " + token)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer session.Close()
	res, err := session.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatalf("CallTool: %v", err)
	}
	got, ok := res.StructuredContent.(map[string]any)
	if !ok {
		t.Fatalf("structured content = %#v", res.StructuredContent)
	}
	want := map[string]any{"grant_id": "grant-9", "user_id": "user-grant-9", "token_ok": true, "scopes_match": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
