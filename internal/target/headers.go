package target

import (
	"context"
	"net"
	"net/url"
	"strings"
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
// When any credential header is present the target is built from the
// headers alone: the server's own credentials are never sent on a request
// that names its own URL or key, so one tenant's settings cannot borrow the
// operator's.
type Headers struct {
	Builder Builder
	// Server returns the server's own target (nil when it has none); a
	// function so reloaded settings apply.
	Server func() *Target
	// AllowedURLs are the API URL prefixes a request may name (SSRF guard).
	AllowedURLs []string
	// Locked refuses every X-Prefect-* header: the target is pinned.
	Locked bool
}

// ErrLocked is returned for requests that try to override a locked target.
var ErrLocked = &Error{Msg: "this server is locked to one Prefect API: X-Prefect-* headers are refused; remove them and the server's configured workspace is used"}

func (h *Headers) Resolve(ctx context.Context, req Request) (*Target, error) {
	apiURL := strings.TrimSpace(req.Header.Get(HeaderAPIURL))
	key := strings.TrimSpace(req.Header.Get(HeaderAPIKey))
	authString := strings.TrimSpace(req.Header.Get(HeaderAuthString))
	var own *Target
	if h.Server != nil {
		own = h.Server()
	}
	if apiURL == "" && key == "" && authString == "" {
		return Static{Target: own}.Resolve(ctx, req)
	}
	if h.Locked {
		return nil, ErrLocked
	}
	if req.WorkspaceID != "" {
		return Static{}.Resolve(ctx, req) // reports the workspace_id misuse
	}
	if apiURL == "" {
		if own == nil {
			return nil, errorf("the request sends Prefect credentials but no %s header, and the server has no API URL of its own; send %s", HeaderAPIURL, HeaderAPIURL)
		}
		apiURL = own.APIURL
	}
	if err := checkAPIURL(apiURL); err != nil {
		return nil, err
	}
	if !URLAllowed(apiURL, h.AllowedURLs) {
		return nil, errorf("the Prefect API URL in %s is not allowed by this server; the operator can allow it with --allowed-api-url PREFIX (or PREFECT_MCP_ALLOWED_API_URLS)", HeaderAPIURL)
	}
	b := h.Builder
	b.UIURL = ""
	return b.Build(Credentials{APIURL: apiURL, APIKey: key, AuthString: authString}, "")
}

// URLAllowed reports whether raw starts with one of the allowed prefixes,
// compared structurally: same scheme, same host and port, and a path prefix
// that ends at a segment boundary ("/api" allows "/api/accounts/…", not "/apix").
func URLAllowed(raw string, allowed []string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
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
		path := u.EscapedPath()
		if prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/") {
			if !strings.Contains(path, "/../") && !strings.HasSuffix(path, "/..") {
				return true
			}
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
