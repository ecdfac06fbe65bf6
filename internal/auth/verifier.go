package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"golang.org/x/time/rate"
)

// Keys of sdkauth.TokenInfo.Extra set by Verifier.
const (
	// TokenInfoGrantID holds the token's mcp_grant_id claim (string, may be empty).
	TokenInfoGrantID = "grant_id"
	// TokenInfoAccessToken holds the raw access token as a Secret, for
	// upstream Cloud calls on the caller's behalf. Read it with AccessToken.
	TokenInfoAccessToken = "access_token"
)

// MaxTokenBytes bounds the size of a bearer token considered at all; real
// access tokens are a few hundred bytes.
const MaxTokenBytes = 8 << 10

const maxJWKSBytes = 1 << 20

// ErrInsufficientScope is matched (errors.Is) by a TokenError for a valid
// token that lacks ScopeWorkspaces.
var ErrInsufficientScope = errors.New("insufficient scope")

// TokenError explains why a token was refused. Description is fixed text safe
// to show to clients; it never contains the token or attacker-chosen input.
// The error matches sdkauth.ErrInvalidToken or ErrInsufficientScope, and the
// underlying jwt/keyfunc error.
type TokenError struct {
	Description string
	kind        error
	cause       error
}

func (e *TokenError) Error() string { return e.kind.Error() + ": " + e.Description }

func (e *TokenError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func invalidToken(description string, cause error) *TokenError {
	return &TokenError{Description: description, kind: sdkauth.ErrInvalidToken, cause: cause}
}

// VerifierOptions tunes a Verifier; zero values select the defaults.
type VerifierOptions struct {
	// Leeway tolerated on exp, nbf and iat. Default 30s.
	Leeway time.Duration
	// UnknownKIDRefreshInterval is the minimum time between JWKS refetches
	// triggered by tokens naming an unknown kid, so forged kids cannot turn
	// the server into a JWKS request amplifier. Default 1m.
	UnknownKIDRefreshInterval time.Duration
	// RefreshInterval is how often the JWKS is refetched in the background. Default 10m.
	RefreshInterval time.Duration
	// FetchTimeout bounds one JWKS fetch. Default 10s.
	FetchTimeout time.Duration
	// Logger receives JWKS fetch failures. Default: discard.
	Logger *slog.Logger
	// Now is the clock exp, nbf and iat are checked against. Default time.Now.
	Now func() time.Time
}

// Verifier checks Prefect Cloud MCP access tokens against the configured
// issuer, audience, algorithms and the JWKS, which it caches. It is safe for
// concurrent use. Close it to stop the background JWKS refresh.
type Verifier struct {
	parser              *jwt.Parser
	keys                keyfunc.Keyfunc
	resourceMetadataURL string
	stop                context.CancelFunc
}

// NewVerifier fetches the JWKS once (a failure is logged, not returned: the
// verifier then refuses every token until a fetch succeeds) and starts the
// background refresh, which ends with ctx or Close. hc nil means a plain
// http.Client; its transport is reused with a cap on the JWKS body size.
func NewVerifier(ctx context.Context, hc *http.Client, cfg CloudConfig, opts VerifierOptions) (*Verifier, error) {
	if err := validateVerifierConfig(cfg); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()

	client := &http.Client{}
	if hc != nil {
		copied := *hc
		client = &copied
	}
	client.Transport = cappedTransport{base: client.Transport, maxBytes: maxJWKSBytes}

	ctx, stop := context.WithCancel(ctx)
	logger := opts.Logger
	keys, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURI}, keyfunc.Override{
		Client:           client,
		HTTPTimeout:      opts.FetchTimeout,
		RefreshInterval:  opts.RefreshInterval,
		RateLimitWaitMax: opts.FetchTimeout,
		// Burst 1: the first unknown kid refetches at once, later ones within
		// the interval fail fast instead of queueing.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(opts.UnknownKIDRefreshInterval), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				logger.WarnContext(ctx, "fetching the OAuth JWKS failed; tokens signed by unknown keys are refused", "url", u, "error", err)
			}
		},
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("auth: JWKS client for %s: %w", cfg.JWKSURI, err)
	}

	parser := jwt.NewParser(
		jwt.WithValidMethods(slices.Clone(cfg.Algorithms)),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(opts.Leeway),
		jwt.WithTimeFunc(opts.Now),
		jwt.WithStrictDecoding(),
	)
	return &Verifier{
		parser:              parser,
		keys:                keys,
		resourceMetadataURL: cfg.ResourceMetadataURL(),
		stop:                stop,
	}, nil
}

