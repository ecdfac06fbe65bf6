package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
)

// tamperPayload rewrites the payload of a signed token and keeps the signature.
func tamperPayload(t testing.TB, token string, edit func(jwt.MapClaims)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	edit(claims)
	raw, err = json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

// tamperSignature flips one character in the middle of the signature.
func tamperSignature(token string) string {
	i := strings.LastIndex(token, ".") + 20
	b := []byte(token)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func sign(t testing.TB, iss *authtest.Issuer, opts authtest.SignOptions) string {
	t.Helper()
	token, err := iss.Sign(opts)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return token
}

func TestMiddlewareRefusesHostileRequests(t *testing.T) {
	t.Parallel()
	f := newCloudFixture(t, VerifierOptions{})
	iss := f.issuer
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := iss.Claims("grant-1")
		edit(c)
		return c
	}
	valid := iss.Mint(iss.Claims("grant-1"))
	now := testNow
	unpublished := iss.AddKey()
	iss.RemoveKey(unpublished)

	const metadata = `resource_metadata="` + testPublicBase + `/.well-known/oauth-protected-resource/mcp"`
	const scope = `scope="prefect-cloud:workspaces"`
	tests := []struct {
		name       string
		target     string
		header     http.Header
		wantStatus int
		wantError  string // error= in WWW-Authenticate; "" means none
		wantDesc   string
	}{
		{"no credentials", "/mcp", nil, 401, "", ""},
		{"basic scheme", "/mcp", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401, "", ""},
		{"token scheme", "/mcp", http.Header{"Authorization": {"Token " + valid}}, 401, "", ""},
		{"bearer without token", "/mcp", http.Header{"Authorization": {"Bearer"}}, 401, "invalid_token", "malformed"},
		{"bearer with blank token", "/mcp", http.Header{"Authorization": {"Bearer    "}}, 401, "invalid_token", "malformed"},
		{"two authorization headers", "/mcp", http.Header{"Authorization": {"Bearer " + valid, "Bearer " + valid}}, 401, "invalid_token", "malformed"},
		{"token with space inside", "/mcp", bearer("abc def"), 401, "invalid_token", "malformed"},
		{"token with control byte", "/mcp", bearer("abc\x01def"), 401, "invalid_token", "malformed"},
		{"oversized token", "/mcp", bearer(strings.Repeat("a", MaxTokenBytes+1)), 401, "invalid_token", "malformed"},
		{"token in query string", "/mcp?access_token=" + valid, nil, 400, "invalid_request", "Authorization header"},
		{"token in query string and header", "/mcp?ACCESS_TOKEN=x", bearer(valid), 400, "invalid_request", ""},
		{"percent-encoded query parameter name", "/mcp?%61ccess%5Ftoken=" + valid, nil, 400, "invalid_request", ""},
		{"garbage", "/mcp", bearer("garbage"), 401, "invalid_token", "malformed"},
		{"three garbage segments", "/mcp", bearer("a.b.c"), 401, "invalid_token", "malformed"},
		{"alg none", "/mcp", bearer(sign(t, iss, authtest.SignOptions{Alg: "none", Claims: iss.Claims("grant-1")})), 401, "invalid_token", "signature or algorithm"},
		{"HS256 keyed with the RSA public key", "/mcp", bearer(sign(t, iss, authtest.SignOptions{Alg: "HS256", HMACKey: iss.PublicKeyPEM(iss.SigningKID()), Claims: iss.Claims("grant-1")})), 401, "invalid_token", "signature or algorithm"},
		{"PS256 not in the configured list", "/mcp", bearer(sign(t, iss, authtest.SignOptions{Alg: "PS256", Claims: iss.Claims("grant-1")})), 401, "invalid_token", "signature or algorithm"},
		{"RS512 not in the configured list", "/mcp", bearer(sign(t, iss, authtest.SignOptions{Alg: "RS512", Claims: iss.Claims("grant-1")})), 401, "invalid_token", "signature or algorithm"},
		{"wrong issuer", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))), 401, "invalid_token", "issuer"},
		{"issuer with trailing slash", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["iss"] = iss.URL + "/" }))), 401, "invalid_token", "issuer"},
		{"missing issuer", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { delete(c, "iss") }))), 401, "invalid_token", ""},
		{"wrong audience", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["aud"] = "https://other.example/mcp" }))), 401, "invalid_token", "audience"},
		{"audience array without us", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} }))), 401, "invalid_token", "audience"},
		{"missing audience", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { delete(c, "aud") }))), 401, "invalid_token", ""},
		{"expired", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }))), 401, "invalid_token", "expired"},
		{"expired beyond leeway", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }))), 401, "invalid_token", "expired"},
		{"no expiry", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { delete(c, "exp") }))), 401, "invalid_token", "required claim"},
		{"not yet valid", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }))), 401, "invalid_token", "not valid yet"},
		{"issued in the future", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }))), 401, "invalid_token", "future"},
		{"exp of the wrong type", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }))), 401, "invalid_token", ""},
		{"scope of the wrong type", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["scope"] = 42 }))), 401, "invalid_token", "malformed"},
		{"missing scope", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { delete(c, "scope") }))), 403, "insufficient_scope", "prefect-cloud:workspaces"},
		{"other scope", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["scope"] = "prefect-cloud:account openid" }))), 403, "insufficient_scope", ""},
		{"scope as prefix only", "/mcp", bearer(iss.Mint(claims(func(c jwt.MapClaims) { c["scope"] = "prefect-cloud:workspaces-read" }))), 403, "insufficient_scope", ""},
		{"unknown kid", "/mcp", bearer(sign(t, iss, authtest.SignOptions{KID: "no-such-key", Claims: iss.Claims("grant-1")})), 401, "invalid_token", "signing key"},
		{"unpublished key", "/mcp", bearer(sign(t, iss, authtest.SignOptions{SignWith: unpublished, Claims: iss.Claims("grant-1")})), 401, "invalid_token", "signing key"},
		{"unpublished key under a published kid", "/mcp", bearer(sign(t, iss, authtest.SignOptions{SignWith: unpublished, KID: iss.SigningKID(), Claims: iss.Claims("grant-1")})), 401, "invalid_token", "signature"},
		{"unpublished key without kid", "/mcp", bearer(sign(t, iss, authtest.SignOptions{SignWith: unpublished, OmitKID: true, Claims: iss.Claims("grant-1")})), 401, "invalid_token", ""},
		{"tampered payload", "/mcp", bearer(tamperPayload(t, valid, func(c jwt.MapClaims) { c["sub"] = "admin" })), 401, "invalid_token", "signature"},
		{"tampered payload scope", "/mcp", bearer(tamperPayload(t, iss.Mint(claims(func(c jwt.MapClaims) { c["scope"] = "openid" })), func(c jwt.MapClaims) { c["scope"] = ScopeWorkspaces })), 401, "invalid_token", "signature"},
		{"tampered signature", "/mcp", bearer(tamperSignature(valid)), 401, "invalid_token", "signature"},
		{"signature stripped", "/mcp", bearer(valid[:strings.LastIndex(valid, ".")+1]), 401, "invalid_token", ""},
	}
	reached := false
	handler := f.verifier.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached = false
			rec := serve(handler, http.MethodPost, tt.target, tt.header)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if reached {
				t.Fatal("the protected handler was reached")
			}
			challenge := rec.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer "+metadata+", "+scope) {
				t.Errorf("WWW-Authenticate = %q, want the resource_metadata and scope challenge", challenge)
			}
			gotError := strings.Contains(challenge, "error=")
			if tt.wantError == "" && gotError {
				t.Errorf("WWW-Authenticate = %q, want no error code", challenge)
			}
			if tt.wantError != "" && !strings.Contains(challenge, `error="`+tt.wantError+`"`) {
				t.Errorf("WWW-Authenticate = %q, want error=%q", challenge, tt.wantError)
			}
			if !strings.Contains(challenge, tt.wantDesc) {
				t.Errorf("WWW-Authenticate = %q, want description containing %q", challenge, tt.wantDesc)
			}
			if strings.Contains(challenge+rec.Body.String(), valid[len(valid)-20:]) {
				t.Error("the response echoes the token")
			}
		})
	}
}

