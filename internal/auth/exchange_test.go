package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
)

func TestExchangeClientCredentialsWithIssuer(t *testing.T) {
	t.Parallel()
	f := newCloudFixture(t, VerifierOptions{})
	iss := f.issuer
	const secret = "s3cr:et/with+special=chars"
	iss.RegisterClient("sa-client", secret, "grant-sa")
	iss.SetGrant("grant-sa", wsProd)
	ctx := context.Background()

	before := time.Now()
	tok, err := ExchangeClientCredentials(ctx, iss.Client(), iss.URL+"/", "sa-client", secret)
	if err != nil {
		t.Fatalf("ExchangeClientCredentials: %v", err)
	}
	if tok.TokenType != "bearer" || tok.ExpiresIn != time.Hour || tok.Scope != ScopeWorkspaces || tok.Expiry.Before(before.Add(time.Hour)) {
		t.Errorf("token = %+v", tok)
	}
	ti, err := f.verifier.Verify(ctx, tok.AccessToken.Reveal())
	if err != nil {
		t.Fatalf("the exchanged token does not verify: %v", err)
	}
	if GrantID(ti) != "grant-sa" || ti.UserID != "sa-client" {
		t.Errorf("TokenInfo = %+v", ti)
	}
	ws, err := NewGrantClient(iss.Client(), iss.URL, GrantClientOptions{}).Workspaces(ctx, tok.AccessToken.Reveal())
	if err != nil || len(ws) != 1 {
		t.Errorf("grant of the exchanged token = %v, %v", ws, err)
	}

	_, err = ExchangeClientCredentials(ctx, iss.Client(), iss.URL, "sa-client", "wrong-secret-value")
	if !errors.Is(err, ErrExchangeRejected) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong secret: error = %v, want a rejection naming invalid_client", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("error %q contains the secret", err)
	}
}

func TestExchangeClientCredentialsValidatesResponse(t *testing.T) {
	t.Parallel()
	const secret = "client-secret-value"
	tests := []struct {
		name     string
		status   int
		body     string
		wantIs   error
		wantText string
	}{
		{"token type mac", 200, `{"access_token":"t","token_type":"mac","expires_in":60,"scope":"prefect-cloud:workspaces"}`, nil, "not bearer"},
		{"upper-case Bearer accepted", 200, `{"access_token":"t","token_type":"Bearer","expires_in":60,"scope":"prefect-cloud:workspaces"}`, nil, ""},
		{"fractional expires_in accepted", 200, `{"access_token":"t","token_type":"bearer","expires_in":59.5,"scope":"prefect-cloud:workspaces"}`, nil, ""},
		{"zero expires_in", 200, `{"access_token":"t","token_type":"bearer","expires_in":0,"scope":"prefect-cloud:workspaces"}`, nil, "expires_in"},
		{"negative expires_in", 200, `{"access_token":"t","token_type":"bearer","expires_in":-5,"scope":"prefect-cloud:workspaces"}`, nil, "expires_in"},
		{"missing expires_in", 200, `{"access_token":"t","token_type":"bearer","scope":"prefect-cloud:workspaces"}`, nil, "expires_in"},
		{"absurd expires_in", 200, `{"access_token":"t","token_type":"bearer","expires_in":1e300,"scope":"prefect-cloud:workspaces"}`, nil, "expires_in"},
		{"expires_in not a number", 200, `{"access_token":"t","token_type":"bearer","expires_in":"soon","scope":"prefect-cloud:workspaces"}`, nil, "JSON"},
		{"empty scope", 200, `{"access_token":"t","token_type":"bearer","expires_in":60,"scope":" "}`, nil, "no scope"},
		{"other scope", 200, `{"access_token":"t","token_type":"bearer","expires_in":60,"scope":"openid"}`, nil, "lacks prefect-cloud:workspaces"},
		{"empty access token", 200, `{"access_token":"","token_type":"bearer","expires_in":60,"scope":"prefect-cloud:workspaces"}`, nil, "no access_token"},
		{"not JSON", 200, `<html>`, nil, "not a JSON"},
		{"oversized", 200, `{"access_token":"` + strings.Repeat("a", maxTokenResponseBytes) + `"}`, nil, "too large"},
		{"invalid client", 401, `{"error":"invalid_client","error_description":"bad credentials"}`, ErrExchangeRejected, "invalid_client (bad credentials)"},
		{"invalid scope", 400, `{"error":"invalid_scope"}`, ErrExchangeRejected, "HTTP 400: invalid_scope"},
		{"server echoes the secret", 401, `{"error":"invalid_client","error_description":"secret client-secret-value is wrong"}`, ErrExchangeRejected, "secret " + redacted + " is wrong"},
		{"server error", 503, `upstream down`, nil, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotForm, gotUser, gotPass, gotContentType string
			srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/auth/mcp/oauth/token" {
					http.NotFound(w, r)
					return
				}
				_ = r.ParseForm()
				gotForm = r.PostForm.Encode()
				gotUser, gotPass, _ = r.BasicAuth()
				gotContentType = r.Header.Get("Content-Type")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			tok, err := ExchangeClientCredentials(context.Background(), srv.Client(), srv.URL, "client-id", secret)
			if gotForm != "grant_type=client_credentials&scope=prefect-cloud%3Aworkspaces" || gotUser != "client-id" || gotPass != secret || gotContentType != "application/x-www-form-urlencoded" {
				t.Errorf("request: form %q, basic %q, content type %q", gotForm, gotUser, gotContentType)
			}
			if tt.wantText == "" {
				if err != nil {
					t.Fatalf("ExchangeClientCredentials: %v", err)
				}
				if tok.ExpiresIn <= 0 || tok.AccessToken.Reveal() != "t" {
					t.Errorf("token = %+v", tok)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", tok)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestExchangeClientCredentialsNeedsCredentials(t *testing.T) {
	t.Parallel()
	iss := authtest.New(testPublicBase+"/mcp", testClock)
	t.Cleanup(iss.Close)
	for _, creds := range [][2]string{{"", "secret"}, {"id", ""}} {
		if _, err := ExchangeClientCredentials(context.Background(), iss.Client(), iss.URL, creds[0], creds[1]); err == nil {
			t.Errorf("credentials %q accepted", creds[0])
		}
	}
	if iss.TokenRequests() != 0 {
		t.Errorf("token endpoint called %d times", iss.TokenRequests())
	}
}