// Close stops the background JWKS refresh.
func (v *Verifier) Close() { v.stop() }

func (o VerifierOptions) withDefaults() VerifierOptions {
	if o.Leeway <= 0 {
		o.Leeway = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UnknownKIDRefreshInterval <= 0 {
		o.UnknownKIDRefreshInterval = time.Minute
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = 10 * time.Minute
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func validateVerifierConfig(cfg CloudConfig) error {
	if _, err := parseURL(cfg.JWKSURI); err != nil {
		return fmt.Errorf("auth: JWKS URI: %w", err)
	}
	if cfg.PublicBaseURL == "" {
		return errors.New("auth: the public base URL is required to verify tokens")
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return errors.New("auth: issuer and audience are required to verify tokens")
	}
	if len(cfg.Algorithms) == 0 {
		return errors.New("auth: at least one signing algorithm is required")
	}
	for _, alg := range cfg.Algorithms {
		if !slices.Contains(asymmetricAlgorithms, alg) {
			return fmt.Errorf("auth: algorithm %q is not accepted; use one of %s", alg, strings.Join(asymmetricAlgorithms, ", "))
		}
	}
	return nil
}

// cloudClaims are the claims of a Prefect Cloud MCP access token.
type cloudClaims struct {
	jwt.RegisteredClaims
	Scope   scopeList `json:"scope"`
	Scp     scopeList `json:"scp"`
	GrantID string    `json:"mcp_grant_id"`
}

// scopeList accepts a space-separated string (RFC 8693 "scope") or an array
// of strings ("scp").
type scopeList []string

func (s *scopeList) UnmarshalJSON(data []byte) error {
	var joined string
	if err := json.Unmarshal(data, &joined); err == nil {
		*s = strings.Fields(joined)
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return errors.New("scope claim must be a string or an array of strings")
	}
	*s = list
	return nil
}

// Verify checks token and returns what the MCP SDK and the tools need: the
// scopes, expiry, subject as UserID, and in Extra the grant id and the raw
// token (see TokenInfoGrantID, TokenInfoAccessToken). Errors are *TokenError.
// An unknown kid triggers a rate-limited JWKS refetch bounded by ctx.
func (v *Verifier) Verify(ctx context.Context, token string) (*sdkauth.TokenInfo, error) {
	if token == "" {
		return nil, invalidToken("token is empty", nil)
	}
	if len(token) > MaxTokenBytes {
		return nil, invalidToken("token is too large", nil)
	}
	var claims cloudClaims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.keys.KeyfuncCtx(ctx)); err != nil {
		return nil, invalidToken(describeJWTError(err), err)
	}
	scopes := slices.Concat(claims.Scope, claims.Scp)
	if !slices.Contains(scopes, ScopeWorkspaces) {
		return nil, &TokenError{Description: "token lacks scope " + ScopeWorkspaces, kind: ErrInsufficientScope}
	}
	// The go-sdk binds a stateful session to UserID, and binds nothing when
	// it is empty: a token without a subject is its own principal.
	principal := claims.Subject
	if principal == "" {
		sum := sha256.Sum256([]byte(token))
		principal = "oauth-token:" + hex.EncodeToString(sum[:16])
	}
	return &sdkauth.TokenInfo{
		Scopes:     slices.Compact(slices.Sorted(slices.Values(scopes))),
		Expiration: claims.ExpiresAt.Time,
		UserID:     principal,
		Extra: map[string]any{
			TokenInfoGrantID:     claims.GrantID,
			TokenInfoAccessToken: Secret(token),
		},
	}, nil
}

// describeJWTError maps a parse failure to fixed text: jwt and keyfunc
// messages may quote header values chosen by whoever sent the token.
func describeJWTError(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token is malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token signing key is unknown or unavailable"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "token signature or algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token is expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token is issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience is not this resource"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token lacks a required claim"
	default:
		return "token is invalid"
	}
}

// AccessToken returns the raw access token a Verifier stored in ti.
func AccessToken(ti *sdkauth.TokenInfo) (Secret, bool) {
	if ti == nil {
		return "", false
	}
	token, ok := ti.Extra[TokenInfoAccessToken].(Secret)
	return token, ok && token != ""
}

// GrantID returns the mcp_grant_id a Verifier stored in ti, or "".
func GrantID(ti *sdkauth.TokenInfo) string {
	if ti == nil {
		return ""
	}
	id, _ := ti.Extra[TokenInfoGrantID].(string)
	return id
}
