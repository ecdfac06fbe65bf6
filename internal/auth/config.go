// Package auth makes prefect-mcp an OAuth 2.0 resource server for Prefect
// Cloud (JWT access tokens, RFC 9728 metadata, grant workspaces,
// client-credentials exchange) and offers static bearer tokens for a gateway
// fronting the server.
package auth

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ScopeWorkspaces is the scope Prefect Cloud grants for MCP access to
// consented workspaces; every token must carry it.
const ScopeWorkspaces = "prefect-cloud:workspaces"

// Environment origins of Prefect Cloud: they serve both the API and OAuth.
const (
	ProdOrigin    = "https://api.prefect.cloud"
	StagingOrigin = "https://api.stg.prefect.dev"
)

// Environment variable names read by CloudConfigFromEnv.
const (
	EnvCloudEnabled             = "PREFECT_MCP_CLOUD_ENABLED"
	EnvCloudEnvironment         = "PREFECT_MCP_CLOUD_ENVIRONMENT"
	EnvCloudPublicBaseURL       = "PREFECT_MCP_CLOUD_PUBLIC_BASE_URL"
	EnvPublicBaseURL            = "PREFECT_MCP_PUBLIC_BASE_URL"
	EnvCloudAPIBaseURL          = "PREFECT_MCP_CLOUD_API_BASE_URL"
	EnvCloudAuthBaseURL         = "PREFECT_MCP_CLOUD_AUTH_BASE_URL"
	EnvCloudAuthorizationServer = "PREFECT_MCP_CLOUD_AUTHORIZATION_SERVER"
	EnvCloudJWKSURI             = "PREFECT_MCP_CLOUD_AUTH_JWKS_URI"
	EnvCloudIssuer              = "PREFECT_MCP_CLOUD_AUTH_ISSUER"
	EnvCloudAudience            = "PREFECT_MCP_CLOUD_AUTH_AUDIENCE"
	EnvCloudAlgorithm           = "PREFECT_MCP_CLOUD_AUTH_ALGORITHM"
	EnvCloudClientID            = "PREFECT_MCP_CLOUD_CLIENT_ID"
	EnvCloudClientSecret        = "PREFECT_MCP_CLOUD_CLIENT_SECRET"
)

// Paths of the RFC 9728 protected resource metadata document.
const (
	MetadataPath     = "/.well-known/oauth-protected-resource/mcp"
	MetadataRootPath = "/.well-known/oauth-protected-resource"
)

// asymmetricAlgorithms are the JWS algorithms a verifier may be configured
// with. Symmetric (HS*) and "none" are absent on purpose: a resource server
// holding only public keys must never accept them.
var asymmetricAlgorithms = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// CloudConfig configures the Prefect Cloud OAuth resource server. URLs that
// are bases carry no trailing slash.
type CloudConfig struct {
	Enabled             bool
	Environment         string // "prod" or "stg"
	PublicBaseURL       string // where clients reach this server, e.g. https://mcp.example.com
	APIBaseURL          string // Cloud API origin, without /api
	AuthBaseURL         string // Cloud OAuth origin
	AuthorizationServer string // advertised in RFC 9728 metadata
	JWKSURI             string
	Issuer              string   // exact "iss"
	Audience            string   // required "aud" member
	Algorithms          []string // accepted JWS "alg" values
	ClientID            string   // service-account client credentials (optional)
	ClientSecret        Secret

	sources map[string]string // variable -> where its value came from
}

// ResourceURL is the OAuth resource identifier of the MCP endpoint.
func (c CloudConfig) ResourceURL() string { return c.PublicBaseURL + "/mcp" }

// ResourceMetadataURL is where the RFC 9728 document for the MCP endpoint is served.
func (c CloudConfig) ResourceMetadataURL() string { return c.PublicBaseURL + MetadataPath }

// HasClientCredentials reports whether a service-account client is configured.
func (c CloudConfig) HasClientCredentials() bool { return c.ClientID != "" }

// ConfigLine is one resolved setting for display; secrets are redacted.
type ConfigLine struct {
	Name   string // environment variable
	Value  string
	Source string // "env", "env PREFECT_MCP_PUBLIC_BASE_URL", "default", "derived", or "unset"
}

