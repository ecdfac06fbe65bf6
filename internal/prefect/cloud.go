package prefect

import (
	"net/url"
	"strings"
)

// IsCloudURL reports whether u is a Prefect Cloud workspace API URL, judged by
// structure alone: an http(s) URL whose path ends in
// /api/accounts/{uuid}/workspaces/{uuid} (an optional trailing slash aside).
// The host is not consulted, so staging and test fakes qualify too; a loose
// substring such as "prefect.cloud" never does. The IDs come back lowercased.
func IsCloudURL(u string) (account, workspace string, ok bool) {
	parsed, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return "", "", false
	}
	segments := strings.Split(strings.TrimSuffix(parsed.EscapedPath(), "/"), "/")
	n := len(segments)
	if n < 6 {
		return "", "", false
	}
	tail := segments[n-5:]
	if tail[0] != "api" || tail[1] != "accounts" || tail[3] != "workspaces" ||
		!IsUUID(tail[2]) || !IsUUID(tail[4]) {
		return "", "", false
	}
	return strings.ToLower(tail[2]), strings.ToLower(tail[4]), true
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
