package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// bearerProblem classifies what is wrong with a request's credentials.
type bearerProblem int

const (
	bearerOK        bearerProblem = iota
	bearerMissing                 // no Authorization header, or another scheme
	bearerMalformed               // several headers, empty token, bad characters, too long
	bearerInQuery                 // access_token in the URL (RFC 6750 §2.3): refused, URLs get logged
)

// bearerFromRequest extracts the token of an "Authorization: Bearer" header.
func bearerFromRequest(r *http.Request) (string, bearerProblem) {
	if hasQueryAccessToken(r) {
		return "", bearerInQuery
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", bearerMissing
	case 1:
	default:
		return "", bearerMalformed
	}
	scheme, rest, found := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", bearerMissing
	}
	if !found {
		return "", bearerMalformed
	}
	token := strings.TrimLeft(rest, " ")
	if len(token) > MaxTokenBytes || !isToken68(token) {
		return "", bearerMalformed
	}
	return token, bearerOK
}

func hasQueryAccessToken(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false
	}
	for key := range r.URL.Query() {
		if strings.EqualFold(key, "access_token") {
			return true
		}
	}
	return false
}

// isToken68 reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// writeAuthError answers with a Bearer challenge (RFC 6750 §3). baseParams
// are preformatted auth-params; code and description are added when code is set.
func writeAuthError(w http.ResponseWriter, status int, baseParams []string, code, description string) {
	params := baseParams
	if code != "" {
		params = append(params[:len(params):len(params)], authParam("error", code))
		if description != "" {
			params = append(params, authParam("error_description", description))
		}
	}
	h := w.Header()
	h.Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if code == "" {
		code, description = "unauthorized", "a bearer token is required"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// authParam formats name="value" with value as an RFC 9110 quoted-string.
func authParam(name, value string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(`="`)
	for i := 0; i < len(value); i++ {
		if value[i] == '"' || value[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(value[i])
	}
	b.WriteByte('"')
	return b.String()
}

// verifiedTokenKey carries a TokenInfo from Verifier.Middleware to the inner
// go-sdk middleware, the only code able to store it where
// sdkauth.TokenInfoFromContext (and so the streamable handler) looks.
type verifiedTokenKey struct{}

// Middleware requires a valid Prefect Cloud access token in the
// Authorization header and hands its TokenInfo to next through the request
// context (sdkauth.TokenInfoFromContext; tool handlers see it as
// req.Extra.TokenInfo). Refusals follow RFC 6750 and RFC 9728:
//
//	no token or another scheme  401, challenge with resource_metadata and scope
//	invalid token               401, error="invalid_token"
//	token lacks the scope       403, error="insufficient_scope"
//	access_token in the query   400, error="invalid_request"
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	base := []string{authParam("resource_metadata", v.resourceMetadataURL), authParam("scope", ScopeWorkspaces)}
	attach := sdkauth.RequireBearerToken(
		func(ctx context.Context, _ string, _ *http.Request) (*sdkauth.TokenInfo, error) {
			if ti, ok := ctx.Value(verifiedTokenKey{}).(*sdkauth.TokenInfo); ok {
				// Verify checked exp (required, with the leeway) against the
				// verifier's clock; the SDK would check it again against the
				// wall clock, which a verifier given another clock (tests)
				// does not share. The handlers get the expiry back below.
				unchecked := *ti
				unchecked.Expiration = time.Time{}
				return &unchecked, nil
			}
			return nil, sdkauth.ErrInvalidToken
		},
		&sdkauth.RequireBearerTokenOptions{
			ResourceMetadataURL:    v.resourceMetadataURL,
			Scopes:                 []string{ScopeWorkspaces},
			AllowMissingExpiration: true,
		},
	)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verified, ok := r.Context().Value(verifiedTokenKey{}).(*sdkauth.TokenInfo)
		if ti := sdkauth.TokenInfoFromContext(r.Context()); ti != nil && ok {
			ti.Expiration = verified.Expiration
		}
		next.ServeHTTP(w, r)
	}))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, problem := bearerFromRequest(r)
		switch problem {
		case bearerInQuery:
			writeAuthError(w, http.StatusBadRequest, base, "invalid_request", "send the access token in the Authorization header, not the URL")
			return
		case bearerMissing:
			writeAuthError(w, http.StatusUnauthorized, base, "", "")
			return
		case bearerMalformed:
			writeAuthError(w, http.StatusUnauthorized, base, "invalid_token", "malformed bearer credentials")
			return
		}
		ti, err := v.Verify(r.Context(), token)
		if err != nil {
			var tokenErr *TokenError
			if !errors.As(err, &tokenErr) {
				tokenErr = invalidToken("token is invalid", err)
			}
			if errors.Is(err, ErrInsufficientScope) {
				writeAuthError(w, http.StatusForbidden, base, "insufficient_scope", tokenErr.Description)
				return
			}
			writeAuthError(w, http.StatusUnauthorized, base, "invalid_token", tokenErr.Description)
			return
		}
		attach.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), verifiedTokenKey{}, ti)))
	})
}
