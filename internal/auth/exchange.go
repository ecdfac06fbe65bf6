package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Token is an access token issued by the Cloud token endpoint.
type Token struct {
	AccessToken Secret
	TokenType   string // "bearer"
	ExpiresIn   time.Duration
	Expiry      time.Time // receipt time + ExpiresIn
	Scope       string
}

// ErrExchangeRejected is matched by ExchangeClientCredentials errors when the
// token endpoint refuses the client (HTTP 400 or 401).
var ErrExchangeRejected = errors.New("token endpoint rejected the client credentials")

const maxTokenResponseBytes = 64 << 10

// ExchangeClientCredentials exchanges service-account client credentials for
// an access token: POST {authBase}/auth/mcp/oauth/token with HTTP Basic
// authentication and grant_type=client_credentials, scope=ScopeWorkspaces.
// Errors never contain the secret or the token. hc nil means a plain http.Client.
func ExchangeClientCredentials(ctx context.Context, hc *http.Client, authBase, clientID, clientSecret string) (Token, error) {
	if clientID == "" || clientSecret == "" {
		return Token{}, errors.New("token exchange: client id and client secret are required")
	}
	if hc == nil {
		hc = &http.Client{}
	}
	endpoint := strings.TrimRight(authBase, "/") + "/auth/mcp/oauth/token"
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {ScopeWorkspaces}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("token exchange: %w", err)
	}
	// RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := hc.Do(req)
	if err != nil {
		return Token{}, fmt.Errorf("token exchange: %w", err)
	}
	defer resp.Body.Close()
	received := time.Now()
	body, err := readBody(resp, maxTokenResponseBytes)
	if err != nil {
		return Token{}, fmt.Errorf("token exchange: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Token{}, scrubError(exchangeStatusError(resp.StatusCode, body), clientSecret)
	}

	var payload struct {
		AccessToken string      `json:"access_token"`
		TokenType   string      `json:"token_type"`
		ExpiresIn   json.Number `json:"expires_in"`
		Scope       string      `json:"scope"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		return Token{}, errors.New("token exchange: response is not a JSON token object")
	}
	switch {
	case payload.AccessToken == "":
		return Token{}, errors.New("token exchange: response has no access_token")
	case !strings.EqualFold(payload.TokenType, "bearer"):
		return Token{}, scrubError(fmt.Errorf("token exchange: token_type %q is not bearer", truncate(payload.TokenType, 40)), clientSecret)
	case strings.TrimSpace(payload.Scope) == "":
		return Token{}, errors.New("token exchange: response has no scope")
	case !slices.Contains(strings.Fields(payload.Scope), ScopeWorkspaces):
		return Token{}, scrubError(fmt.Errorf("token exchange: granted scope %q lacks %s", truncate(payload.Scope, 200), ScopeWorkspaces), clientSecret)
	}
	seconds, err := payload.ExpiresIn.Float64()
	if err != nil || seconds <= 0 || math.IsInf(seconds, 0) || seconds > 366*24*3600 {
		return Token{}, errors.New("token exchange: expires_in must be a positive number of seconds")
	}
	expiresIn := time.Duration(seconds * float64(time.Second))
	return Token{
		AccessToken: Secret(payload.AccessToken),
		TokenType:   payload.TokenType,
		ExpiresIn:   expiresIn,
		Expiry:      received.Add(expiresIn),
		Scope:       payload.Scope,
	}, nil
}

// exchangeStatusError reports an OAuth error response (RFC 6749 §5.2) by its
// code and description, which carry no credentials.
func exchangeStatusError(status int, body []byte) error {
	var oauthErr struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	detail := ""
	if json.Unmarshal(body, &oauthErr) == nil && oauthErr.Error != "" {
		detail = ": " + truncate(oauthErr.Error, 80)
		if oauthErr.Description != "" {
			detail += " (" + truncate(oauthErr.Description, 200) + ")"
		}
	}
	if status == http.StatusBadRequest || status == http.StatusUnauthorized {
		return fmt.Errorf("token exchange: %w: HTTP %d%s", ErrExchangeRejected, status, detail)
	}
	return fmt.Errorf("token exchange: HTTP %d%s", status, detail)
}

// scrubError hides secret should a misbehaving server echo it back in text
// that ends up in an error.
func scrubError(err error, secret string) error {
	msg := err.Error()
	if secret == "" || !strings.Contains(msg, secret) {
		return err
	}
	scrubbed := &scrubbedError{msg: strings.ReplaceAll(msg, secret, redacted)}
	if errors.Is(err, ErrExchangeRejected) {
		scrubbed.sentinel = ErrExchangeRejected
	}
	return scrubbed
}

// scrubbedError unwraps to the sentinel only, never to the unscrubbed text.
type scrubbedError struct {
	msg      string
	sentinel error
}

func (e *scrubbedError) Error() string { return e.msg }

func (e *scrubbedError) Unwrap() error { return e.sentinel }

func truncate(s string, maxRunes int) string {
	if runes := []rune(s); len(runes) > maxRunes {
		return string(runes[:maxRunes]) + "…"
	}
	return s
}