// TestTokenWithoutSubjectIsItsOwnPrincipal: the go-sdk binds a stateful
// session to TokenInfo.UserID and binds nothing when it is empty, so a
// token without "sub" gets a UserID of its own (a digest of the token).
func TestTokenWithoutSubjectIsItsOwnPrincipal(t *testing.T) {
	t.Parallel()
	f := newCloudFixture(t, VerifierOptions{})
	ids := map[string]bool{}
	for _, grant := range []string{"grant-1", "grant-2"} {
		claims := f.issuer.Claims(grant)
		delete(claims, "sub")
		token := f.issuer.Mint(claims)
		ti, err := f.verifier.Verify(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ti.UserID, "oauth-token:") || strings.Contains(ti.UserID, token) {
			t.Fatalf("UserID = %q, want a digest of the token", ti.UserID)
		}
		ids[ti.UserID] = true
	}
	if len(ids) != 2 {
		t.Fatal("two tokens without a subject share a principal")
	}
}

func TestMiddlewarePassesTokenInfo(t *testing.T) {
	t.Parallel()
	f := newCloudFixture(t, VerifierOptions{})
	iss := f.issuer
	exp := testNow.Add(30 * time.Minute).Truncate(time.Second)
	tests := []struct {
		name       string
		edit       func(jwt.MapClaims)
		header     func(token string) string
		wantScopes []string
	}{
		{"scope string", func(jwt.MapClaims) {}, nil, []string{ScopeWorkspaces}},
		{"scp array", func(c jwt.MapClaims) { delete(c, "scope"); c["scp"] = []string{"openid", ScopeWorkspaces} }, nil, []string{"openid", ScopeWorkspaces}},
		{"several scopes", func(c jwt.MapClaims) { c["scope"] = "openid  " + ScopeWorkspaces }, nil, []string{"openid", ScopeWorkspaces}},
		{"audience array", func(c jwt.MapClaims) { c["aud"] = []string{"https://other.example", testPublicBase + "/mcp"} }, nil, []string{ScopeWorkspaces}},
		{"expired within leeway", func(c jwt.MapClaims) { c["exp"] = testNow.Add(-5 * time.Second).Unix() }, nil, []string{ScopeWorkspaces}},
		{"lower-case scheme", func(jwt.MapClaims) {}, func(tok string) string { return "bearer " + tok }, []string{ScopeWorkspaces}},
		{"several spaces", func(jwt.MapClaims) {}, func(tok string) string { return "Bearer   " + tok }, []string{ScopeWorkspaces}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := iss.Claims("grant-7")
			claims["exp"] = exp.Unix()
			claims["sub"] = "user-42"
			tt.edit(claims)
			token := iss.Mint(claims)
			header := "Bearer " + token
			if tt.header != nil {
				header = tt.header(token)
			}
			var got *sdkauth.TokenInfo
			handler := f.verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = sdkauth.TokenInfoFromContext(r.Context())
				w.WriteHeader(http.StatusNoContent)
			}))
			rec := serve(handler, http.MethodPost, "/mcp", http.Header{"Authorization": {header}})
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status = %d; body %s", rec.Code, rec.Body)
			}
			if got == nil {
				t.Fatal("no TokenInfo in the request context")
			}
			if strings.Join(got.Scopes, " ") != strings.Join(tt.wantScopes, " ") {
				t.Errorf("Scopes = %v, want %v", got.Scopes, tt.wantScopes)
			}
			if got.UserID != "user-42" {
				t.Errorf("UserID = %q", got.UserID)
			}
			if GrantID(got) != "grant-7" {
				t.Errorf("GrantID = %q", GrantID(got))
			}
			if raw, ok := AccessToken(got); !ok || raw.Reveal() != token {
				t.Errorf("AccessToken = %v, %v; want the request's token", raw, ok)
			}
			if tt.name != "expired within leeway" && !got.Expiration.Equal(exp) {
				t.Errorf("Expiration = %v, want %v", got.Expiration, exp)
			}
		})
	}
}

