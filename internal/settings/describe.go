package settings

import (
	"net/url"
	"strconv"
	"strings"
)

// Line is one row of `prefect-mcp config`: a setting, its value with secrets
// redacted, and where the value came from.
type Line struct {
	Name   string
	Value  string
	Source string
}

func describedNames() []string {
	return []string{
		NameProfile, NameProfilesPath,
		NameAPIURL, NameAPIKey, NameAuthString,
		NameTLSInsecureSkipVerify, NameSSLCertFile, NameRequestTimeout,
		NameCloudAPIURL, NameCloudUIURL, NameUIURL,
	}
}

// Describe lists every setting in a fixed order. Secrets never appear: an API
// key shows at most its well-known type prefix (pnu_/pnb_), an auth string
// only whether it is set, and URLs lose any password.
func (s *Settings) Describe() []Line {
	names := describedNames()
	lines := make([]Line, 0, len(names))
	for _, name := range names {
		var value string
		switch name {
		case NameProfile:
			value = s.Profile
		case NameProfilesPath:
			value = s.describeProfilesPath()
		case NameAPIURL:
			value = describeURL(s.APIURL, s.Sources[name])
		case NameAPIKey:
			value = redactAPIKey(s.APIKey, s.Sources[name])
		case NameAuthString:
			value = redactSecret(s.AuthString, s.Sources[name])
		case NameTLSInsecureSkipVerify:
			value = strconv.FormatBool(s.TLSInsecureSkipVerify)
		case NameSSLCertFile:
			value = describeString(s.SSLCertFile, s.Sources[name])
		case NameRequestTimeout:
			value = s.RequestTimeout.String()
		case NameCloudAPIURL:
			value = describeURL(s.CloudAPIURL, s.Sources[name])
		case NameCloudUIURL:
			value = describeURL(s.CloudUIURL, s.Sources[name])
		case NameUIURL:
			value = describeURL(s.UIURL, s.Sources[name])
		}
		lines = append(lines, Line{Name: name, Value: value, Source: s.Sources[name].String()})
	}
	return lines
}

func (s *Settings) describeProfilesPath() string {
	switch {
	case s.ProfilesPath == "":
		return "(none: " + builtinProfilesFile + ")"
	case !s.profilesFileFound:
		return s.ProfilesPath + " (not found)"
	default:
		return s.ProfilesPath
	}
}

// unsetOrEmpty distinguishes a setting no source gives from one set to "".
func unsetOrEmpty(src Source) string {
	if src.Kind == SourceDefault {
		return "(not set)"
	}
	return "(empty)"
}

func describeString(v string, src Source) string {
	if v == "" {
		return unsetOrEmpty(src)
	}
	return v
}

func describeURL(v string, src Source) string {
	if v == "" {
		return unsetOrEmpty(src)
	}
	u, err := url.Parse(v)
	if err != nil {
		if strings.Contains(v, "@") {
			return "(set, unparsable URL redacted)"
		}
		return v
	}
	return u.Redacted()
}

func redactSecret(v string, src Source) string {
	if v == "" {
		return unsetOrEmpty(src)
	}
	return "set (redacted)"
}

// redactAPIKey shows a Prefect Cloud key's type prefix, which is not secret,
// and nothing after it.
func redactAPIKey(v string, src Source) string {
	if v == "" {
		return unsetOrEmpty(src)
	}
	for _, prefix := range []string{"pnu_", "pnb_"} {
		if strings.HasPrefix(v, prefix) && len(v) > len(prefix) {
			return prefix + "…(redacted)"
		}
	}
	return "set (redacted)"
}
