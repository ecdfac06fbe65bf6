// Package settings resolves Prefect client settings the way Prefect 3 does
// (prefect.settings: sources.py, base.py, models/*.py, profiles.py), and
// records where each value came from.
//
// Precedence, highest first: the process environment; .env in the working
// directory; prefect.toml in the working directory; [tool.prefect] in
// pyproject.toml in the working directory; the active profile; defaults.
package settings

import (
	"errors"
	"slices"
	"time"
)

// Env is everything Resolve reads besides files.
type Env struct {
	Lookup  func(string) (string, bool) // process environment (os.LookupEnv in production); nil means empty
	WorkDir string                      // where .env, prefect.toml and pyproject.toml are read
	HomeDir string                      // for ~/.prefect; empty means no home directory
}

// Settings are the resolved Prefect settings.
type Settings struct {
	APIURL                string // PREFECT_API_URL; empty when not configured (not an error)
	APIKey                string // PREFECT_API_KEY
	AuthString            string // PREFECT_API_AUTH_STRING ("user:password" for HTTP Basic)
	TLSInsecureSkipVerify bool   // PREFECT_API_TLS_INSECURE_SKIP_VERIFY
	SSLCertFile           string // PREFECT_API_SSL_CERT_FILE, else SSL_CERT_FILE
	RequestTimeout        time.Duration
	CloudAPIURL           string // PREFECT_CLOUD_API_URL
	CloudUIURL            string // PREFECT_CLOUD_UI_URL, else derived from CloudAPIURL
	UIURL                 string // PREFECT_UI_URL, else derived from APIURL as Prefect does
	Profile               string // active profile name
	ProfilesPath          string // profiles file consulted (may not exist); empty when none applies

	Sources  map[string]Source // keyed by env-var style name, e.g. "PREFECT_API_URL"; every setting Describe lists has one
	Warnings []string          // non-fatal findings, e.g. key and auth string both set; never contain secrets

	profilesFileFound bool
	files             []string
}

// Setting names, as Prefect's environment variables spell them.
const (
	NameProfile               = "PREFECT_PROFILE"
	NameProfilesPath          = "PREFECT_PROFILES_PATH"
	NameAPIURL                = "PREFECT_API_URL"
	NameAPIKey                = "PREFECT_API_KEY"
	NameAuthString            = "PREFECT_API_AUTH_STRING"
	NameTLSInsecureSkipVerify = "PREFECT_API_TLS_INSECURE_SKIP_VERIFY"
	NameSSLCertFile           = "PREFECT_API_SSL_CERT_FILE"
	NameRequestTimeout        = "PREFECT_API_REQUEST_TIMEOUT"
	NameCloudAPIURL           = "PREFECT_CLOUD_API_URL"
	NameCloudUIURL            = "PREFECT_CLOUD_UI_URL"
	NameUIURL                 = "PREFECT_UI_URL"

	nameSilenceMisconfiguredURL = "PREFECT_SILENCE_API_URL_MISCONFIGURATION"
)

// Defaults, from Prefect's settings models.
const (
	DefaultRequestTimeout = 60 * time.Second
	DefaultCloudAPIURL    = "https://api.prefect.cloud/api"
	defaultProfile        = "ephemeral"
)

// SourceKind says which kind of source a value came from.
type SourceKind int

const (
	SourceDefault     SourceKind = iota // Prefect's default
	SourceEnv                           // process environment
	SourceDotEnv                        // .env
	SourcePrefectTOML                   // prefect.toml
	SourcePyproject                     // pyproject.toml [tool.prefect]
	SourceProfile                       // a profile in a profiles file (Profile empty: the file's `active` key)
	SourceDerived                       // computed from another setting, like Prefect does
)

// Source is where one value came from.
type Source struct {
	Kind    SourceKind
	File    string // for file sources; builtinProfilesFile for Prefect's packaged profiles
	Profile string // for SourceProfile
	Name    string // the variable read when it is not the setting's own name (e.g. SSL_CERT_FILE), or, for SourceDerived, the setting it was derived from
}

// builtinProfilesFile stands for the profiles.toml packaged with Prefect.
const builtinProfilesFile = "Prefect's built-in profiles"

func (s Source) String() string {
	switch s.Kind {
	case SourceEnv:
		if s.Name != "" {
			return "env " + s.Name
		}
		return "env"
	case SourceDotEnv:
		return ".env (" + s.File + ")"
	case SourcePrefectTOML:
		return "prefect.toml (" + s.File + ")"
	case SourcePyproject:
		return "pyproject.toml (" + s.File + ")"
	case SourceProfile:
		if s.Profile == "" {
			return "active key in " + s.File
		}
		return "profile " + s.Profile + " in " + s.File
	case SourceDerived:
		return "derived from " + s.Name
	default:
		return "default"
	}
}

// AuthKind names the credential Prefect's client would send: the auth string
// wins over the API key (prefect.client.orchestration.PrefectClient).
func (s *Settings) AuthKind() string {
	switch {
	case s.AuthString != "":
		return "basic auth string"
	case s.APIKey != "":
		return "api key"
	default:
		return "none"
	}
}

// Files lists every configuration file that was consulted, whether or not it
// exists, so a caller can re-resolve when one of them changes.
func (s *Settings) Files() []string {
	return append([]string(nil), s.files...)
}

// Resolve reads the settings. No API URL at all is not an error (APIURL is
// empty); problems in the configuration are reported as *Error.
func Resolve(env Env) (*Settings, error) {
	if env.Lookup == nil {
		env.Lookup = func(string) (string, bool) { return "", false }
	}
	r := &resolution{env: env, s: &Settings{Sources: make(map[string]Source, 12)}}
	if err := r.run(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Watch = append(slices.Clone(r.s.files), e.File)
		}
		return nil, err
	}
	return r.s, nil
}