func TestVerifyErrors(t *testing.T) {
	t.Parallel()
	f := newCloudFixture(t, VerifierOptions{})
	iss := f.issuer
	expired := iss.Claims("g")
	expired["exp"] = testNow.Add(-time.Hour).Unix()
	noScope := iss.Claims("g")
	delete(noScope, "scope")
	tests := []struct {
		name  string
		token string
		want  []error
	}{
		{"empty", "", []error{sdkauth.ErrInvalidToken}},
		{"expired", iss.Mint(expired), []error{sdkauth.ErrInvalidToken, jwt.ErrTokenExpired}},
		{"no scope", iss.Mint(noScope), []error{ErrInsufficientScope}},
		{"tampered", tamperSignature(iss.Mint(iss.Claims("g"))), []error{sdkauth.ErrInvalidToken, jwt.ErrTokenSignatureInvalid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti, err := f.verifier.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", ti)
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("error %q does not match %v", err, want)
				}
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Error("the error contains the token")
			}
		})
	}
}

func TestVerifierFailsClosedWhenJWKSUnreachable(t *testing.T) {
	t.Parallel()
	t.Run("outage at start, then recovery", func(t *testing.T) {
		iss := authtest.New(testPublicBase+"/mcp", testClock)
		t.Cleanup(iss.Close)
		iss.SetJWKSOutage(true)
		f := newCloudFixtureFor(t, iss, VerifierOptions{UnknownKIDRefreshInterval: time.Nanosecond})
		token := iss.Mint(iss.Claims("g"))

		_, err := f.verifier.Verify(context.Background(), token)
		if !errors.Is(err, sdkauth.ErrInvalidToken) {
			t.Fatalf("Verify during the outage = %v, want an invalid token error", err)
		}
		iss.SetJWKSOutage(false)
		if _, err := f.verifier.Verify(context.Background(), token); err != nil {
			t.Fatalf("Verify after the outage: %v", err)
		}
	})
	t.Run("server gone after warm cache, new kid refused", func(t *testing.T) {
		iss := authtest.New(testPublicBase+"/mcp", testClock)
		t.Cleanup(iss.Close)
		f := newCloudFixtureFor(t, iss, VerifierOptions{UnknownKIDRefreshInterval: time.Nanosecond})
		if _, err := f.verifier.Verify(context.Background(), iss.Mint(iss.Claims("g"))); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		iss.UseKey(iss.AddKey())
		iss.SetJWKSOutage(true)
		_, err := f.verifier.Verify(context.Background(), iss.Mint(iss.Claims("g")))
		if !errors.Is(err, sdkauth.ErrInvalidToken) {
			t.Fatalf("Verify of a new kid during the outage = %v, want refusal", err)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		iss := authtest.New(testPublicBase+"/mcp", testClock)
		token := iss.Mint(iss.Claims("g"))
		cfg := newCloudConfig(t, iss)
		iss.Close()
		v, err := NewVerifier(context.Background(), nil, cfg, VerifierOptions{UnknownKIDRefreshInterval: time.Nanosecond, FetchTimeout: 2 * time.Second, Now: testClock})
		if err != nil {
			t.Fatalf("NewVerifier: %v", err)
		}
		defer v.Close()
		rec := serve(v.Middleware(http.NotFoundHandler()), http.MethodPost, "/mcp", bearer(token))
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401", rec.Code)
		}
	})
}

