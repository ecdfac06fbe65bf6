package httpserver

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// hostPolicy rejects requests whose Host header names a host this server was
// not configured for. A DNS-rebinding page reaches the server under the
// attacker's host name, so refusing unknown names closes that hole. On a
// loopback connection loopback names pass; on any connection the bind host
// and the names in AllowedHosts pass, so a reverse proxy on the same host
// that forwards the public Host works (the SDK's own localhost check, which
// ignores any allowlist, is turned off in favour of this one).
type hostPolicy struct {
	any      bool
	bindHost string          // host part of Options.Addr, "" when unspecified
	allowed  map[string]bool // normalized "host" or "host:port"
}

func newHostPolicy(addr string, allowedHosts []string) (*hostPolicy, error) {
	p := &hostPolicy{allowed: make(map[string]bool)}
	if addr != "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("httpserver: address %q: %w", addr, err)
		}
		if ip, err := netip.ParseAddr(host); err != nil || !ip.IsUnspecified() {
			p.bindHost = normalizeHost(host)
		}
	}
	for _, h := range allowedHosts {
		h = strings.TrimSpace(h)
		switch {
		case h == "*":
			p.any = true
		case h == "" || strings.ContainsAny(h, "/ @"):
			return nil, fmt.Errorf("httpserver: allowed host %q must be a host name or host:port", h)
		default:
			p.allowed[normalizeHostPort(h)] = true
		}
	}
	return p, nil
}

func (p *hostPolicy) protect(next http.Handler) http.Handler {
	if p.any {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.allows(r) {
			http.Error(w, "Forbidden: Host header not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (p *hostPolicy) allows(r *http.Request) bool {
	hostPort := normalizeHostPort(r.Host)
	host := hostOnly(hostPort)
	if p.allowed[hostPort] || p.allowed[host] {
		return true
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || local == nil {
		return true
	}
	if isLoopbackAddr(local.String()) {
		return isLoopbackAddr(host)
	}
	if p.bindHost != "" && host == p.bindHost {
		return true
	}
	// A literal IP of the interface the request arrived on cannot be a
	// rebinding name.
	localHost, _, err := net.SplitHostPort(local.String())
	return err == nil && host == normalizeHost(localHost)
}

// originPolicy refuses browser requests from origins that are neither the
// server's own host nor explicitly allowed, and answers CORS for allowed ones.
type originPolicy struct {
	any       bool
	allowed   map[string]bool // normalized scheme://host[:port]
	crossSite *http.CrossOriginProtection
}

func newOriginPolicy(allowedOrigins []string) (*originPolicy, error) {
	p := &originPolicy{allowed: make(map[string]bool), crossSite: http.NewCrossOriginProtection()}
	for _, o := range allowedOrigins {
		o = strings.TrimSpace(o)
		if o == "*" {
			p.any = true
			continue
		}
		if err := p.crossSite.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("httpserver: allowed origin: %w", err)
		}
		p.allowed[strings.ToLower(o)] = true
	}
	if p.any {
		p.crossSite.AddInsecureBypassPattern("/")
	}
	return p, nil
}

func (p *originPolicy) allows(r *http.Request, origin string) bool {
	if p.any || p.allowed[strings.ToLower(origin)] {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// corsExposedHeaders are response headers browser clients need to read.
const corsExposedHeaders = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, X-Request-Id"

func (p *originPolicy) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			// Non-browser clients send no Origin; CrossOriginProtection still
			// catches browsers that only send Sec-Fetch-Site.
			if err := p.crossSite.Check(r); err != nil {
				http.Error(w, "Forbidden: cross-origin request", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if !p.allows(r, origin) {
			http.Error(w, "Forbidden: origin not allowed", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
			// The origin is trusted, so the headers it asks for are granted;
			// MCP's Mcp-Param-* names are tool-defined and cannot be listed.
			if requested := r.Header.Get("Access-Control-Request-Headers"); requested != "" {
				h.Set("Access-Control-Allow-Headers", requested)
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposedHeaders)
		next.ServeHTTP(w, r)
	})
}

func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = normalizeHost(host)
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// normalizeHost lower-cases a host, strips IPv6 brackets and a trailing dot.
func normalizeHost(host string) string {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().String()
	}
	return host
}

// normalizeHostPort normalizes "host" or "host:port" and keeps the port.
func normalizeHostPort(hostPort string) string {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return normalizeHost(hostPort)
	}
	return net.JoinHostPort(normalizeHost(host), port)
}

// hostOnly drops the port from a normalized host[:port].
func hostOnly(hostPort string) string {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return hostPort
	}
	return normalizeHost(host)
}

// isUnspecifiedOrEmpty reports whether host binds every interface.
func isUnspecifiedOrEmpty(host string) bool {
	if host == "" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsUnspecified()
}
