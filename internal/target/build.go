package target

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Builder turns an API URL and credentials into a Target. All targets share
// one http.Client (connection reuse); credentials live in each prefect.Client.
type Builder struct {
	HTTPClient       *http.Client
	UserAgent        string
	MaxResponseBytes int64
	// UIURL overrides the derived UI base (PREFECT_UI_URL); applies only to
	// targets built from the server's own settings.
	UIURL string
	// AllowURL, when set, must accept every URL the target's client
	// requests (prefect.Config.AllowURL).
	AllowURL func(*url.URL) bool
	// Budget bounds the memory of Prefect answers, shared by every target
	// (prefect.Config.Budget).
	Budget *prefect.Budget
	// Observe reports each upstream request (traces, debug log); may be nil.
	Observe *prefect.Observer
}

// Credentials for one Prefect API.
type Credentials struct {
	APIURL, APIKey, AuthString string
}

// Build validates the URL and returns a target. Prefect's client (3.4.1+)
// sends the auth string when both it and an API key are set; so do we.
func (b Builder) Build(c Credentials, uiURL string) (*Target, error) {
	if err := checkAPIURL(c.APIURL); err != nil {
		return nil, err
	}
	cfg := prefect.Config{
		BaseURL:          strings.TrimRight(c.APIURL, "/"),
		UserAgent:        b.UserAgent,
		MaxResponseBytes: b.MaxResponseBytes,
		AllowURL:         b.AllowURL,
		Budget:           b.Budget,
		Observe:          b.Observe,
	}
	mode := AuthNone
	switch {
	case c.AuthString != "":
		cfg.AuthString, mode = c.AuthString, AuthBasic
	case c.APIKey != "":
		cfg.APIKey, mode = c.APIKey, AuthAPIKey
	}
	client, err := prefect.New(cfg, b.HTTPClient)
	if err != nil {
		return nil, errorf("invalid Prefect API URL: %v", err)
	}
	t := &Target{Client: client, APIURL: cfg.BaseURL, Kind: SelfHosted, Auth: mode}
	if c, ok := prefect.ParseCloudURL(cfg.BaseURL); ok {
		t.Kind, t.AccountID, t.WorkspaceID, t.CloudAPIRoot = Cloud, c.Account, c.Workspace, c.Root
	}
	t.UIURL = UIBase(cfg.BaseURL, uiURL, t.Kind, t.AccountID, t.WorkspaceID)
	return t, nil
}

// checkAPIURL accepts only absolute http(s) URLs without embedded
// credentials, query or fragment. The message never echoes the URL, which
// may carry a secret.
func checkAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errorf("the Prefect API URL does not parse as a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errorf("the Prefect API URL must be an absolute http:// or https:// URL, such as http://127.0.0.1:4200/api")
	}
	if u.Host == "" {
		return errorf("the Prefect API URL has no host")
	}
	if u.User != nil {
		return errorf("the Prefect API URL must not contain credentials; send them as an API key or auth string instead")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errorf("the Prefect API URL must not contain a query or fragment")
	}
	return nil
}
