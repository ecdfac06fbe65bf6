// Package prefect is a read-only REST client for the Prefect API: base URL and
// auth, a transport that refuses writes before any network I/O, bounded
// retries, typed errors and size-capped JSON bodies.
package prefect

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	fastjson "github.com/segmentio/encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIVersion is the REST API version sent in X-PREFECT-API-VERSION, the value
// Prefect's own client sends (prefect.client.constants.SERVER_API_VERSION).
const APIVersion = "0.8.4"

// DefaultMaxResponseBytes caps a response body unless Config says otherwise.
const DefaultMaxResponseBytes int64 = 16 << 20

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "prefect-mcp"

// Config says which Prefect API to talk to and how.
type Config struct {
	// BaseURL is PREFECT_API_URL: http://host:4200/api or
	// https://api.prefect.cloud/api/accounts/{account}/workspaces/{workspace}.
	BaseURL string
	// APIKey is sent as a bearer token when no AuthString is set.
	APIKey string
	// AuthString is "user:password" for a self-hosted server's basic auth.
	// Like Prefect's own client (3.4.1+), it wins when both are set.
	AuthString       string
	UserAgent        string
	MaxResponseBytes int64 // 0 means DefaultMaxResponseBytes
	Retry            RetryPolicy
	// AllowURL, when set, must accept every URL requested with these
	// credentials — on this base URL, on one from WithBaseURL, and each
	// redirect — on top of the base URL's own scope (see Client.inScope).
	AllowURL func(*url.URL) bool
	// Budget, shared by every client of the process, bounds the memory of
	// answers in flight; nil means no budget.
	Budget *Budget
	// Observe, when set, reports each request (traces, debug log).
	Observe *Observer
}

// Client calls one Prefect API. It is immutable and safe for concurrent use.
type Client struct {
	baseURL          string // scheme://host/path without a trailing slash
	authorization    string
	userAgent        string
	maxResponseBytes int64
	retry            RetryPolicy
	budget           *Budget
	hc               *http.Client
	secrets          []string // redacted from any text taken from a response
	allow            func(*url.URL) bool
	observe          *Observer
}

// New validates cfg and returns a Client using hc, the shared client from
// NewHTTPClient. A nil hc gets a default one. Whatever hc is, its transport is
// made read-only.
func New(cfg Config, hc *http.Client) (*Client, error) {
	baseURL, err := normalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.MaxResponseBytes < 0 {
		return nil, errors.New("prefect: MaxResponseBytes must not be negative")
	}
	if hc == nil {
		if hc, err = NewHTTPClient(TLSOptions{}, 0); err != nil {
			return nil, err
		}
	}
	if _, ok := hc.Transport.(readOnlyTransport); !ok {
		wrapped := *hc // shares the transport, so connections are still pooled
		wrapped.Transport = ReadOnlyTransport(hc.Transport)
		hc = &wrapped
	}
	c := &Client{
		baseURL:          baseURL,
		userAgent:        cmpOr(cfg.UserAgent, DefaultUserAgent),
		maxResponseBytes: cfg.MaxResponseBytes,
		retry:            cfg.Retry.withDefaults(),
		budget:           cfg.Budget,
		hc:               hc,
		allow:            cfg.AllowURL,
		observe:          cfg.Observe,
	}
	if c.maxResponseBytes == 0 {
		c.maxResponseBytes = DefaultMaxResponseBytes
	}
	switch {
	case cfg.AuthString != "":
		c.authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.AuthString))
	case cfg.APIKey != "":
		c.authorization = "Bearer " + cfg.APIKey
	}
	c.secrets = secretsOf(cfg.APIKey, cfg.AuthString)
	return c, nil
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// secretsOf lists every form in which a credential could be echoed back.
func secretsOf(apiKey, authString string) []string {
	var secrets []string
	add := func(s string) {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	add(apiKey)
	if authString != "" {
		add(authString)
		add(base64.StdEncoding.EncodeToString([]byte(authString)))
		if _, password, ok := strings.Cut(authString, ":"); ok {
			add(password)
		}
	}
	return secrets
}

// normalizeBaseURL checks the base URL without ever echoing it whole: a
// malformed URL may hold a password.
func normalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("prefect: API URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("prefect: API URL is not a valid URL")
	}
	if u.User != nil {
		return "", errors.New("prefect: API URL must not contain credentials (user:password@); use the API key or auth string")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("prefect: API URL must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:4200/api")
	}
	if u.Host == "" || u.Opaque != "" {
		return "", errors.New("prefect: API URL has no host, e.g. http://127.0.0.1:4200/api")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", errors.New("prefect: API URL must not have a query or fragment")
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if path != "" {
		if _, err := pathSegments(path); err != nil {
			return "", fmt.Errorf("prefect: API URL path: %v", err)
		}
	}
	return u.Scheme + "://" + u.Host + path, nil
}

// WithBaseURL returns a Client for another API root with the same
// credentials, HTTP client and policies, e.g. Prefect Cloud's account-level
// API (https://api.prefect.cloud/api) next to a workspace URL.
func (c *Client) WithBaseURL(baseURL string) (*Client, error) {
	normalized, err := normalizeBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	clone := *c
	clone.baseURL = normalized
	return &clone, nil
}

// inScope reports whether u may be requested with this client's
// credentials: the base URL's scheme and host, a path at or under the base
// path (compared on the escaped form, segment by segment), and AllowURL's
// consent when it is set. Every request and every redirect is judged by it.
func (c *Client) inScope(u *url.URL) bool {
	base, err := url.Parse(c.baseURL) // normalized by New: parses
	if err != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return false
	}
	path, prefix := u.EscapedPath(), base.EscapedPath()
	if prefix != "" && path != prefix && !strings.HasPrefix(path, prefix+"/") {
		return false
	}
	return c.allow == nil || c.allow(u)
}