func (l ConfigLine) String() string {
	return fmt.Sprintf("%s=%s (%s)", l.Name, l.Value, l.Source)
}

// Describe lists every setting with its value and source, the client secret redacted.
func (c CloudConfig) Describe() []ConfigLine {
	lines := []ConfigLine{
		{Name: EnvCloudEnabled, Value: strconv.FormatBool(c.Enabled)},
		{Name: EnvCloudEnvironment, Value: c.Environment},
		{Name: EnvCloudPublicBaseURL, Value: c.PublicBaseURL},
		{Name: EnvCloudAPIBaseURL, Value: c.APIBaseURL},
		{Name: EnvCloudAuthBaseURL, Value: c.AuthBaseURL},
		{Name: EnvCloudAuthorizationServer, Value: c.AuthorizationServer},
		{Name: EnvCloudJWKSURI, Value: c.JWKSURI},
		{Name: EnvCloudIssuer, Value: c.Issuer},
		{Name: EnvCloudAudience, Value: c.Audience},
		{Name: EnvCloudAlgorithm, Value: strings.Join(c.Algorithms, ",")},
		{Name: EnvCloudClientID, Value: c.ClientID},
		{Name: EnvCloudClientSecret, Value: c.ClientSecret.String()},
	}
	for i := range lines {
		lines[i].Source = c.sources[lines[i].Name]
		if lines[i].Source == "" {
			lines[i].Source = "unset"
		}
	}
	return lines
}

// CloudConfigFromEnv resolves the configuration from environment variables
// (an empty value counts as unset). Errors name the offending variable and
// never contain the client secret. PUBLIC_BASE_URL is required only when
// ENABLED is true; everything else has a default derived from ENVIRONMENT.
func CloudConfigFromEnv(lookup func(string) (string, bool)) (CloudConfig, error) {
	r := envReader{lookup: lookup, sources: map[string]string{}}
	cfg := CloudConfig{sources: r.sources}

	if v, ok := r.get(EnvCloudEnabled); ok {
		enabled, err := parseBool(v)
		if err != nil {
			return CloudConfig{}, fmt.Errorf("%s: %w", EnvCloudEnabled, err)
		}
		cfg.Enabled = enabled
	} else {
		r.sources[EnvCloudEnabled] = "default"
	}

	origin := ProdOrigin
	cfg.Environment = "prod"
	if v, ok := r.get(EnvCloudEnvironment); ok {
		switch strings.ToLower(v) {
		case "prod", "production":
			cfg.Environment, origin = "prod", ProdOrigin
		case "stg", "staging":
			cfg.Environment, origin = "stg", StagingOrigin
		default:
			return CloudConfig{}, fmt.Errorf("%s: %q is not an environment; use prod or stg", EnvCloudEnvironment, v)
		}
	} else {
		r.sources[EnvCloudEnvironment] = "default"
	}

	var err error
	if v, ok := r.get(EnvCloudPublicBaseURL, EnvPublicBaseURL); ok {
		if cfg.PublicBaseURL, err = parseBaseURL(v); err != nil {
			return CloudConfig{}, fmt.Errorf("%s: %w", r.from(EnvCloudPublicBaseURL), err)
		}
	} else if cfg.Enabled {
		return CloudConfig{}, fmt.Errorf("%s (or %s) is required when %s is true: it is the URL clients use to reach this server",
			EnvCloudPublicBaseURL, EnvPublicBaseURL, EnvCloudEnabled)
	}

	if cfg.APIBaseURL, err = r.baseURL(EnvCloudAPIBaseURL, origin); err != nil {
		return CloudConfig{}, err
	}
	if strings.HasSuffix(cfg.APIBaseURL, "/api") {
		return CloudConfig{}, fmt.Errorf("%s: give the origin without /api, e.g. %s", EnvCloudAPIBaseURL, origin)
	}
	if cfg.AuthBaseURL, err = r.baseURL(EnvCloudAuthBaseURL, origin); err != nil {
		return CloudConfig{}, err
	}
	if cfg.AuthorizationServer, err = r.absoluteURL(EnvCloudAuthorizationServer, cfg.AuthBaseURL); err != nil {
		return CloudConfig{}, err
	}
	if cfg.JWKSURI, err = r.absoluteURL(EnvCloudJWKSURI, cfg.AuthBaseURL+"/auth/mcp/oauth/jwks.json"); err != nil {
		return CloudConfig{}, err
	}
	if cfg.Issuer, err = r.absoluteURL(EnvCloudIssuer, cfg.AuthBaseURL); err != nil {
		return CloudConfig{}, err
	}

	if v, ok := r.get(EnvCloudAudience); ok {
		cfg.Audience = v
	} else if cfg.PublicBaseURL != "" {
		cfg.Audience = cfg.ResourceURL()
		r.sources[EnvCloudAudience] = "derived"
	}

	cfg.Algorithms = []string{"RS256"}
	if v, ok := r.get(EnvCloudAlgorithm); ok {
		if cfg.Algorithms, err = parseAlgorithms(v); err != nil {
			return CloudConfig{}, fmt.Errorf("%s: %w", EnvCloudAlgorithm, err)
		}
	} else {
		r.sources[EnvCloudAlgorithm] = "default"
	}

	cfg.ClientID, _ = r.get(EnvCloudClientID)
	secret, _ := r.get(EnvCloudClientSecret)
	cfg.ClientSecret = Secret(secret)
	switch {
	case cfg.ClientID != "" && secret == "":
		return CloudConfig{}, fmt.Errorf("%s is set but %s is not", EnvCloudClientID, EnvCloudClientSecret)
	case cfg.ClientID == "" && secret != "":
		return CloudConfig{}, fmt.Errorf("%s is set but %s is not", EnvCloudClientSecret, EnvCloudClientID)
	}
	return cfg, nil
}

