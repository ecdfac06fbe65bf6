package target

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Per-request credential headers of a shared HTTP server.
const (
	HeaderAPIURL     = "X-Prefect-Api-Url"
	HeaderAPIKey     = "X-Prefect-Api-Key"
	HeaderAuthString = "X-Prefect-Api-Auth-String"
)

// Headers resolves each call from the caller's X-Prefect-* headers, falling
// back to the server's own target when the request carries none.
//
// When any X-Prefect-* header is present — even an empty one — the target is
// built from the headers alone: the server's own credentials are never sent
// on a request that names its own URL or key, so one tenant's settings cannot
// borrow the operator's.
type Headers struct {
	Builder Builder
	// Server returns the server's own target (nil when it has none); a
	// function so reloaded settings apply.
	Server func() *Target
	// Allowed returns the API URL prefixes a request may name (SSRF guard);
	// a function so a default list built from the settings follows a reload.
	Allowed func() []string
	// Locked refuses every X-Prefect-* header: the target is pinned.
	Locked bool
}

// ErrLocked is returned for requests that try to override a locked target.
var ErrLocked = &Error{Msg: "this server is locked to one Prefect API: X-Prefect-* headers are refused; remove them and the server's configured workspace is used"}

// ErrEmptyHeaders is returned for X-Prefect-* headers that are all empty: an
// unset variable in the client's configuration (the README's mcp-remote
// example with PREFECT_API_KEY unset), which must not mean "the operator's
// credentials".
var ErrEmptyHeaders = &Error{Msg: "the request carries X-Prefect-* headers, but they are empty (an unset variable in the client's configuration?); " +
	"a request with X-Prefect-* headers never uses the server's own credentials: send " + HeaderAPIURL + " with " + HeaderAPIKey + " or " + HeaderAuthString + ", or remove the headers"}

// Prefect holds a request's X-Prefect-* credential headers.
type Prefect struct {
	Present                    bool // any X-Prefect-* header, even empty
	APIURL, APIKey, AuthString string
}

