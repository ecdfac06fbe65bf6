package prefect

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// TLSOptions mirror PREFECT_API_TLS_INSECURE_SKIP_VERIFY and PREFECT_API_SSL_CERT_FILE.
type TLSOptions struct {
	InsecureSkipVerify bool
	CAFile             string // PEM bundle added to the system roots
}

// maxRedirects bounds the redirects followed for one request. Prefect's own
// client follows redirects (follow_redirects=True outside unit-test mode,
// src/prefect/client/orchestration/__init__.py and client/cloud.py), e.g. a
// proxy adding a trailing slash; so do we, within the request's scope.
const maxRedirects = 5

// NewHTTPClient builds the one HTTP client to share between Clients: its
// transport pools connections and is wrapped by ReadOnlyTransport.
//
// timeout bounds each attempt (connect, headers and body) through
// http.Client.Timeout; retries happen above it, one Do per attempt, so the
// total is bounded separately by RetryPolicy.MaxElapsed and the context.
// Zero means no per-attempt timeout.
func NewHTTPClient(opts TLSOptions, timeout time.Duration) (*http.Client, error) {
	if timeout < 0 {
		return nil, errors.New("prefect: request timeout must not be negative")
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: opts.InsecureSkipVerify}
	if opts.CAFile != "" {
		roots, err := rootsWithCAFile(opts.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.RootCAs = roots
	}
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("prefect: http.DefaultTransport is not an *http.Transport")
	}
	transport := base.Clone() // keeps ProxyFromEnvironment, dial timeouts and HTTP/2
	transport.TLSClientConfig = tlsConfig
	transport.MaxIdleConns = 100
	transport.MaxIdleConnsPerHost = 16
	transport.IdleConnTimeout = 90 * time.Second
	transport.TLSHandshakeTimeout = 10 * time.Second
	transport.ExpectContinueTimeout = time.Second
	transport.ResponseHeaderTimeout = timeout
	return &http.Client{
		Transport:     ReadOnlyTransport(transport),
		Timeout:       timeout,
		CheckRedirect: scopedRedirects,
	}, nil
}

func rootsWithCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prefect: reading CA file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("prefect: CA file %s holds no PEM certificate", path)
	}
	return roots, nil
}

// scopedRedirects follows a redirect only within the scope of the Client
// that sent the request (Client.inScope: same origin, under the base path,
// allowed for the tenant): credentials must not travel to another origin,
// over plain HTTP, or to a path the caller was not allowed to name. Any other
// redirect, and any redirect of a request without a scope, is returned to
// the caller as the 3xx response itself. The read-only transport judges each
// hop again.
func scopedRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return http.ErrUseLastResponse
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return http.ErrUseLastResponse
	}
	inScope, ok := req.Context().Value(scopeKey{}).(func(*url.URL) bool)
	if !ok || !inScope(req.URL) {
		return http.ErrUseLastResponse
	}
	return nil
}

// ErrWriteRefused is matched (errors.Is) by every *WriteRefusedError.
var ErrWriteRefused = errors.New("refused by the read-only Prefect client")

// WriteRefusedError is a request the read-only policy stopped before any network I/O.
type WriteRefusedError struct {
	Method string
	Path   string // the request's escaped URL path, without query
	Reason string
}

func (e *WriteRefusedError) Error() string {
	return fmt.Sprintf("prefect: %s %s refused by the read-only client: %s", e.Method, e.Path, e.Reason)
}

func (e *WriteRefusedError) Is(target error) bool { return target == ErrWriteRefused }

// ReadOnlyTransport refuses, before any network I/O, every request that
// could change state in Prefect; see checkReadOnly for the rule.
func ReadOnlyTransport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if ro, ok := next.(readOnlyTransport); ok {
		return ro
	}
	return readOnlyTransport{next: next}
}

type readOnlyTransport struct{ next http.RoundTripper }

func (t readOnlyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkReadOnly(req); err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip must close the body, even on error
		}
		return nil, err
	}
	return t.next.RoundTrip(req)
}

// readSuffixes are the last path segments of Prefect's POST read endpoints.
var readSuffixes = map[string]bool{"filter": true, "count": true, "history": true, "paginate": true}