// scopeKey carries Client.inScope to the redirect policy of the shared
// http.Client, which sees only requests.
type scopeKey struct{}

// ErrOutOfScope is matched (errors.Is) by every *ScopeError.
var ErrOutOfScope = errors.New("outside the Prefect API URLs allowed for these credentials")

// ScopeError is a request refused, before any I/O, because its URL is
// outside the client's scope (see Client.inScope).
type ScopeError struct {
	Method string
	URL    string // scheme://host/escaped-path, no query
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("prefect: %s %s refused: %v", e.Method, e.URL, ErrOutOfScope)
}

func (e *ScopeError) Is(target error) bool { return target == ErrOutOfScope }

// BaseURL is the API URL requests are made against, without a trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// Path formats a request path, escaping every segment taken from input so
// that spaces, slashes, "?" and unicode stay inside their segment:
// Path("/deployments/name/%s/%s", flow, deployment).
func Path(format string, segments ...string) string {
	args := make([]any, len(segments))
	for i, s := range segments {
		args[i] = escapeSegment(s)
	}
	return fmt.Sprintf(format, args...)
}

func escapeSegment(s string) string {
	switch s {
	case ".":
		return "%2E" // a bare dot segment would move the path
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// Get reads path (relative to the base URL) with query q into out.
// out may be nil (body discarded) or anything encoding/json decodes into,
// including *json.RawMessage.
func (c *Client) Get(ctx context.Context, path string, q url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, q.Encode(), nil, out)
}

// Post sends body as JSON to a read endpoint (…/filter, …/count, …) and
// decodes the answer into out. A nil body is sent as {}.
func (c *Client) Post(ctx context.Context, path string, body, out any) error {
	payload := []byte("{}")
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("prefect: POST %s: encoding request body: %w", path, err)
		}
	}
	return c.do(ctx, http.MethodPost, path, "", payload, out)
}

// attemptResult is the outcome of one HTTP exchange.
type attemptResult struct {
	err    error
	retry  bool          // worth another attempt
	wait   time.Duration // before that attempt; from Retry-After when the server sent one
	status int           // HTTP status; 0 when no response arrived
	bytes  int           // response body bytes read
}

