package settings

import (
	"net/url"
	"regexp"
	"strings"
)

// cloudAPIHostPattern is models/cloud.py's test for a Prefect Cloud API URL
// whose UI lives on the matching "app" host. The unescaped dots are Prefect's.
const cloudAPIHostPattern = `^https://api[\.\w]*.prefect.[^\.]+/`

// deriveCloudUIURL mirrors models/cloud.py default_cloud_ui_url.
func deriveCloudUIURL(cloudAPIURL string) string {
	ui := cloudAPIURL
	if regexp.MustCompile(cloudAPIHostPattern).MatchString(ui) {
		ui = strings.Replace(ui, "https://api", "https://app", 1)
	}
	return strings.TrimSuffix(ui, "/api")
}

// deriveUIURL mirrors models/_defaults.py default_ui_url for a non-empty API URL.
func deriveUIURL(apiURL, cloudAPIURL, cloudUIURL string) string {
	ui := apiURL
	if cloudAPIURL != "" && cloudUIURL != "" && strings.HasPrefix(apiURL, cloudAPIURL) {
		ui = strings.ReplaceAll(ui, cloudAPIURL, cloudUIURL)
	}
	ui = strings.TrimSuffix(ui, "/api")
	ui = strings.ReplaceAll(ui, "/api/", "/")
	ui = strings.ReplaceAll(ui, "/accounts/", "/account/")
	return strings.ReplaceAll(ui, "/workspaces/", "/workspace/")
}

// misconfiguredAPIURL mirrors models/root.py _warn_on_misconfigured_api_url.
func misconfiguredAPIURL(apiURL string) []string {
	if apiURL == "" {
		return nil
	}
	var found []string
	if strings.Contains(apiURL, "app.prefect.cloud") {
		found = append(found, "PREFECT_API_URL points to app.prefect.cloud; did you mean api.prefect.cloud?")
	}
	if strings.Contains(apiURL, "account/") {
		found = append(found, "PREFECT_API_URL uses /account/ but should use /accounts/")
	}
	if strings.Contains(apiURL, "workspace/") {
		found = append(found, "PREFECT_API_URL uses /workspace/ but should use /workspaces/")
	}
	if u, err := url.Parse(apiURL); err == nil && u.Path != "" &&
		strings.Contains(apiURL, "api.prefect.cloud") && !strings.HasPrefix(u.Path, "/api") {
		found = append(found, "PREFECT_API_URL should have /api after the base URL")
	}
	if len(found) == 0 {
		return nil
	}
	const example = "e.g. PREFECT_API_URL=https://api.prefect.cloud/api/accounts/[ACCOUNT-ID]/workspaces/[WORKSPACE-ID]"
	return []string{strings.Join(found, "; ") + " (" + example + ")"}
}