func TestVerifierKeyRotation(t *testing.T) {
	t.Parallel()
	f := newCloudFixture(t, VerifierOptions{UnknownKIDRefreshInterval: time.Nanosecond})
	iss := f.issuer
	ctx := context.Background()
	oldKID := iss.SigningKID()
	oldToken := iss.Mint(iss.Claims("g"))
	if _, err := f.verifier.Verify(ctx, oldToken); err != nil {
		t.Fatalf("old token before rotation: %v", err)
	}

	iss.UseKey(iss.AddKey())
	iss.RemoveKey(oldKID)
	before := iss.JWKSRequests()
	if _, err := f.verifier.Verify(ctx, iss.Mint(iss.Claims("g"))); err != nil {
		t.Fatalf("token signed by the new key: %v", err)
	}
	if got := iss.JWKSRequests() - before; got != 1 {
		t.Errorf("JWKS fetched %d times for the new kid, want 1", got)
	}
	if _, err := f.verifier.Verify(ctx, oldToken); !errors.Is(err, sdkauth.ErrInvalidToken) {
		t.Fatalf("old token after its key was removed and the cache refreshed = %v, want refusal", err)
	}
}

func TestVerifierUnknownKIDRefetchIsRateLimited(t *testing.T) {
	t.Parallel()
	f := newCloudFixture(t, VerifierOptions{UnknownKIDRefreshInterval: time.Hour})
	iss := f.issuer
	before := iss.JWKSRequests()
	for _, kid := range []string{"forged-1", "forged-2", "forged-3"} {
		token := sign(t, iss, authtest.SignOptions{KID: kid, Claims: iss.Claims("g")})
		if _, err := f.verifier.Verify(context.Background(), token); !errors.Is(err, sdkauth.ErrInvalidToken) {
			t.Fatalf("kid %s: Verify = %v, want refusal", kid, err)
		}
	}
	if got := iss.JWKSRequests() - before; got != 1 {
		t.Errorf("JWKS fetched %d times for three unknown kids, want 1", got)
	}
	if _, err := f.verifier.Verify(context.Background(), iss.Mint(iss.Claims("g"))); err != nil {
		t.Errorf("known kid after the rate limit kicked in: %v", err)
	}
}