func (c *Client) do(ctx context.Context, method, path, query string, body []byte, out any) error {
	if err := validateRequestPath(path); err != nil {
		return fmt.Errorf("prefect: %s %s: %w", method, path, err)
	}
	ctx, obs := c.observe.start(ctx, method, path, c.retry.Now)
	result, retries := c.send(ctx, method, path, query, body, out)
	obs.end(ctx, result, retries)
	return result.err
}

// send makes the request, retrying as the policy allows, and returns the
// last attempt's outcome and how many retries it took.
func (c *Client) send(ctx context.Context, method, path, query string, body []byte, out any) (attemptResult, int) {
	target := c.baseURL + path
	if query != "" {
		target += "?" + query
	}
	policy := c.retry
	deadline := policy.Now().Add(policy.MaxElapsed)
	if ctxDeadline, ok := ctx.Deadline(); ok && ctxDeadline.Before(deadline) {
		deadline = ctxDeadline
	}
	for attempt := 1; ; attempt++ {
		result := c.attempt(ctx, method, path, target, body, out)
		if result.err == nil || !result.retry || attempt >= policy.MaxAttempts {
			return result, attempt - 1
		}
		wait := result.wait
		if wait == 0 {
			wait = policy.backoff(attempt)
		}
		if wait > deadline.Sub(policy.Now()) {
			return result, attempt - 1 // the wait would overrun the budget; RetryAfter tells the caller when
		}
		if policy.Sleep(ctx, wait) != nil {
			return result, attempt - 1
		}
	}
}

// validateRequestPath rejects paths that are not plain relative API paths;
// the read-only transport would refuse most, but a clear error is kinder.
func validateRequestPath(path string) error {
	if !strings.HasPrefix(path, "/") {
		return errors.New(`path must start with "/"`)
	}
	if strings.ContainsAny(path, "?#") {
		return errors.New("path must not contain a query or fragment; pass query values separately")
	}
	if _, err := pathSegments(path); err != nil {
		return err
	}
	return nil
}

func (c *Client) attempt(ctx context.Context, method, path, target string, body []byte, out any) attemptResult {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, scopeKey{}, c.inScope), method, target, reader)
	if err != nil {
		return attemptResult{err: fmt.Errorf("prefect: %s %s: building request: %w", method, path, c.redactError(err))}
	}
	if !c.inScope(req.URL) {
		return attemptResult{err: &ScopeError{Method: method, URL: req.URL.Scheme + "://" + req.URL.Host + req.URL.EscapedPath()}}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("X-Prefect-Api-Version", APIVersion)
	if c.authorization != "" {
		req.Header.Set("Authorization", c.authorization)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		// A nil Idempotency-Key marks the POST replayable for net/http (so it
		// retries on a dead pooled connection) without sending the header:
		// every POST that passes the read-only transport is a read.
		req.Header["Idempotency-Key"] = nil
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		var refused *WriteRefusedError
		if errors.As(err, &refused) {
			return attemptResult{err: refused}
		}
		kind, cause := classifyTransportError(ctx, err)
		return attemptResult{
			err:   &TransportError{Method: method, Path: path, APIURL: c.baseURL, Kind: kind, Err: c.redactError(cause)},
			retry: kind == KindReset,
		}
	}
	defer closeBody(resp.Body)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		result := c.statusError(method, path, resp)
		result.status = resp.StatusCode
		return result
	}
	charges := &ledger{b: c.budget, method: method, path: path}
	defer charges.settle(ctx) // a failed attempt's charges are released
	data, err := c.readBody(resp, charges)
	if err != nil {
		if budgetErr, ok := errors.AsType[*BudgetError](err); ok {
			return attemptResult{err: budgetErr}
		}
		if errors.Is(err, ErrResponseTooLarge) {
			return attemptResult{err: &ResponseError{Method: method, Path: path, Status: resp.StatusCode, Err: err}, status: resp.StatusCode}
		}
		kind, cause := classifyTransportError(ctx, err)
		return attemptResult{
			err: &TransportError{Method: method, Path: path, APIURL: c.baseURL, Kind: kind,
				Err: fmt.Errorf("reading response body: %w", c.redactError(cause))},
			retry:  kind == KindReset,
			status: resp.StatusCode,
		}
	}
	if out != nil && c.budget != nil {
		// What the bytes decode into: strings copied, a struct per container.
		if err := charges.take(int64(len(data)) + countContainers(data)*containerCost); err != nil {
			return attemptResult{err: err}
		}
	}
	if err := decodeBody(resp.StatusCode, data, out); err != nil {
		return attemptResult{err: &ResponseError{Method: method, Path: path, Status: resp.StatusCode, Err: c.redactError(err), HTML: isHTML(resp.Header, data)}, status: resp.StatusCode, bytes: len(data)}
	}
	charges.keep = true
	return attemptResult{status: resp.StatusCode, bytes: len(data)}
}

