package prefect

import (
	"net/url"
	"strings"
)

// CloudURL is a Prefect Cloud workspace API URL taken apart.
type CloudURL struct {
	// Root is the account-level API root, everything before /accounts/
	// (e.g. https://api.prefect.cloud/api); /me/ and /accounts/{id} live there.
	Root               string
	Account, Workspace string // lowercased UUIDs
}

// ParseCloudURL reports whether u is a Prefect Cloud workspace API URL,
// judged by structure alone: an http(s) URL whose path ends in
// /api/accounts/{uuid}/workspaces/{uuid} (an optional trailing slash aside)
// and holds no other accounts or workspaces segment, so the root and the
// ids are read from the one place. (A path such as
// /api/accounts/A/api/accounts/B/workspaces/W is not a Cloud URL: read
// loosely, it would put the root outside the prefix it was allowed under.)
// The host is not consulted, so staging and test fakes qualify too; a loose
// substring such as "prefect.cloud" never does.
func ParseCloudURL(u string) (CloudURL, bool) {
	parsed, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" ||
		parsed.RawQuery != "" || parsed.ForceQuery || parsed.Fragment != "" {
		return CloudURL{}, false
	}
	segments := strings.Split(strings.TrimSuffix(parsed.EscapedPath(), "/"), "/")
	n := len(segments)
	if n < 6 {
		return CloudURL{}, false
	}
	tail := segments[n-5:]
	if tail[0] != "api" || tail[1] != "accounts" || tail[3] != "workspaces" ||
		!IsUUID(tail[2]) || !IsUUID(tail[4]) {
		return CloudURL{}, false
	}
	for _, s := range segments[:n-4] {
		if strings.EqualFold(s, "accounts") || strings.EqualFold(s, "workspaces") {
			return CloudURL{}, false
		}
	}
	return CloudURL{
		Root:      parsed.Scheme + "://" + parsed.Host + strings.Join(segments[:n-4], "/"),
		Account:   strings.ToLower(tail[2]),
		Workspace: strings.ToLower(tail[4]),
	}, true
}

// IsCloudURL is ParseCloudURL without the root.
func IsCloudURL(u string) (account, workspace string, ok bool) {
	c, ok := ParseCloudURL(u)
	return c.Account, c.Workspace, ok
}

// IsUUID accepts the canonical 8-4-4-4-12 hexadecimal form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