// methodOverrideHeaders could make a proxy or framework treat a GET or a
// POST filter as another method.
var methodOverrideHeaders = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// checkReadOnly is the read-only policy, decided on the request alone:
//
//   - GET and HEAD pass; every other method except POST is refused.
//   - A POST passes only if its path's last segment is filter, count,
//     history or paginate, or the path ends in count-by/{countable}
//     (Prefect's read endpoints that take a body). Everything else — creates,
//     set_state, bulk_*, increment, get_runs, get_scheduled_flow_runs (reads
//     that mark queues polled), lateness, validate — is refused.
//   - For every method the path is judged segment by segment on its escaped
//     form: empty segments (//, or a trailing slash on a POST), dot segments
//     and encoded slashes are refused as ambiguous — Prefect's router decodes
//     before it matches, and a proxy may resolve dots, so such a path may not
//     reach the route it seems to name. Escapes inside the deciding segments
//     of a POST are refused too; matching is case-sensitive, like the router.
//   - Paths through block_documents are refused for every method: block
//     documents hold secrets and no tool needs them.
//   - GETs with side effects are refused for every method (see
//     sideEffectGET): the review of every GET route follows.
//   - Method-override headers are refused.
//
// Review of the GET routes of Prefect 3.8's OpenAPI document
// (internal/openapi/prefect-openapi.json) against Prefect's source
// (PrefectHQ/prefect, src/prefect/server/api/*.py and models/*.py):
//
//   - Writes: GET /csrf-token (csrf_token.py create_csrf_token: "Create or
//     update a CSRF token for a client" — create_or_update_csrf_token and
//     delete_expired_tokens in a transaction). Refused.
//   - Outbound fetches: GET /collections/views/{view} (collections.py
//     read_view_content: the Prefect server fetches the view from
//     raw.githubusercontent.com and fills a process cache). Refused: no
//     tool needs it and a read must not make Prefect reach the internet.
//   - Secrets: /block_documents/{id} and /block_types/slug/{slug}/
//     block_documents[/name/{name}] (block document values). Refused above.
//   - Plain reads, one SELECT session or a constant (no begin_transaction,
//     no model write): /admin/settings (obfuscated secrets), /admin/storage
//     (the default storage block's id), /admin/version, /hello, /health,
//     /ready (a database ping), /version; /artifacts/{id},
//     /artifacts/{key}/latest; /automations/{id},
//     /automations/related-to/{resource_id}; /block_capabilities/,
//     /block_schemas/{id}, /block_schemas/checksum/{checksum},
//     /block_types/{id}, /block_types/slug/{slug};
//     /concurrency_limits/{id}, /concurrency_limits/tag/{tag},
//     /v2/concurrency_limits/{id_or_name}; /deployments/{id},
//     /deployments/name/{flow_name}/{deployment_name},
//     /deployments/{id}/schedules, /deployments/{id}/work_queue_check
//     (deployments.py, check_work_queues_for_deployment: a query);
//     /events/filter/next (a page token read back); /flow_run_states/,
//     /flow_run_states/{id}, /task_run_states/, /task_run_states/{id};
//     /flow_runs/{id}, /flow_runs/{id}/graph, /flow_runs/{id}/graph-v2,
//     /flow_runs/{id}/input/{key} (flow_runs.py read_flow_run_input: its
//     docstring says "Create", the body is a SELECT),
//     /flow_runs/{id}/logs/download (a CSV of the logs; the body cap
//     applies); /flows/{id}, /flows/name/{name}; /saved_searches/{id};
//     /task_runs/{id}, /ui/task_runs/{id}; /variables/{id},
//     /variables/name/{name}; /work_pools/{name},
//     /work_pools/{work_pool_name}/queues/{name}, /work_queues/{id},
//     /work_queues/name/{name}, /work_queues/{id}/status
//     (work_queues.py read_work_queue_status: counts). Polling that marks
//     queues (get_runs, get_scheduled_flow_runs) is a POST, refused above.
//   - Prefect Cloud account reads the tools use (/me/, /accounts/{id},
//     /accounts/{id}/workspaces/{id}, /accounts/{id}/rate-limits/usage)
//     are not in the document; they are reads (docs: Cloud API reference).
//
// TestReadOnlyTransportWalksEveryOpenAPIRoute holds this review: a GET the
// review does not list fails it.
func checkReadOnly(req *http.Request) error {
	if req.URL == nil {
		return &WriteRefusedError{Method: req.Method, Reason: "request has no URL"}
	}
	escaped := req.URL.EscapedPath()
	refuse := func(reason string) error {
		return &WriteRefusedError{Method: req.Method, Path: escaped, Reason: reason}
	}
	if req.URL.Opaque != "" {
		return refuse("opaque URLs are not allowed")
	}
	for _, name := range methodOverrideHeaders {
		if _, ok := req.Header[http.CanonicalHeaderKey(name)]; ok {
			return refuse("method-override header " + name + " is not allowed")
		}
	}
	segments, err := pathSegments(escaped)
	if err != nil {
		return refuse(err.Error())
	}
	for _, s := range segments {
		if s.decoded == "block_documents" {
			return refuse("block documents hold secrets")
		}
	}
	if reason := sideEffectGET(segments); reason != "" {
		return refuse(reason)
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead: // net/http sends "" as GET
		return nil
	case http.MethodPost:
		if isReadPost(segments) {
			return nil
		}
		return refuse("POST is allowed only to read endpoints (…/filter, …/count, …/history, …/paginate, …/count-by/{countable})")
	}
	return refuse("only GET, HEAD and POST to read endpoints are allowed")
}

