package prefect

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// Detail and excerpt bounds keep error text readable for a model and cheap to log.
const (
	maxDetailBytes  = 1024
	maxExcerptBytes = 200
	// maxErrorBodyBytes bounds how much of an error response is read to build Detail.
	maxErrorBodyBytes = 64 << 10
)

// ErrResponseTooLarge is wrapped by *ResponseError when a body exceeds Config.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("response body too large")

// ErrMalformedResponse is wrapped by *ResponseError when a successful response is not the JSON expected.
var ErrMalformedResponse = errors.New("malformed response body")

// APIError is a non-2xx answer from the Prefect API.
type APIError struct {
	Method string
	Path   string // relative to the base URL, without the query string
	Status int
	// Detail is the server's explanation, flattened to one bounded line.
	Detail string
	// Retryable reports a status worth retrying later (429, 502, 503, 504).
	Retryable bool
	// RetryAfter is the wait the server asked for, when it sent Retry-After.
	RetryAfter time.Duration
	// HTML reports an HTML page for an answer: the URL is not the Prefect
	// API (a UI page, a login proxy, a static file server).
	HTML bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prefect API: %s %s: %d", e.Method, e.Path, e.Status)
	if text := http.StatusText(e.Status); text != "" {
		b.WriteString(" " + text)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter.Round(time.Second))
	}
	return b.String()
}

// StatusOf is the HTTP status of an *APIError anywhere in err's chain, else 0.
func StatusOf(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return 0
}

// IsNotFound reports the API's answer that an object does not exist: a 404
// from Prefect's JSON API. Two 404s say something else, that the URL is not
// the API: an HTML page (a UI, `python -m http.server`), and Starlette's
// "Not Found" for a path no route matches (a URL without /api). Prefect
// names the object it did not find ("Flow run not found", src/prefect/
// server/api/flow_runs.py; every 404 under src/prefect/server/api has its
// own detail), so a tool answering "no flow run …" would blame the id.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound && !e.HTML && e.Detail != routeNotFound
}

// routeNotFound is Starlette's detail for a path no route matches.
const routeNotFound = "Not Found"

// ErrorKind classifies a failure to get any HTTP response at all.
type ErrorKind string

// Transport error kinds, from the most to the least specific.
const (
	KindDNS      ErrorKind = "dns"      // host name does not resolve
	KindRefused  ErrorKind = "refused"  // nothing listens on the port
	KindTLS      ErrorKind = "tls"      // handshake or certificate verification failed
	KindTimeout  ErrorKind = "timeout"  // per-attempt timeout or context deadline
	KindCanceled ErrorKind = "canceled" // the caller's context was canceled
	KindReset    ErrorKind = "reset"    // connection closed or reset mid-exchange
	KindNetwork  ErrorKind = "network"  // any other network failure
)

var kindText = map[ErrorKind]string{
	KindDNS:      "host name not found",
	KindRefused:  "connection refused",
	KindTLS:      "TLS error",
	KindTimeout:  "timed out",
	KindCanceled: "request canceled",
	KindReset:    "connection reset",
	KindNetwork:  "network error",
}

// TransportError is a request that got no usable HTTP response.
// Its text names the API URL (never with credentials) so a caller can say
// "the Prefect API at URL is unreachable (connection refused)".
type TransportError struct {
	Method string
	Path   string
	// APIURL is the configured base URL; New rejects URLs carrying credentials.
	APIURL string
	Kind   ErrorKind
	Err    error
}

func (e *TransportError) Error() string {
	msg := fmt.Sprintf("prefect API at %s is unreachable (%s): %s %s", e.APIURL, kindText[e.Kind], e.Method, e.Path)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *TransportError) Unwrap() error { return e.Err }

// ResponseError is a successful status whose body cannot be used:
// too large, truncated or not the JSON expected.
type ResponseError struct {
	Method string
	Path   string
	Status int
	Err    error // wraps ErrResponseTooLarge or ErrMalformedResponse
	HTML   bool  // the body was an HTML page, not the API's JSON (see APIError.HTML)
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("prefect API: %s %s: unusable %d response: %v", e.Method, e.Path, e.Status, e.Err)
}

func (e *ResponseError) Unwrap() error { return e.Err }

// isHTML reports an answer that is an HTML page: by its Content-Type, or
// by its first byte when the type is missing or generic.
func isHTML(header http.Header, body []byte) bool {
	ct := strings.ToLower(header.Get("Content-Type"))
	if strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "application/xhtml") {
		return true
	}
	if strings.Contains(ct, "json") {
		return false
	}
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) > 0 && trimmed[0] == '<'
}

