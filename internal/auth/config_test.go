package auth

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCloudConfigFromEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c CloudConfig)
	}{
		{
			name: "disabled by default",
			env:  map[string]string{},
			check: func(t *testing.T, c CloudConfig) {
				want := CloudConfig{
					Environment: "prod", APIBaseURL: ProdOrigin, AuthBaseURL: ProdOrigin,
					AuthorizationServer: ProdOrigin, JWKSURI: ProdOrigin + "/auth/mcp/oauth/jwks.json",
					Issuer: ProdOrigin, Algorithms: []string{"RS256"},
				}
				assertConfig(t, c, want)
			},
		},
		{
			name: "prod defaults",
			env:  map[string]string{EnvCloudEnabled: "true", EnvCloudPublicBaseURL: "https://mcp.example.com/"},
			check: func(t *testing.T, c CloudConfig) {
				want := CloudConfig{
					Enabled: true, Environment: "prod", PublicBaseURL: "https://mcp.example.com",
					APIBaseURL: ProdOrigin, AuthBaseURL: ProdOrigin, AuthorizationServer: ProdOrigin,
					JWKSURI: ProdOrigin + "/auth/mcp/oauth/jwks.json", Issuer: ProdOrigin,
					Audience: "https://mcp.example.com/mcp", Algorithms: []string{"RS256"},
				}
				assertConfig(t, c, want)
				if got := c.ResourceMetadataURL(); got != "https://mcp.example.com/.well-known/oauth-protected-resource/mcp" {
					t.Errorf("ResourceMetadataURL = %q", got)
				}
			},
		},
		{
			name: "staging with the shared public base variable",
			env:  map[string]string{EnvCloudEnabled: "1", EnvCloudEnvironment: "STG", EnvPublicBaseURL: "https://mcp.example.com/prefix"},
			check: func(t *testing.T, c CloudConfig) {
				want := CloudConfig{
					Enabled: true, Environment: "stg", PublicBaseURL: "https://mcp.example.com/prefix",
					APIBaseURL: StagingOrigin, AuthBaseURL: StagingOrigin, AuthorizationServer: StagingOrigin,
					JWKSURI: StagingOrigin + "/auth/mcp/oauth/jwks.json", Issuer: StagingOrigin,
					Audience: "https://mcp.example.com/prefix/mcp", Algorithms: []string{"RS256"},
				}
				assertConfig(t, c, want)
			},
		},
		{
			name: "cloud-specific public base wins",
			env:  map[string]string{EnvCloudPublicBaseURL: "https://a.example.com", EnvPublicBaseURL: "https://b.example.com"},
			check: func(t *testing.T, c CloudConfig) {
				if c.PublicBaseURL != "https://a.example.com" {
					t.Errorf("PublicBaseURL = %q", c.PublicBaseURL)
				}
			},
		},
		{
			name: "everything overridden",
			env: map[string]string{
				EnvCloudEnabled: "yes", EnvCloudPublicBaseURL: "http://localhost:8080",
				EnvCloudAPIBaseURL: "https://api.example.com", EnvCloudAuthBaseURL: "https://auth.example.com/",
				EnvCloudAuthorizationServer: "https://as.example.com", EnvCloudJWKSURI: "https://keys.example.com/jwks",
				EnvCloudIssuer: "https://iss.example.com/", EnvCloudAudience: "urn:prefect-mcp",
				EnvCloudAlgorithm: "rs256, ES256 RS256", EnvCloudClientID: "client", EnvCloudClientSecret: "s3cret",
			},
			check: func(t *testing.T, c CloudConfig) {
				want := CloudConfig{
					Enabled: true, Environment: "prod", PublicBaseURL: "http://localhost:8080",
					APIBaseURL: "https://api.example.com", AuthBaseURL: "https://auth.example.com",
					AuthorizationServer: "https://as.example.com", JWKSURI: "https://keys.example.com/jwks",
					Issuer: "https://iss.example.com/", Audience: "urn:prefect-mcp",
					Algorithms: []string{"RS256", "ES256"}, ClientID: "client", ClientSecret: "s3cret",
				}
				assertConfig(t, c, want)
			},
		},
		{
			name: "blank values count as unset",
			env:  map[string]string{EnvCloudEnabled: " ", EnvCloudEnvironment: "", EnvCloudAlgorithm: ""},
			check: func(t *testing.T, c CloudConfig) {
				if c.Enabled || c.Environment != "prod" || !slices.Equal(c.Algorithms, []string{"RS256"}) {
					t.Errorf("config = %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CloudConfigFromEnv(envLookup(tt.env))
			if err != nil {
				t.Fatalf("CloudConfigFromEnv: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func assertConfig(t *testing.T, got, want CloudConfig) {
	t.Helper()
	got.sources = nil
	if fmt.Sprint(got.Describe()) != fmt.Sprint(want.Describe()) || got.ClientSecret != want.ClientSecret {
		t.Errorf("config =\n%+v\nwant\n%+v", got.Describe(), want.Describe())
	}
}

func TestCloudConfigFromEnvErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"enabled not a boolean", map[string]string{EnvCloudEnabled: "maybe"}, EnvCloudEnabled},
		{"unknown environment", map[string]string{EnvCloudEnvironment: "dev"}, EnvCloudEnvironment},
		{"enabled without public base", map[string]string{EnvCloudEnabled: "true"}, EnvCloudPublicBaseURL},
		{"public base without scheme", map[string]string{EnvCloudPublicBaseURL: "mcp.example.com"}, EnvCloudPublicBaseURL},
		{"public base over plain http", map[string]string{EnvCloudPublicBaseURL: "http://mcp.example.com"}, EnvCloudPublicBaseURL},
		{"alias public base with query", map[string]string{EnvPublicBaseURL: "https://mcp.example.com/?x=1"}, EnvPublicBaseURL},
		{"public base with credentials", map[string]string{EnvCloudPublicBaseURL: "https://u:p@mcp.example.com"}, EnvCloudPublicBaseURL},
		{"api base with /api", map[string]string{EnvCloudAPIBaseURL: "https://api.prefect.cloud/api"}, EnvCloudAPIBaseURL},
		{"auth base ftp", map[string]string{EnvCloudAuthBaseURL: "ftp://auth.example.com"}, EnvCloudAuthBaseURL},
		{"authorization server relative", map[string]string{EnvCloudAuthorizationServer: "/auth"}, EnvCloudAuthorizationServer},
		{"jwks over http", map[string]string{EnvCloudJWKSURI: "http://keys.example.com/jwks"}, EnvCloudJWKSURI},
		{"issuer with fragment", map[string]string{EnvCloudIssuer: "https://iss.example.com#x"}, EnvCloudIssuer},
		{"HS256", map[string]string{EnvCloudAlgorithm: "HS256"}, EnvCloudAlgorithm},
		{"none", map[string]string{EnvCloudAlgorithm: "RS256,none"}, EnvCloudAlgorithm},
		{"only separators", map[string]string{EnvCloudAlgorithm: " , "}, EnvCloudAlgorithm},
		{"client id without secret", map[string]string{EnvCloudClientID: "id"}, EnvCloudClientSecret},
		{"secret without client id", map[string]string{EnvCloudClientSecret: "hunter2-secret"}, EnvCloudClientID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CloudConfigFromEnv(envLookup(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantVar) {
				t.Errorf("error %q does not name %s", err, tt.wantVar)
			}
			if strings.Contains(err.Error(), "hunter2-secret") {
				t.Errorf("error %q contains the client secret", err)
			}
		})
	}
}

func TestDescribeRedactsSecret(t *testing.T) {
	c, err := CloudConfigFromEnv(envLookup(map[string]string{
		EnvCloudEnabled: "true", EnvPublicBaseURL: "https://mcp.example.com",
		EnvCloudClientID: "client-1", EnvCloudClientSecret: "hunter2-secret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{}
	var all strings.Builder
	for _, line := range c.Describe() {
		sources[line.Name] = line.Source
		all.WriteString(line.String() + "\n")
	}
	for _, dump := range []string{all.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(dump, "hunter2") {
			t.Errorf("the secret is revealed in:\n%s", dump)
		}
	}
	if !strings.Contains(all.String(), EnvCloudClientSecret+"="+redacted) {
		t.Errorf("Describe does not show the secret as set:\n%s", all.String())
	}
	want := map[string]string{
		EnvCloudEnabled: "env", EnvCloudPublicBaseURL: "env " + EnvPublicBaseURL, EnvCloudAudience: "derived",
		EnvCloudEnvironment: "default", EnvCloudIssuer: "default", EnvCloudClientSecret: "env",
	}
	for name, source := range want {
		if sources[name] != source {
			t.Errorf("source of %s = %q, want %q", name, sources[name], source)
		}
	}
}