type envReader struct {
	lookup  func(string) (string, bool)
	sources map[string]string
}

// get returns the first non-empty value among names and records its source
// under the first name.
func (r envReader) get(names ...string) (string, bool) {
	for _, name := range names {
		v, ok := r.lookup(name)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			continue
		}
		if name == names[0] {
			r.sources[names[0]] = "env"
		} else {
			r.sources[names[0]] = "env " + name
		}
		return v, true
	}
	return "", false
}

// from names the variable that actually supplied primary's value.
func (r envReader) from(primary string) string {
	if alias, ok := strings.CutPrefix(r.sources[primary], "env "); ok {
		return alias
	}
	return primary
}

func (r envReader) baseURL(name, fallback string) (string, error) {
	v, ok := r.get(name)
	if !ok {
		r.sources[name] = "default"
		return fallback, nil
	}
	u, err := parseBaseURL(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return u, nil
}

func (r envReader) absoluteURL(name, fallback string) (string, error) {
	v, ok := r.get(name)
	if !ok {
		r.sources[name] = "default"
		return fallback, nil
	}
	if _, err := parseURL(v); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// parseBaseURL validates an absolute URL and drops its trailing slash.
func parseBaseURL(raw string) (string, error) {
	u, err := parseURL(raw)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// parseURL accepts absolute https URLs, and http only for loopback hosts
// (local development and tests), without credentials, query or fragment.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", raw)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("%q must be an absolute http(s) URL", raw)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("URL must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, fmt.Errorf("%q must not have a query or fragment", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("%q must use https (http is allowed only for localhost)", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		return true, nil
	case "0", "f", "false", "no", "n", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use true or false", v)
}

// parseAlgorithms reads a comma- or space-separated list of JWS algorithms.
func parseAlgorithms(v string) ([]string, error) {
	var algs []string
	for _, field := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		alg, ok := canonicalAlgorithm(field)
		if !ok {
			return nil, fmt.Errorf("%q is not an accepted algorithm; use one of %s", field, strings.Join(asymmetricAlgorithms, ", "))
		}
		if !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	if len(algs) == 0 {
		return nil, fmt.Errorf("no algorithm given")
	}
	return algs, nil
}

func canonicalAlgorithm(name string) (string, bool) {
	for _, alg := range asymmetricAlgorithms {
		if strings.EqualFold(alg, name) {
			return alg, true
		}
	}
	return "", false
}