// isRetryableStatus lists the statuses that mean "try again later":
// rate limiting and proxies or a database that is briefly unavailable.
func isRetryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// classifyTransportError maps a Go network error to an ErrorKind and the
// cause worth showing. url.Error is unwrapped because its text repeats the URL.
func classifyTransportError(ctx context.Context, err error) (ErrorKind, error) {
	cause := err
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		cause = urlErr.Err
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var alertErr tls.AlertError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return KindCanceled, cause
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout, cause
	case errors.As(err, &dnsErr):
		return KindDNS, cause
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused, cause
	case errors.As(err, &certErr), errors.As(err, &recordErr), errors.As(err, &unknownAuthority),
		errors.As(err, &hostnameErr), errors.As(err, &invalidCert), errors.As(err, &alertErr):
		return KindTLS, cause
	case isConnectionReset(err):
		return KindReset, cause
	}
	return KindNetwork, cause
}

// isConnectionReset reports a connection that died mid-exchange, which is
// safe to retry because every request this client sends is a read.
func isConnectionReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, net.ErrClosed)
}

// validationItem is one entry of a FastAPI / pydantic validation error list.
type validationItem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// errorBody holds the error shapes Prefect and FastAPI send:
// {"detail": "..."}, {"detail": [...]} and
// {"exception_message": "...", "exception_detail": [...], "request_body": ...}.
type errorBody struct {
	Detail           json.RawMessage `json:"detail"`
	ExceptionMessage string          `json:"exception_message"`
	ExceptionDetail  json.RawMessage `json:"exception_detail"`
}

// parseErrorDetail turns an error response body into one bounded, readable line.
// The request body Prefect echoes in 422 answers is deliberately left out.
func parseErrorDetail(body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return ""
	}
	var parsed errorBody
	if trimmed[0] == '{' && json.Unmarshal(trimmed, &parsed) == nil {
		var parts []string
		if parsed.ExceptionMessage != "" {
			parts = append(parts, parsed.ExceptionMessage)
		}
		if text := detailText(parsed.ExceptionDetail); text != "" {
			parts = append(parts, text)
		}
		if text := detailText(parsed.Detail); text != "" {
			parts = append(parts, text)
		}
		if len(parts) > 0 {
			return boundText(oneLine(strings.Join(parts, ": ")), maxDetailBytes)
		}
	}
	if trimmed[0] == '"' {
		var s string
		if json.Unmarshal(trimmed, &s) == nil {
			return boundText(oneLine(s), maxDetailBytes)
		}
	}
	return excerpt(trimmed)
}

// detailText renders a "detail" value: a string, a validation list or any other JSON.
func detailText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var items []validationItem
	if json.Unmarshal(raw, &items) == nil {
		lines := make([]string, 0, len(items))
		for _, item := range items {
			lines = append(lines, item.String())
		}
		return strings.Join(lines, "; ")
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) == nil {
		return compact.String()
	}
	return ""
}

// String renders "body.flow_runs.state.type.any_.0: Input should be ... (enum)".
func (v validationItem) String() string {
	loc := make([]string, 0, len(v.Loc))
	for _, part := range v.Loc {
		switch p := part.(type) {
		case string:
			loc = append(loc, p)
		case float64:
			loc = append(loc, strconv.FormatFloat(p, 'f', -1, 64))
		default:
			loc = append(loc, fmt.Sprint(p))
		}
	}
	var b strings.Builder
	if len(loc) > 0 {
		b.WriteString(strings.Join(loc, ".") + ": ")
	}
	b.WriteString(v.Msg)
	if v.Type != "" {
		b.WriteString(" (" + v.Type + ")")
	}
	return b.String()
}

// excerpt makes a short, printable excerpt of a non-JSON body (an HTML page
// from a proxy, a plain-text message): tags removed, whitespace collapsed.
func excerpt(body []byte) string {
	text := string(body)
	if title, ok := htmlTitle(text); ok {
		return boundText(oneLine(title), maxExcerptBytes)
	}
	if strings.Contains(text, "<") {
		text = stripTags(text)
	}
	return boundText(oneLine(text), maxExcerptBytes)
}

func htmlTitle(text string) (string, bool) {
	lower := strings.ToLower(text)
	start := strings.Index(lower, "<title>")
	if start < 0 {
		return "", false
	}
	start += len("<title>")
	end := strings.Index(lower[start:], "</title>")
	if end < 0 {
		return "", false
	}
	title := strings.TrimSpace(text[start : start+end])
	return title, title != ""
}

func stripTags(text string) string {
	var b strings.Builder
	inTag := false
	for _, r := range text {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
			b.WriteByte(' ')
		case !inTag:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oneLine collapses whitespace and drops control and invalid characters so
// the text is safe to print on one line.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case !unicode.IsPrint(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// boundText cuts s to at most limit bytes on a rune boundary, marking the cut.
func boundText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	cut := limit - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