// sideEffectGET names why a GET route with a side effect is refused, or
// returns "" (see the review above checkReadOnly). Matching is on the last
// segments, so a base path (/api, /prefect/api, a Cloud workspace) does not
// matter; a trailing slash is ignored. The price: an object named
// "csrf-token" cannot be read by name.
func sideEffectGET(segments []pathSegment) string {
	n := len(segments)
	if n > 0 && segments[n-1].decoded == "" {
		n-- // trailing slash
	}
	switch {
	case n >= 1 && strings.EqualFold(segments[n-1].decoded, "csrf-token"):
		return "GET /csrf-token creates or updates a CSRF token in Prefect"
	case n >= 3 && strings.EqualFold(segments[n-3].decoded, "collections") && strings.EqualFold(segments[n-2].decoded, "views"):
		return "GET /collections/views/{view} makes the Prefect server fetch from the internet"
	}
	return ""
}

type pathSegment struct{ raw, decoded string }

// pathSegments splits an escaped path after its leading slash. A trailing
// slash yields a final empty segment; other empty segments are errors.
func pathSegments(escaped string) ([]pathSegment, error) {
	if !strings.HasPrefix(escaped, "/") {
		return nil, errors.New("path must be absolute")
	}
	parts := strings.Split(escaped[1:], "/")
	segments := make([]pathSegment, 0, len(parts))
	for i, raw := range parts {
		if raw == "" && i != len(parts)-1 {
			return nil, errors.New("empty path segment")
		}
		decoded, err := url.PathUnescape(raw)
		if err != nil {
			return nil, errors.New("invalid percent-encoding")
		}
		if decoded == "." || decoded == ".." {
			return nil, errors.New("dot segments are not allowed")
		}
		if strings.ContainsAny(decoded, "/\\") {
			return nil, errors.New("encoded slash in a path segment")
		}
		segments = append(segments, pathSegment{raw: raw, decoded: decoded})
	}
	return segments, nil
}

func isReadPost(segments []pathSegment) bool {
	n := len(segments)
	if n == 0 {
		return false
	}
	last := segments[n-1]
	if last.raw != last.decoded || last.raw == "" {
		return false // escapes in the deciding segment are ambiguous
	}
	if readSuffixes[last.raw] {
		return true
	}
	if n >= 2 && segments[n-2].raw == "count-by" {
		return isToken(last.raw)
	}
	return false
}

// isToken accepts the lowercase enum values of /events/count-by/{countable}.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && c != '_' && c != '-' {
			return false
		}
	}
	return s != ""
}
