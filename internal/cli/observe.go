package cli

import (
	"net/http"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/httpserver"
	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// observeTransport reports each upstream request to metrics by its OpenAPI
// route template, so labels never carry a tenant's URL, ids or names.
type observeTransport struct {
	next http.RoundTripper
	spec *openapi.Spec
	obs  httpserver.Observer
}

func (t observeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	t.obs.ObserveUpstream(routeLabel(t.spec, req.Method, req.URL.EscapedPath()), status, time.Since(start))
	return resp, err
}

// routeLabel maps a concrete upstream path to "METHOD /template": the part
// after a Cloud workspace prefix or after the first /api.
func routeLabel(spec *openapi.Spec, method, path string) string {
	rel := path
	if i := strings.LastIndex(rel, "/workspaces/"); i >= 0 {
		rest := rel[i+len("/workspaces/"):]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			rel = rest[j:]
		}
	} else if i := strings.Index(rel, "/api/"); i >= 0 {
		rel = rel[i+len("/api"):]
	}
	if r, ok := spec.Match(method, rel); ok {
		return r.String()
	}
	if strings.HasPrefix(rel, "/accounts/") || strings.HasPrefix(rel, "/me") {
		return method + " cloud-account"
	}
	return method + " other"
}

// routeTemplate names an upstream path (relative to the API URL) by its
// OpenAPI template for traces and debug logs. Prefect Cloud's account-level
// routes are not in the OSS document: their ids become {id}; anything else
// unknown is "other", so no name or id is ever reported.
func routeTemplate(spec *openapi.Spec) func(method, path string) string {
	return func(method, path string) string {
		if r, ok := spec.Match(method, path); ok {
			return r.Path
		}
		segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
		for i, seg := range segments {
			switch {
			case prefect.IsUUID(seg):
				segments[i] = "{id}"
			case !isCloudLiteral(seg):
				return "other"
			}
		}
		return "/" + strings.Join(segments, "/")
	}
}

// isCloudLiteral: the literal segments of the Cloud routes the tools read.
func isCloudLiteral(seg string) bool {
	switch seg {
	case "", "me", "accounts", "workspaces", "rate-limits", "usage":
		return true
	}
	return false
}