func TestNewVerifierRejectsUnsafeConfig(t *testing.T) {
	t.Parallel()
	iss := authtest.New(testPublicBase+"/mcp", testClock)
	t.Cleanup(iss.Close)
	base := newCloudConfig(t, iss)
	tests := []struct {
		name string
		edit func(*CloudConfig)
	}{
		{"HS256", func(c *CloudConfig) { c.Algorithms = []string{"HS256"} }},
		{"none", func(c *CloudConfig) { c.Algorithms = []string{"none"} }},
		{"no algorithms", func(c *CloudConfig) { c.Algorithms = nil }},
		{"no audience", func(c *CloudConfig) { c.Audience = "" }},
		{"no issuer", func(c *CloudConfig) { c.Issuer = "" }},
		{"no public base", func(c *CloudConfig) { c.PublicBaseURL = "" }},
		{"plain http JWKS", func(c *CloudConfig) { c.JWKSURI = "http://keys.example.com/jwks.json" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.edit(&cfg)
			v, err := NewVerifier(context.Background(), iss.Client(), cfg, VerifierOptions{Now: testClock})
			if err == nil {
				v.Close()
				t.Fatal("NewVerifier accepted the config")
			}
		})
	}
}

func TestJWKSBodyIsCapped(t *testing.T) {
	t.Parallel()
	huge := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", maxJWKSBytes) + `]}`))
	})
	srv := httptestServer(t, huge)
	iss := authtest.New(testPublicBase+"/mcp", testClock)
	t.Cleanup(iss.Close)
	cfg := newCloudConfig(t, iss)
	cfg.JWKSURI = srv.URL + "/jwks.json"
	v, err := NewVerifier(context.Background(), srv.Client(), cfg, VerifierOptions{UnknownKIDRefreshInterval: time.Nanosecond, Now: testClock})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	defer v.Close()
	if _, err := v.Verify(context.Background(), iss.Mint(iss.Claims("g"))); !errors.Is(err, sdkauth.ErrInvalidToken) {
		t.Fatalf("Verify with an oversized JWKS = %v, want refusal", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	f := newCloudFixture(b, VerifierOptions{})
	token := f.issuer.Mint(f.issuer.Claims("grant-1"))
	ctx := context.Background()
	if _, err := f.verifier.Verify(ctx, token); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.verifier.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifierKeepsItsClock: tokens are checked against VerifierOptions.Now
// alone, through the middleware too (the SDK's own expiry check reads the
// wall clock), so a test server on a fixed or shifted clock accepts the
// tokens its issuer mints at that clock and refuses them once expired.
func TestVerifierKeepsItsClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2016, 11, 26, 12, 0, 0, 0, time.UTC) // years before the wall clock
	clock := func() time.Time { return at }
	iss := authtest.New(testPublicBase+"/mcp", clock)
	t.Cleanup(iss.Close)
	f := newCloudFixtureFor(t, iss, VerifierOptions{Now: clock})
	var got *sdkauth.TokenInfo
	handler := f.verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = sdkauth.TokenInfoFromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))
	claims := iss.Claims("grant-7")
	if rec := serve(handler, http.MethodPost, "/mcp", bearer(iss.Mint(claims))); rec.Code != http.StatusNoContent || got == nil {
		t.Fatalf("a token minted at the verifier's clock: status %d, %s", rec.Code, rec.Body)
	}
	if want := at.Add(time.Hour); !got.Expiration.Equal(want) {
		t.Errorf("the handler saw Expiration %v, want %v", got.Expiration, want)
	}
	claims["exp"] = at.Add(-time.Hour).Unix()
	claims["iat"], claims["nbf"] = at.Add(-2*time.Hour).Unix(), at.Add(-2*time.Hour).Unix()
	if rec := serve(handler, http.MethodPost, "/mcp", bearer(iss.Mint(claims))); rec.Code != http.StatusUnauthorized {
		t.Errorf("a token expired at the verifier's clock: status %d, want 401", rec.Code)
	}
	wall := newCloudFixtureFor(t, iss, VerifierOptions{})
	if _, err := wall.verifier.Verify(context.Background(), iss.Mint(iss.Claims("grant-7"))); err == nil {
		t.Error("the default verifier (the wall clock) accepted a token that expired in 2016")
	}
}
