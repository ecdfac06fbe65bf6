// Package authtest is an in-process Prefect Cloud authorization server for
// tests: JWKS with key rotation and an outage switch, token minting with any
// claims, algorithm and kid, the grant-workspaces endpoint, the
// client-credentials token endpoint and RFC 8414 metadata (enough for an MCP
// client's OAuth discovery), with request counters; and CloudGate, Prefect
// Cloud's check of these tokens in front of a fake Cloud API.
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Scope is the scope the issuer grants.
const Scope = "prefect-cloud:workspaces"

// Endpoint paths, relative to Issuer.URL.
const (
	JWKSPath  = "/auth/mcp/oauth/jwks.json"
	GrantPath = "/auth/mcp/oauth/grant/workspaces"
	TokenPath = "/auth/mcp/oauth/token"
	// AuthorizePath is advertised in the metadata, which MCP clients parse
	// only when it names an authorization endpoint; authtest has no
	// interactive sign-in, so it answers unsupported_response_type.
	AuthorizePath = "/auth/mcp/oauth/authorize"
	// MetadataPath is the RFC 8414 authorization server metadata of an
	// issuer without a path component.
	MetadataPath = "/.well-known/oauth-authorization-server"
)

// Workspace mirrors an entry of the grant-workspaces response.
type Workspace struct {
	AccountID       string `json:"account_id"`
	AccountHandle   string `json:"account_handle"`
	AccountName     string `json:"account_name"`
	WorkspaceID     string `json:"workspace_id"`
	WorkspaceHandle string `json:"workspace_handle"`
	WorkspaceName   string `json:"workspace_name"`
}

// Issuer is a running fake authorization server. Its URL is both the auth
// base and the token issuer. All methods are safe for concurrent use.
type Issuer struct {
	URL      string
	Audience string

	server *httptest.Server
	now    func() time.Time

	mu         sync.Mutex
	keys       map[string]*rsa.PrivateKey
	published  []string // kids in the JWKS, in order
	signingKID string
	nextKID    int
	jwksDown   bool
	grants     map[string][]Workspace
	clients    map[string]client

	jwksRequests  atomic.Int64
	grantRequests atomic.Int64
	tokenRequests atomic.Int64
	metaRequests  atomic.Int64
}

type client struct {
	secret  string
	grantID string
}

// New starts an issuer whose tokens are minted for audience (the MCP
// resource URL) and signed by one published RSA key. now is its clock:
// tokens are issued at now(), and Prefect Cloud's check of them (CloudGate,
// GrantOf) runs at now(); tests give the clock their server checks tokens
// against.
func New(audience string, now func() time.Time) *Issuer {
	iss := &Issuer{
		Audience: audience,
		now:      now,
		keys:     map[string]*rsa.PrivateKey{},
		grants:   map[string][]Workspace{},
		clients:  map[string]client{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+JWKSPath, iss.serveJWKS)
	mux.HandleFunc("GET "+GrantPath, iss.serveGrant)
	mux.HandleFunc("POST "+TokenPath, iss.serveToken)
	mux.HandleFunc("GET "+MetadataPath, iss.serveMetadata)
	mux.HandleFunc(AuthorizePath, func(w http.ResponseWriter, _ *http.Request) {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_response_type", "authtest implements only the client_credentials grant")
	})
	iss.server = httptest.NewServer(mux)
	iss.URL = iss.server.URL
	iss.UseKey(iss.AddKey())
	return iss
}

// Close shuts the server down.
func (i *Issuer) Close() { i.server.Close() }

// Client returns an HTTP client for the issuer's server.
func (i *Issuer) Client() *http.Client { return i.server.Client() }

// JWKSURL is the JWKS endpoint.
func (i *Issuer) JWKSURL() string { return i.URL + JWKSPath }

// AddKey generates and publishes a new RSA key and returns its kid. It does
// not sign with it until UseKey.
func (i *Issuer) AddKey() string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("authtest: generating RSA key: " + err.Error())
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.nextKID++
	kid := fmt.Sprintf("key-%d", i.nextKID)
	i.keys[kid] = key
	i.published = append(i.published, kid)
	return kid
}

// RemoveKey unpublishes kid. The private key is kept, so tokens can still be
// signed with it (a revoked key in the wrong hands).
func (i *Issuer) RemoveKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = slices.DeleteFunc(i.published, func(k string) bool { return k == kid })
}

// UseKey makes kid the signing key of Mint and of the token endpoint.
func (i *Issuer) UseKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, ok := i.keys[kid]; !ok {
		panic("authtest: unknown kid " + kid)
	}
	i.signingKID = kid
}

// SigningKID is the kid Mint signs with.
func (i *Issuer) SigningKID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.signingKID
}