// ReadHeaders reads the X-Prefect-* headers of a request. It refuses a
// header sent more than once (a gateway that appends a pinning header must
// not be overridden by the client's own) and an X-Prefect-* header it does
// not know (a misspelt one must not fall back to the operator's
// credentials). Errors never echo a value.
func ReadHeaders(h http.Header) (Prefect, error) {
	var p Prefect
	seen := map[string]bool{}
	for name, values := range h {
		if !strings.HasPrefix(strings.ToLower(name), "x-prefect-") {
			continue
		}
		p.Present = true
		var dst *string
		switch http.CanonicalHeaderKey(name) {
		case HeaderAPIURL:
			dst = &p.APIURL
		case HeaderAPIKey:
			dst = &p.APIKey
		case HeaderAuthString:
			dst = &p.AuthString
		default:
			return Prefect{}, errorf("unknown header %s: this server reads only %s, %s and %s", clipName(name), HeaderAPIURL, HeaderAPIKey, HeaderAuthString)
		}
		canonical := http.CanonicalHeaderKey(name)
		if len(values) != 1 || seen[canonical] {
			return Prefect{}, errorf("header %s is sent more than once; send it once", canonical)
		}
		seen[canonical] = true
		*dst = strings.TrimSpace(values[0])
	}
	return p, nil
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (h *Headers) Resolve(ctx context.Context, req Request) (*Target, error) {
	p, err := ReadHeaders(req.Header)
	if err != nil {
		return nil, err
	}
	var own *Target
	if h.Server != nil {
		own = h.Server()
	}
	if !p.Present {
		return Static{Target: own}.Resolve(ctx, req)
	}
	if h.Locked {
		return nil, ErrLocked
	}
	if req.WorkspaceID != "" {
		return Static{}.Resolve(ctx, req) // reports the workspace_id misuse
	}
	if p.APIURL == "" && p.APIKey == "" && p.AuthString == "" {
		return nil, ErrEmptyHeaders
	}
	b := h.Builder
	b.UIURL = ""
	creds := Credentials{APIURL: p.APIURL, APIKey: p.APIKey, AuthString: p.AuthString}
	if p.APIURL == "" {
		// The server's own URL (as configured now) with the caller's
		// credentials; the operator chose that URL, so no allowlist applies.
		if own == nil {
			return nil, errorf("the request sends Prefect credentials but no %s header, and the server has no API URL of its own; send %s", HeaderAPIURL, HeaderAPIURL)
		}
		creds.APIURL = own.APIURL
		return b.Build(creds, "")
	}
	if err := checkHeaderURL(p.APIURL); err != nil {
		return nil, err
	}
	var allowed []string
	if h.Allowed != nil {
		allowed = h.Allowed()
	}
	if !URLAllowed(p.APIURL, allowed) {
		return nil, errorf("the Prefect API URL in %s is not allowed by this server; the operator can allow it with --allowed-api-url PREFIX (or PREFECT_MCP_ALLOWED_API_URLS)", HeaderAPIURL)
	}
	// Every URL derived from this one (Cloud's account root, /me/) and every
	// redirect must stay inside the allowlist too.
	b.AllowURL = func(u *url.URL) bool { return within(u, allowed) }
	return b.Build(creds, "")
}

// checkHeaderURL is checkAPIURL plus the strictness a URL from an untrusted
// header deserves: each path segment is plain (letters, digits, "-", ".",
// "_", "~"; no percent-encoding, no ";" parameters, no dot-only segment), so
// that no proxy or router can read it as another path ("..;/", "%252e%252e",
// "%00"), and a Cloud-shaped path is exactly
// …/api/accounts/{uuid}/workspaces/{uuid}.
func checkHeaderURL(raw string) error {
	if err := checkAPIURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	plain := u.RawPath == "" && !strings.ContainsAny(raw, "%;\\")
	cloudish := false
	if path != "" {
		for _, seg := range strings.Split(path[1:], "/") {
			plain = plain && plainSegment(seg)
			cloudish = cloudish || strings.EqualFold(seg, "accounts") || strings.EqualFold(seg, "workspaces")
		}
	}
	if !plain {
		return errorf("the Prefect API URL in %s has an unusual path; send a plain URL such as https://prefect.example.com/api "+
			"(path segments of letters, digits, '-', '.', '_' and '~': no percent-encoding, ';', '\\', empty or dot-only segments)", HeaderAPIURL)
	}
	if _, ok := prefect.ParseCloudURL(raw); cloudish && !ok {
		return errorf("the Prefect API URL in %s looks like a Prefect Cloud URL but is not exactly …/api/accounts/{account id}/workspaces/{workspace id}", HeaderAPIURL)
	}
	return nil
}

func plainSegment(s string) bool {
	if s == "" || strings.Trim(s, ".") == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// URLAllowed reports whether raw starts with one of the allowed prefixes,
// compared structurally: same scheme, same host and port, and a path prefix
// that ends at a segment boundary ("/api" allows "/api/accounts/…", not "/apix").
func URLAllowed(raw string, allowed []string) bool {
	u, err := url.Parse(raw)
	return err == nil && within(u, allowed)
}

// within is URLAllowed on a parsed URL; the Prefect client applies it to
// every request and redirect of a target built from headers. Dot segments,
// plain or encoded, are never allowed.
func within(u *url.URL, allowed []string) bool {
	path := u.EscapedPath()
	for _, seg := range strings.Split(path, "/") {
		if d, err := url.PathUnescape(seg); err != nil || d == "." || d == ".." {
			return false
		}
	}
	for _, a := range allowed {
		p, err := url.Parse(a)
		if err != nil {
			continue
		}
		if !strings.EqualFold(u.Scheme, p.Scheme) || !sameHostPort(u, p) {
			continue
		}
		prefix := strings.TrimRight(p.EscapedPath(), "/")
		if prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/") {
			return true
		}
	}
	return false
}

func sameHostPort(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// IsLoopbackURL reports whether the URL's host is a loopback address or
// localhost (allowed over plain HTTP in locked mode).
func IsLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
