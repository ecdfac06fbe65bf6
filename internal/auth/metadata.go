package auth

import (
	"encoding/json"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// NewMetadataHandler serves the RFC 9728 protected resource metadata for the
// MCP endpoint. Mount it at both MetadataPath and MetadataRootPath.
//
// go-sdk's auth.ProtectedResourceMetadataHandler is not used because its CORS
// preflight allows only Content-Type, and browser-based MCP clients send
// MCP-Protocol-Version on discovery requests.
func NewMetadataHandler(cfg CloudConfig) http.Handler {
	// Strings and string slices only: encoding cannot fail.
	body, _ := json.Marshal(oauthex.ProtectedResourceMetadata{
		Resource:               cfg.ResourceURL(),
		AuthorizationServers:   []string{cfg.AuthorizationServer},
		ScopesSupported:        []string{ScopeWorkspaces},
		BearerMethodsSupported: []string{"header"},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The document is public discovery data (RFC 9728 §3), so any origin may read it.
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "*")
		h.Set("Access-Control-Max-Age", "86400")
		switch r.Method {
		case http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet, http.MethodHead:
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "public, max-age=300")
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				_, _ = w.Write(body)
			}
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}