// PublicKeyPEM is kid's public key as PKIX PEM, the bytes an attacker would
// try as an HMAC secret.
func (i *Issuer) PublicKeyPEM(kid string) []byte {
	i.mu.Lock()
	key := i.keys[kid]
	i.mu.Unlock()
	if key == nil {
		panic("authtest: unknown kid " + kid)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		panic("authtest: encoding public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// SetJWKSOutage makes the JWKS endpoint answer 503 while down is true.
func (i *Issuer) SetJWKSOutage(down bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.jwksDown = down
}

// SetGrant sets the workspaces of grantID (the tokens' mcp_grant_id).
func (i *Issuer) SetGrant(grantID string, workspaces ...Workspace) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.grants[grantID] = slices.Clone(workspaces)
}

// RegisterClient adds service-account client credentials whose tokens carry grantID.
func (i *Issuer) RegisterClient(clientID, secret, grantID string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.clients[clientID] = client{secret: secret, grantID: grantID}
}

// JWKSRequests, GrantRequests, TokenRequests and MetadataRequests count
// requests served.
func (i *Issuer) JWKSRequests() int64     { return i.jwksRequests.Load() }
func (i *Issuer) GrantRequests() int64    { return i.grantRequests.Load() }
func (i *Issuer) TokenRequests() int64    { return i.tokenRequests.Load() }
func (i *Issuer) MetadataRequests() int64 { return i.metaRequests.Load() }

// Metadata is the issuer's RFC 8414 authorization server metadata, served
// at MetadataPath. It states what authtest implements: the
// client-credentials grant with HTTP Basic client authentication and the
// one scope. response_types_supported is empty (no interactive grant) but
// present, as RFC 8414 requires it.
func (i *Issuer) Metadata() map[string]any {
	return map[string]any{
		"issuer":                                i.URL,
		"authorization_endpoint":                i.URL + AuthorizePath,
		"token_endpoint":                        i.URL + TokenPath,
		"jwks_uri":                              i.URL + JWKSPath,
		"scopes_supported":                      []string{Scope},
		"response_types_supported":              []string{},
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	}
}

func (i *Issuer) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	i.metaRequests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(i.Metadata())
}

// Claims returns the claims of a valid token for grantID: issuer, audience,
// subject, scope, grant id, iat/nbf now and exp in one hour. Tests edit the
// map to make hostile tokens.
func (i *Issuer) Claims(grantID string) jwt.MapClaims {
	now := i.now()
	return jwt.MapClaims{
		"iss":          i.URL,
		"aud":          i.Audience,
		"sub":          "user-" + grantID,
		"scope":        Scope,
		"mcp_grant_id": grantID,
		"iat":          now.Unix(),
		"nbf":          now.Unix(),
		"exp":          now.Add(time.Hour).Unix(),
		"jti":          rand.Text(),
	}
}

// Mint signs claims with RS256 and the current signing key.
func (i *Issuer) Mint(claims jwt.MapClaims) string {
	token, err := i.Sign(SignOptions{Claims: claims})
	if err != nil {
		panic("authtest: " + err.Error())
	}
	return token
}

// SignOptions describe a token, honest or not.
type SignOptions struct {
	Claims jwt.MapClaims
	// Alg is the JWS algorithm: RS256 (default), RS384, RS512, PS256, HS256
	// (keyed by HMACKey) or none.
	Alg string
	// KID overrides the header kid; with OmitKID the header has none.
	KID     string
	OmitKID bool
	// SignWith is the kid of the private key used; default the signing key.
	SignWith string
	// HMACKey keys HS* algorithms.
	HMACKey []byte
}

// Sign makes a token as described by opts.
func (i *Issuer) Sign(opts SignOptions) (string, error) {
	i.mu.Lock()
	signWith := opts.SignWith
	if signWith == "" {
		signWith = i.signingKID
	}
	key := i.keys[signWith]
	i.mu.Unlock()

	alg := opts.Alg
	if alg == "" {
		alg = "RS256"
	}
	method := jwt.GetSigningMethod(alg)
	if method == nil {
		return "", fmt.Errorf("unknown algorithm %q", alg)
	}
	token := jwt.NewWithClaims(method, opts.Claims)
	switch {
	case opts.OmitKID:
	case opts.KID != "":
		token.Header["kid"] = opts.KID
	default:
		token.Header["kid"] = signWith
	}

	var signingKey any
	switch {
	case alg == "none":
		signingKey = jwt.UnsafeAllowNoneSignatureType
	case strings.HasPrefix(alg, "HS"):
		signingKey = opts.HMACKey
	case key == nil:
		return "", fmt.Errorf("unknown signing kid %q", signWith)
	default:
		signingKey = key
	}
	return token.SignedString(signingKey)
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.jwksRequests.Add(1)
	i.mu.Lock()
	down := i.jwksDown
	type published struct {
		kid string
		key *rsa.PublicKey
	}
	var keys []published
	for _, kid := range i.published {
		keys = append(keys, published{kid, &i.keys[kid].PublicKey})
	}
	i.mu.Unlock()
	if down {
		http.Error(w, "JWKS outage", http.StatusServiceUnavailable)
		return
	}
	set := jwkset.NewMemoryStorage()
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.key, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.AlgRS256, USE: jwkset.UseSig},
		})
		if err == nil {
			err = set.KeyWrite(r.Context(), jwk)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	body, err := set.JSONPublic(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// parse checks a token as Prefect Cloud does when it is presented to it:
// RS256 signature by a published key, this issuer, not expired. The
// audience is not checked: it names the MCP server the token was minted for.
func (i *Issuer) parse(raw string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		i.mu.Lock()
		defer i.mu.Unlock()
		if !slices.Contains(i.published, kid) {
			return nil, fmt.Errorf("unknown kid")
		}
		return &i.keys[kid].PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(i.URL), jwt.WithExpirationRequired(), jwt.WithTimeFunc(i.now))
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// grantWorkspaces returns the workspaces of grantID and whether it exists.
func (i *Issuer) grantWorkspaces(grantID string) ([]Workspace, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	ws, ok := i.grants[grantID]
	return ws, ok
}

// GrantOf reports the grant (mcp_grant_id) of token when Prefect Cloud would
// accept it: signed by a published key of this issuer, unexpired, with scope
// Scope, naming a known grant.
func (i *Issuer) GrantOf(token string) (grantID string, ok bool) {
	claims, err := i.parse(token)
	if err != nil {
		return "", false
	}
	scope, _ := claims["scope"].(string)
	if !slices.Contains(strings.Fields(scope), Scope) {
		return "", false
	}
	grantID, _ = claims["mcp_grant_id"].(string)
	if _, known := i.grantWorkspaces(grantID); !known {
		return "", false
	}
	return grantID, true
}

// CloudGate admits a request to next, a fake Prefect Cloud API serving its
// workspaces without an API key (prefecttest.WithCloud), only as Prefect
// Cloud admits an MCP OAuth token: a bearer token GrantOf accepts (else 401)
// on a path under /api/accounts/{account}/workspaces/{workspace} of a
// workspace in the token's grant (else 403).
func (i *Issuer) CloudGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		grantID := ""
		if ok {
			grantID, ok = i.GrantOf(raw)
		}
		if !ok {
			writeDetail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return
		}
		parts := strings.SplitN(r.URL.EscapedPath(), "/", 7)
		if len(parts) < 6 || parts[0] != "" || parts[1] != "api" || parts[2] != "accounts" || parts[4] != "workspaces" {
			writeDetail(w, http.StatusForbidden, "MCP OAuth tokens require a consented workspace-scoped Cloud API path")
			return
		}
		workspaces, _ := i.grantWorkspaces(grantID)
		if !slices.ContainsFunc(workspaces, func(ws Workspace) bool {
			return ws.AccountID == parts[3] && ws.WorkspaceID == parts[5]
		}) {
			writeDetail(w, http.StatusForbidden, "MCP OAuth tokens require a consented workspace-scoped Cloud API path")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveGrant answers with the workspaces of the bearer token's grant, after
// checking the token as Cloud would.
func (i *Issuer) serveGrant(w http.ResponseWriter, r *http.Request) {
	i.grantRequests.Add(1)
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "bearer token required")
		return
	}
	claims, err := i.parse(raw)
	if err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "token is invalid")
		return
	}
	grantID, _ := claims["mcp_grant_id"].(string)
	workspaces, ok := i.grantWorkspaces(grantID)
	if !ok {
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "grant not found")
		return
	}
	if workspaces == nil {
		workspaces = []Workspace{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(workspaces)
}

// serveToken implements the client-credentials grant.
func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	i.tokenRequests.Add(1)
	user, pass, ok := r.BasicAuth()
	if ok {
		// RFC 6749 §2.3.1: form-encoded before Basic encoding.
		var errUser, errPass error
		user, errUser = url.QueryUnescape(user)
		pass, errPass = url.QueryUnescape(pass)
		ok = errUser == nil && errPass == nil
	}
	i.mu.Lock()
	c, known := i.clients[user]
	i.mu.Unlock()
	if !ok || !known || c.secret != pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="prefect-cloud"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	if r.PostForm.Get("scope") != Scope {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", "scope must be "+Scope)
		return
	}
	// RFC 8707: a client may name the resource it wants the token for; the
	// only one this issuer mints tokens for is its audience.
	if resources, sent := r.PostForm["resource"]; sent && (len(resources) != 1 || resources[0] != i.Audience) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_target", "resource must be "+i.Audience)
		return
	}
	claims := i.Claims(c.grantID)
	claims["sub"] = user
	token, err := i.Sign(SignOptions{Claims: claims})
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": token,
		"token_type":   "bearer",
		"expires_in":   3600,
		"scope":        Scope,
	})
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