// closeBody drains a little of what is left so the connection can be reused.
func closeBody(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	_ = body.Close()
}

// readBody reads at most maxResponseBytes; one byte more means too large.
// Every buffer it allocates is charged first.
func (c *Client) readBody(resp *http.Response, charges *ledger) ([]byte, error) {
	limit := c.maxResponseBytes
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes announced, limit is %d", ErrResponseTooLarge, resp.ContentLength, limit)
	}
	data, err := readAtMost(resp.Body, limit+1, resp.ContentLength, charges.take)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return data, nil
}

// readAtMost reads up to most bytes. Its buffer never grows past most, so an
// endless body costs about 2·most of allocation (bytes.Buffer would double
// past the cap for the one extra byte: 4·most).
// grow is told the size of each allocation first and may refuse it.
func readAtMost(r io.Reader, most, hint int64, grow func(int64) error) ([]byte, error) {
	size := int64(512)
	if hint > 0 {
		size = hint + 1 // room to see EOF without growing
	}
	size = min(size, most)
	if err := grow(size); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= most {
				return buf, nil
			}
			size := min(2*int64(cap(buf)), most)
			if err := grow(size - int64(cap(buf))); err != nil {
				return nil, err
			}
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func decodeBody(status int, data []byte, out any) error {
	if out == nil {
		return nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if status == http.StatusNoContent {
			return nil
		}
		return fmt.Errorf("%w: empty body", ErrMalformedResponse)
	}
	// segmentio/encoding decodes Prefect's large list answers several times
	// faster than encoding/json (measured: it dominated a tool call's CPU);
	// the MCP SDK already depends on it.
	if fastjson.Unmarshal(data, out) == nil {
		return nil
	}
	// On failure, encoding/json classifies the error; its messages never
	// quote the body (which could echo a credential), segmentio's do.
	err := json.Unmarshal(data, out)
	if err == nil {
		return nil
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) && syntaxErr.Offset >= int64(len(data)) {
		return fmt.Errorf("%w: JSON ends early (truncated body of %d bytes)", ErrMalformedResponse, len(data))
	}
	return fmt.Errorf("%w: %v", ErrMalformedResponse, err)
}

func (c *Client) statusError(method, path string, resp *http.Response) attemptResult {
	apiErr := &APIError{
		Method:    method,
		Path:      path,
		Status:    resp.StatusCode,
		Retryable: isRetryableStatus(resp.StatusCode),
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		apiErr.Detail = "unexpected redirect"
		if loc, err := resp.Location(); err == nil {
			apiErr.Detail += " to " + loc.Scheme + "://" + loc.Host + loc.EscapedPath()
		}
	} else {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		apiErr.Detail = parseErrorDetail(data)
		apiErr.HTML = isHTML(resp.Header, data)
	}
	apiErr.Detail = c.redact(apiErr.Detail)
	var wait time.Duration
	if retryAfter, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.retry.Now()); ok {
		apiErr.RetryAfter = retryAfter
		wait = retryAfter
	}
	return attemptResult{err: apiErr, retry: apiErr.Retryable, wait: wait}
}

const redacted = "[REDACTED]"

func (c *Client) redact(s string) string {
	for _, secret := range c.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// redactError keeps err (for errors.Is/As) unless its text holds a credential.
func (c *Client) redactError(err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if clean := c.redact(text); clean != text {
		return &redactedError{text: clean, err: err}
	}
	return err
}

type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
