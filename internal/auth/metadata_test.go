package auth

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMetadataHandler(t *testing.T) {
	t.Parallel()
	cfg, err := CloudConfigFromEnv(envLookup(map[string]string{EnvCloudEnabled: "true", EnvCloudPublicBaseURL: "https://mcp.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(MetadataPath, NewMetadataHandler(cfg))
	mux.Handle(MetadataRootPath, NewMetadataHandler(cfg))
	srv := httptestServer(t, mux)

	tests := []struct {
		method, path string
		header       http.Header
		wantStatus   int
		wantBody     bool
	}{
		{http.MethodGet, MetadataPath, nil, 200, true},
		{http.MethodGet, MetadataRootPath, nil, 200, true},
		{http.MethodHead, MetadataPath, nil, 200, false},
		{http.MethodOptions, MetadataPath, http.Header{
			"Origin": {"https://inspector.example"}, "Access-Control-Request-Method": {"GET"},
			"Access-Control-Request-Headers": {"mcp-protocol-version"},
		}, 204, false},
		{http.MethodPost, MetadataPath, nil, 405, false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.header.Clone()
			if req.Header == nil {
				req.Header = http.Header{}
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q", got)
			}
			if tt.method == http.MethodOptions && !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") {
				t.Errorf("Access-Control-Allow-Methods = %q", resp.Header.Get("Access-Control-Allow-Methods"))
			}
			if !tt.wantBody {
				return
			}
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			want := map[string]any{
				"resource":                 "https://mcp.example.com/mcp",
				"authorization_servers":    []any{ProdOrigin},
				"scopes_supported":         []any{ScopeWorkspaces},
				"bearer_methods_supported": []any{"header"},
			}
			gotJSON, _ := json.Marshal(doc)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("metadata = %s, want %s", gotJSON, wantJSON)
			}
		})
	}
}
