package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// sourceName identifies one source in tests, highest precedence first.
type sourceName string

const (
	fromEnv     sourceName = "env"
	fromDotenv  sourceName = ".env"
	fromPrefect sourceName = "prefect.toml"
	fromPyproj  sourceName = "pyproject.toml"
	fromProfile sourceName = "profile"
)

func allSources() []sourceName {
	return []sourceName{fromEnv, fromDotenv, fromPrefect, fromPyproj, fromProfile}
}

// builder lays one setting into several sources.
type builder struct {
	env                                 map[string]string
	dotenv, prefect, pyproject, profile []string
	extraFiles                          map[string]string
}

func newBuilder() *builder {
	return &builder{env: map[string]string{}, extraFiles: map[string]string{}}
}

// set puts a setting into a source. tomlPath is its prefect.toml key path
// (e.g. "api.url"); value is a string written as such everywhere.
func (b *builder) set(src sourceName, envName, tomlPath, value string) *builder {
	switch src {
	case fromEnv:
		b.env[envName] = value
	case fromDotenv:
		b.dotenv = append(b.dotenv, envName+"="+value)
	case fromPrefect:
		b.prefect = append(b.prefect, fmt.Sprintf("%s = %q", tomlPath, value))
	case fromPyproj:
		b.pyproject = append(b.pyproject, fmt.Sprintf("tool.prefect.%s = %q", tomlPath, value))
	case fromProfile:
		b.profile = append(b.profile, fmt.Sprintf("%s = %q", envName, value))
	}
	return b
}

func (b *builder) fixture() fixture {
	f := fixture{env: b.env, files: map[string]string{}}
	for k, v := range b.extraFiles {
		f.files[k] = v
	}
	join := func(lines []string) string { return strings.Join(lines, "\n") + "\n" }
	if len(b.dotenv) > 0 {
		f.files["work/.env"] = join(b.dotenv)
	}
	if len(b.prefect) > 0 {
		f.files["work/prefect.toml"] = join(b.prefect)
	}
	if len(b.pyproject) > 0 {
		f.files["work/pyproject.toml"] = join(b.pyproject)
	}
	if len(b.profile) > 0 {
		f.files[homeProfiles] = "active = \"dev\"\n[profiles.dev]\n" + join(b.profile)
	}
	return f
}

func wantSource(src sourceName, root string) string {
	switch src {
	case fromEnv:
		return "env"
	case fromDotenv:
		return ".env (" + filepath.Join(root, "work", ".env") + ")"
	case fromPrefect:
		return "prefect.toml (" + filepath.Join(root, "work", "prefect.toml") + ")"
	case fromPyproj:
		return "pyproject.toml (" + filepath.Join(root, "work", "pyproject.toml") + ")"
	case fromProfile:
		return "profile dev in " + filepath.Join(root, homeProfiles)
	}
	return "default"
}

func TestEachSourceAlone(t *testing.T) {
	for _, src := range allSources() {
		t.Run(string(src), func(t *testing.T) {
			b := newBuilder().
				set(src, NameAPIURL, "api.url", "https://"+string(src)+".example/api").
				set(src, NameAPIKey, "api.key", "pnu_"+string(src)).
				set(src, NameAuthString, "api.auth_string", "user:"+string(src)).
				set(src, NameTLSInsecureSkipVerify, "api.tls_insecure_skip_verify", "true").
				set(src, NameSSLCertFile, "api.ssl_cert_file", "/certs/"+string(src)+".pem").
				set(src, NameRequestTimeout, "api.request_timeout", "12.5").
				set(src, NameCloudAPIURL, "cloud.api_url", "https://api.stg.prefect.dev/api").
				set(src, NameCloudUIURL, "cloud.ui_url", "https://ui."+string(src)+".example").
				set(src, NameUIURL, "ui_url", "https://own-ui."+string(src)+".example")
			r := b.fixture().resolve(t)
			s := r.mustSettings(t)
			want := Settings{
				APIURL:                "https://" + string(src) + ".example/api",
				APIKey:                "pnu_" + string(src),
				AuthString:            "user:" + string(src),
				TLSInsecureSkipVerify: true,
				SSLCertFile:           "/certs/" + string(src) + ".pem",
				RequestTimeout:        12500 * time.Millisecond,
				CloudAPIURL:           "https://api.stg.prefect.dev/api",
				CloudUIURL:            "https://ui." + string(src) + ".example",
				UIURL:                 "https://own-ui." + string(src) + ".example",
			}
			got := Settings{
				APIURL: s.APIURL, APIKey: s.APIKey, AuthString: s.AuthString,
				TLSInsecureSkipVerify: s.TLSInsecureSkipVerify, SSLCertFile: s.SSLCertFile,
				RequestTimeout: s.RequestTimeout, CloudAPIURL: s.CloudAPIURL,
				CloudUIURL: s.CloudUIURL, UIURL: s.UIURL,
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			for _, name := range []string{NameAPIURL, NameAPIKey, NameAuthString, NameTLSInsecureSkipVerify,
				NameSSLCertFile, NameRequestTimeout, NameCloudAPIURL, NameCloudUIURL, NameUIURL} {
				if got, want := s.Sources[name].String(), wantSource(src, r.root); got != want {
					t.Errorf("source of %s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	s := fixture{}.resolve(t).mustSettings(t)
	checks := []struct {
		name, got, want string
	}{
		{"APIURL", s.APIURL, ""},
		{"RequestTimeout", s.RequestTimeout.String(), "1m0s"},
		{"CloudAPIURL", s.CloudAPIURL, "https://api.prefect.cloud/api"},
		{"CloudUIURL", s.CloudUIURL, "https://app.prefect.cloud"},
		{"UIURL", s.UIURL, ""},
		{"Profile", s.Profile, "ephemeral"},
		{"AuthKind", s.AuthKind(), "none"},
		{"source of API URL", s.Sources[NameAPIURL].String(), "default"},
		{"source of cloud UI", s.Sources[NameCloudUIURL].String(), "derived from PREFECT_CLOUD_API_URL"},
		{"TLS", fmt.Sprint(s.TLSInsecureSkipVerify), "false"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings = %q, want none", s.Warnings)
	}
}

func TestPrecedenceBetweenEachPair(t *testing.T) {
	sources := allSources()
	for i, high := range sources {
		for _, low := range sources[i+1:] {
			t.Run(string(high)+">"+string(low), func(t *testing.T) {
				b := newBuilder().
					set(high, NameAPIURL, "api.url", "https://high.example/api").
					set(low, NameAPIURL, "api.url", "https://low.example/api").
					set(low, NameRequestTimeout, "api.request_timeout", "7")
				r := b.fixture().resolve(t)
				s := r.mustSettings(t)
				if s.APIURL != "https://high.example/api" {
					t.Errorf("APIURL = %q, want the %s value", s.APIURL, high)
				}
				if got, want := s.Sources[NameAPIURL].String(), wantSource(high, r.root); got != want {
					t.Errorf("source = %q, want %q", got, want)
				}
				// The lower source still provides what the higher one does not set.
				if s.RequestTimeout != 7*time.Second {
					t.Errorf("RequestTimeout = %v, want 7s from %s", s.RequestTimeout, low)
				}
			})
		}
	}
}

func TestSSLCertFileFallsBackToSSLCertFileVariable(t *testing.T) {
	tests := []struct {
		name       string
		b          *builder
		want       string
		wantSource string
	}{
		{"only SSL_CERT_FILE", newBuilder().set(fromEnv, "SSL_CERT_FILE", "", "/etc/ca.pem"), "/etc/ca.pem", "env SSL_CERT_FILE"},
		{"profile beats SSL_CERT_FILE", newBuilder().set(fromEnv, "SSL_CERT_FILE", "", "/etc/ca.pem").
			set(fromProfile, NameSSLCertFile, "api.ssl_cert_file", "/p.pem"), "/p.pem", "profile dev in {root}/" + homeProfiles},
		{"PREFECT_API_SSL_CERT_FILE wins", newBuilder().set(fromEnv, "SSL_CERT_FILE", "", "/etc/ca.pem").
			set(fromEnv, NameSSLCertFile, "", "/own.pem"), "/own.pem", "env"},
		{"SSL_CERT_FILE in .env is not read", newBuilder().set(fromDotenv, "SSL_CERT_FILE", "", "/etc/ca.pem"), "", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.b.fixture().resolve(t)
			s := r.mustSettings(t)
			if s.SSLCertFile != tt.want {
				t.Errorf("SSLCertFile = %q, want %q", s.SSLCertFile, tt.want)
			}
			if got := s.Sources[NameSSLCertFile].String(); got != r.path(tt.wantSource) {
				t.Errorf("source = %q, want %q", got, r.path(tt.wantSource))
			}
		})
	}
}

func TestEmptyEnvironmentValueOverridesLowerSources(t *testing.T) {
	// pydantic-settings does not ignore empty variables: "" is a value.
	b := newBuilder().set(fromEnv, NameAPIKey, "", "").set(fromProfile, NameAPIKey, "api.key", "pnu_profile").
		set(fromEnv, NameAPIURL, "", "").set(fromProfile, NameAPIURL, "api.url", "http://profile:4200/api")
	s := b.fixture().resolve(t).mustSettings(t)
	if s.APIKey != "" || s.APIURL != "" || s.UIURL != "" {
		t.Errorf("APIKey=%q APIURL=%q UIURL=%q, want all empty", s.APIKey, s.APIURL, s.UIURL)
	}
	if got := s.Sources[NameAPIKey].String(); got != "env" {
		t.Errorf("source = %q, want env", got)
	}
}

func TestDotenvKeysAreCaseInsensitiveForSettings(t *testing.T) {
	f := fixture{files: map[string]string{"work/.env": "prefect_api_url=http://lower:4200/api\n"}}
	s := f.resolve(t).mustSettings(t)
	if s.APIURL != "http://lower:4200/api" {
		t.Errorf("APIURL = %q", s.APIURL)
	}
}

func TestProfileSelection(t *testing.T) {
	const twoProfiles = `active = "dev"
[profiles.dev]
PREFECT_API_URL = "http://dev:4200/api"
[profiles.prod]
PREFECT_API_URL = "http://prod:4200/api"
`
	tests := []struct {
		name        string
		f           fixture
		wantProfile string
		wantURL     string
		wantSource  string // of PREFECT_PROFILE
	}{
		{"active key", fixture{files: map[string]string{homeProfiles: twoProfiles}}, "dev", "http://dev:4200/api", "active key in {root}/" + homeProfiles},
		{"PREFECT_PROFILE wins over active", fixture{env: map[string]string{"PREFECT_PROFILE": "prod"}, files: map[string]string{homeProfiles: twoProfiles}}, "prod", "http://prod:4200/api", "env"},
		{"empty PREFECT_PROFILE is ignored", fixture{env: map[string]string{"PREFECT_PROFILE": ""}, files: map[string]string{homeProfiles: twoProfiles}}, "dev", "http://dev:4200/api", "active key in {root}/" + homeProfiles},
		{"PREFECT_PROFILE in .env is not read", fixture{files: map[string]string{homeProfiles: twoProfiles, "work/.env": "PREFECT_PROFILE=prod\n"}}, "dev", "http://dev:4200/api", "active key in {root}/" + homeProfiles},
		{"no active key means ephemeral", fixture{files: map[string]string{homeProfiles: "[profiles.dev]\nPREFECT_API_URL = \"http://dev:4200/api\"\n"}}, "ephemeral", "", "default"},
		{"empty active key means ephemeral", fixture{files: map[string]string{homeProfiles: "active = \"\"\n"}}, "ephemeral", "", "default"},
		{"built-in name absent from the file sets nothing", fixture{files: map[string]string{homeProfiles: "active = \"local\"\n[profiles.dev]\n"}}, "local", "", "active key in {root}/" + homeProfiles},
		{"no profiles file: Prefect's built-in local profile", fixture{env: map[string]string{"PREFECT_PROFILE": "local"}}, "local", "http://127.0.0.1:4200/api", "env"},
		{"no profiles file: ephemeral", fixture{}, "ephemeral", "", "default"},
		{"PREFECT_HOME without profiles.toml: built-in local is not applied", fixture{env: map[string]string{"PREFECT_PROFILE": "local", "PREFECT_HOME": "{root}/elsewhere"}}, "local", "", "env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.f.resolve(t)
			s := r.mustSettings(t)
			if s.Profile != tt.wantProfile || s.APIURL != tt.wantURL {
				t.Errorf("profile %q url %q, want %q %q", s.Profile, s.APIURL, tt.wantProfile, tt.wantURL)
			}
			if got := s.Sources[NameProfile].String(); got != r.path(tt.wantSource) {
				t.Errorf("profile source = %q, want %q", got, r.path(tt.wantSource))
			}
		})
	}
}

func TestBuiltinLocalProfileSource(t *testing.T) {
	s := fixture{env: map[string]string{"PREFECT_PROFILE": "local"}}.resolve(t).mustSettings(t)
	if got, want := s.Sources[NameAPIURL].String(), "profile local in Prefect's built-in profiles"; got != want {
		t.Errorf("source = %q, want %q", got, want)
	}
}

func TestProfilesPath(t *testing.T) {
	profile := func(url string) string {
		return "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"" + url + "\"\n"
	}
	files := map[string]string{
		"a/profiles.toml": profile("http://a/api"),
		"b/profiles.toml": profile("http://b/api"),
		"c/profiles.toml": profile("http://c/api"),
		"d/profiles.toml": profile("http://d/api"),
		"e/profiles.toml": profile("http://e/api"),
		homeProfiles:      profile("http://home/api"),
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range files {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name       string
		env        map[string]string
		extra      map[string]string
		wantURL    string
		wantPath   string
		wantSource string
	}{
		{"home default", nil, nil, "http://home/api", "{root}/" + homeProfiles, "default"},
		{"PREFECT_HOME", map[string]string{"PREFECT_HOME": "{root}/e"}, nil, "http://e/api", "{root}/e/profiles.toml", "env PREFECT_HOME"},
		{"pyproject beats PREFECT_HOME", map[string]string{"PREFECT_HOME": "{root}/e"},
			map[string]string{"work/pyproject.toml": "[tool.prefect]\nprofiles_path = \"{root}/d/profiles.toml\"\n"},
			"http://d/api", "{root}/d/profiles.toml", "pyproject.toml ({root}/work/pyproject.toml)"},
		{"prefect.toml beats pyproject", nil, map[string]string{
			"work/pyproject.toml": "[tool.prefect]\nprofiles_path = \"{root}/d/profiles.toml\"\n",
			"work/prefect.toml":   "profiles_path = \"{root}/c/profiles.toml\"\n"},
			"http://c/api", "{root}/c/profiles.toml", "prefect.toml ({root}/work/prefect.toml)"},
		{".env beats prefect.toml", nil, map[string]string{
			"work/prefect.toml": "profiles_path = \"{root}/c/profiles.toml\"\n",
			"work/.env":         "PREFECT_PROFILES_PATH={root}/b/profiles.toml\n"},
			"http://b/api", "{root}/b/profiles.toml", ".env ({root}/work/.env)"},
		{"env beats .env", map[string]string{"PREFECT_PROFILES_PATH": "{root}/a/profiles.toml"}, map[string]string{
			"work/.env": "PREFECT_PROFILES_PATH={root}/b/profiles.toml\n"},
			"http://a/api", "{root}/a/profiles.toml", "env"},
		{"relative path is relative to the working directory", map[string]string{"PREFECT_PROFILES_PATH": "../a/profiles.toml"}, nil,
			"http://a/api", "{root}/a/profiles.toml", "env"},
		{"empty prefect.toml value is skipped", nil, map[string]string{"work/prefect.toml": "profiles_path = \"\"\n"},
			"http://home/api", "{root}/" + homeProfiles, "default"},
		{"missing configured file: no profile values", map[string]string{"PREFECT_PROFILES_PATH": "{root}/nope.toml"}, nil,
			"", "{root}/nope.toml", "env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture{env: tt.env, files: with(tt.extra)}.resolve(t)
			s := r.mustSettings(t)
			if s.APIURL != tt.wantURL {
				t.Errorf("APIURL = %q, want %q", s.APIURL, tt.wantURL)
			}
			if s.ProfilesPath != r.path(tt.wantPath) {
				t.Errorf("ProfilesPath = %q, want %q", s.ProfilesPath, r.path(tt.wantPath))
			}
			if got := s.Sources[NameProfilesPath].String(); got != r.path(tt.wantSource) {
				t.Errorf("source = %q, want %q", got, r.path(tt.wantSource))
			}
			if !slices.Contains(s.Files(), s.ProfilesPath) {
				t.Errorf("Files() = %q lacks %q", s.Files(), s.ProfilesPath)
			}
		})
	}
}

func TestProfileValueTypes(t *testing.T) {
	tests := []struct {
		name        string
		values      string
		wantTLS     bool
		wantTimeout time.Duration
	}{
		{"strings", `PREFECT_API_TLS_INSECURE_SKIP_VERIFY = "yes"` + "\n" + `PREFECT_API_REQUEST_TIMEOUT = "30"`, true, 30 * time.Second},
		{"booleans and integers", "PREFECT_API_TLS_INSECURE_SKIP_VERIFY = true\nPREFECT_API_REQUEST_TIMEOUT = 45", true, 45 * time.Second},
		{"false and float", "PREFECT_API_TLS_INSECURE_SKIP_VERIFY = false\nPREFECT_API_REQUEST_TIMEOUT = 2.5", false, 2500 * time.Millisecond},
		{"integer booleans", "PREFECT_API_TLS_INSECURE_SKIP_VERIFY = 1\nPREFECT_API_REQUEST_TIMEOUT = \" 1e1 \"", true, 10 * time.Second},
		{"mixed-case string boolean", `PREFECT_API_TLS_INSECURE_SKIP_VERIFY = "Off"`, false, DefaultRequestTimeout},
		{"lower-case keys are not Prefect settings", "prefect_api_tls_insecure_skip_verify = true\nprefect_api_request_timeout = 5", false, DefaultRequestTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture{files: map[string]string{homeProfiles: "active = \"dev\"\n[profiles.dev]\n" + tt.values + "\n"}}
			s := f.resolve(t).mustSettings(t)
			if s.TLSInsecureSkipVerify != tt.wantTLS || s.RequestTimeout != tt.wantTimeout {
				t.Errorf("TLS %v timeout %v, want %v %v", s.TLSInsecureSkipVerify, s.RequestTimeout, tt.wantTLS, tt.wantTimeout)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		f        fixture
		want     Error  // File and Variable may contain {root}; Reason is checked as a substring
		contains string // in Error()
	}{
		{
			name: "malformed profiles.toml",
			f:    fixture{files: map[string]string{homeProfiles: "active = \"dev\"\n[profiles.dev\n"}},
			want: Error{File: "{root}/" + homeProfiles, Line: 2, Reason: "invalid TOML"},
		},
		{
			name: "malformed prefect.toml",
			f:    fixture{files: map[string]string{"work/prefect.toml": "[api]\nurl = \"x\"\nkey = = 1\n"}},
			want: Error{File: "{root}/work/prefect.toml", Line: 3, Reason: "invalid TOML"},
		},
		{
			name: "malformed pyproject.toml",
			f:    fixture{files: map[string]string{"work/pyproject.toml": "[tool.prefect]\n\nx = [1,\n"}},
			want: Error{File: "{root}/work/pyproject.toml", Line: 3, Reason: "invalid TOML"},
		},
		{
			name:     "unknown profile from PREFECT_PROFILE lists the others",
			f:        fixture{env: map[string]string{"PREFECT_PROFILE": "prod"}, files: map[string]string{homeProfiles: "[profiles.dev]\n[profiles.staging]\n"}},
			want:     Error{File: "{root}/" + homeProfiles, Profile: "prod", Variable: "PREFECT_PROFILE", Reason: "profile not found"},
			contains: "dev, staging",
		},
		{
			name: "unknown active profile",
			f:    fixture{files: map[string]string{homeProfiles: "active = \"gone\"\n[profiles.dev]\n"}},
			want: Error{File: "{root}/" + homeProfiles, Profile: "gone", Variable: "active", Reason: "profile not found"},
		},
		{
			name:     "unknown profile without a profiles file",
			f:        fixture{env: map[string]string{"PREFECT_PROFILE": "prod"}},
			want:     Error{Profile: "prod", Variable: "PREFECT_PROFILE", Reason: "profile not found"},
			contains: "cloud, ephemeral, local, test",
		},
		{
			name:     "API URL without scheme in env",
			f:        fixture{env: map[string]string{"PREFECT_API_URL": "localhost:4200/api"}},
			want:     Error{Variable: "PREFECT_API_URL", Reason: "not an absolute http(s) URL"},
			contains: `"http://localhost:4200/api"`,
		},
		{
			name: "API URL without scheme in a profile",
			f:    fixture{files: map[string]string{homeProfiles: "active = \"dev\"\n[profiles.dev]\nPREFECT_API_URL = \"127.0.0.1:4200/api\"\n"}},
			want: Error{File: "{root}/" + homeProfiles, Profile: "dev", Variable: "PREFECT_API_URL", Reason: "not an absolute http(s) URL"},
		},
		{
			name: "API URL without scheme in .env names the line",
			f:    fixture{files: map[string]string{"work/.env": "# comment\n\nPREFECT_API_URL=example.com/api\n"}},
			want: Error{File: "{root}/work/.env", Line: 3, Variable: "PREFECT_API_URL", Reason: "not an absolute http(s) URL"},
		},
		{
			name: "cloud API URL with another scheme",
			f:    fixture{files: map[string]string{"work/prefect.toml": "[cloud]\napi_url = \"ftp://x/api\"\n"}},
			want: Error{File: "{root}/work/prefect.toml", Variable: "cloud.api_url", Reason: "not an absolute http(s) URL"},
		},
		{
			name: "invalid boolean in env",
			f:    fixture{env: map[string]string{"PREFECT_API_TLS_INSECURE_SKIP_VERIFY": "maybe"}},
			want: Error{Variable: "PREFECT_API_TLS_INSECURE_SKIP_VERIFY", Reason: `invalid boolean "maybe"`},
		},
		{
			name: "invalid boolean integer in a profile",
			f:    fixture{files: map[string]string{homeProfiles: "active = \"dev\"\n[profiles.dev]\nPREFECT_API_TLS_INSECURE_SKIP_VERIFY = 2\n"}},
			want: Error{File: "{root}/" + homeProfiles, Profile: "dev", Variable: "PREFECT_API_TLS_INSECURE_SKIP_VERIFY", Reason: "invalid boolean 2"},
		},
		{
			name: "invalid number in pyproject",
			f:    fixture{files: map[string]string{"work/pyproject.toml": "[tool.prefect.api]\nrequest_timeout = \"soon\"\n"}},
			want: Error{File: "{root}/work/pyproject.toml", Variable: "tool.prefect.api.request_timeout", Reason: `invalid number of seconds "soon"`},
		},
		{
			name: "negative timeout",
			f:    fixture{env: map[string]string{"PREFECT_API_REQUEST_TIMEOUT": "-1"}},
			want: Error{Variable: "PREFECT_API_REQUEST_TIMEOUT", Reason: "positive number of seconds"},
		},
		{
			name: "infinite timeout",
			f:    fixture{env: map[string]string{"PREFECT_API_REQUEST_TIMEOUT": "inf"}},
			want: Error{Variable: "PREFECT_API_REQUEST_TIMEOUT", Reason: "positive number of seconds"},
		},
		{
			name: "number where a string is needed",
			f:    fixture{files: map[string]string{"work/prefect.toml": "[api]\nurl = 4200\n"}},
			want: Error{File: "{root}/work/prefect.toml", Variable: "api.url", Reason: "must be a string, not an integer"},
		},
		{
			name: "api is not a table",
			f:    fixture{files: map[string]string{"work/prefect.toml": "api = \"http://x/api\"\n"}},
			want: Error{File: "{root}/work/prefect.toml", Variable: "api", Reason: "must be a table"},
		},
		{
			name: "tool.prefect is not a table",
			f:    fixture{files: map[string]string{"work/pyproject.toml": "[tool]\nprefect = 1\n"}},
			want: Error{File: "{root}/work/pyproject.toml", Variable: "tool.prefect", Reason: "must be a table"},
		},
		{
			name: "profiles is not a table",
			f:    fixture{files: map[string]string{homeProfiles: "active = \"dev\"\nprofiles = 3\n"}},
			want: Error{File: "{root}/" + homeProfiles, Variable: "profiles", Reason: "must be a table"},
		},
		{
			name: "profile is not a table",
			f:    fixture{files: map[string]string{homeProfiles: "active = \"dev\"\nprofiles.dev = \"x\"\n"}},
			want: Error{File: "{root}/" + homeProfiles, Profile: "dev", Variable: "profiles.dev", Reason: "must be a table"},
		},
		{
			name: "active is not a string",
			f:    fixture{files: map[string]string{homeProfiles: "active = 1\n"}},
			want: Error{File: "{root}/" + homeProfiles, Variable: "active", Reason: "must be a string"},
		},
		{
			name: "profiles_path is not a string",
			f:    fixture{files: map[string]string{"work/prefect.toml": "profiles_path = 5\n"}},
			want: Error{File: "{root}/work/prefect.toml", Variable: "profiles_path", Reason: "must be a string path"},
		},
		{
			name: "profiles file is a directory",
			f:    fixture{env: map[string]string{"PREFECT_PROFILES_PATH": "{root}/work"}},
			want: Error{File: "{root}/work", Reason: "is a directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.f.resolve(t)
			var got *Error
			if !errors.As(r.err, &got) {
				t.Fatalf("error = %v (%T), want *Error", r.err, r.err)
			}
			if got.File != r.path(tt.want.File) || got.Line != tt.want.Line || got.Profile != tt.want.Profile || got.Variable != tt.want.Variable {
				t.Errorf("got File=%q Line=%d Profile=%q Variable=%q\nwant File=%q Line=%d Profile=%q Variable=%q",
					got.File, got.Line, got.Profile, got.Variable, r.path(tt.want.File), tt.want.Line, tt.want.Profile, tt.want.Variable)
			}
			if !strings.Contains(got.Reason, tt.want.Reason) {
				t.Errorf("Reason = %q, want it to contain %q", got.Reason, tt.want.Reason)
			}
			msg := got.Error()
			for _, part := range []string{r.path(tt.want.File), tt.want.Profile, tt.want.Variable, tt.contains} {
				if !strings.Contains(msg, part) {
					t.Errorf("Error() = %q, want it to name %q", msg, part)
				}
			}
		})
	}
}

func TestErrorTextNeverEchoesSecrets(t *testing.T) {
	const secret = "pnu_Zq81secretsecret"
	tests := []struct {
		name string
		f    fixture
	}{
		{"unquoted key in profiles.toml", fixture{files: map[string]string{homeProfiles: "[profiles.dev]\nPREFECT_API_KEY = " + secret + "\n"}}},
		{"unquoted key in prefect.toml", fixture{files: map[string]string{"work/prefect.toml": "[api]\nkey = " + secret + "\n"}}},
		{"bad float-ish key", fixture{files: map[string]string{"work/prefect.toml": "[api]\nkey = 1" + secret + "\n"}}},
		{"key in a URL setting", fixture{env: map[string]string{"PREFECT_API_URL": "user:" + secret + "@host/api"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.f.resolve(t)
			if r.err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(r.err.Error(), "Zq81") {
				t.Errorf("error text leaks the secret: %q", r.err)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		f    fixture
		want string // substring of one warning; "" means no warnings
	}{
		{"key and auth string", fixture{env: map[string]string{"PREFECT_API_KEY": "pnu_x", "PREFECT_API_AUTH_STRING": "u:p"}}, "the auth string (HTTP Basic) is sent"},
		{"app.prefect.cloud", fixture{env: map[string]string{"PREFECT_API_URL": "https://app.prefect.cloud/api/accounts/a/workspaces/w"}}, "did you mean api.prefect.cloud"},
		{"singular workspace", fixture{env: map[string]string{"PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/a/workspace/w"}}, "/workspace/ but should use /workspaces/"},
		{"missing /api", fixture{env: map[string]string{"PREFECT_API_URL": "https://api.prefect.cloud/accounts/a/workspaces/w"}}, "should have /api after the base URL"},
		{"misconfiguration silenced", fixture{env: map[string]string{"PREFECT_API_URL": "https://app.prefect.cloud/api", "PREFECT_SILENCE_API_URL_MISCONFIGURATION": "true"}}, ""},
		{"home from .env does not move profiles", fixture{files: map[string]string{"work/.env": "PREFECT_HOME=/elsewhere\n"}}, "reads PREFECT_HOME from the environment only"},
		{"unparsable .env line", fixture{files: map[string]string{"work/.env": "A=1\nnot a binding\n"}}, ".env line 2 could not be parsed"},
		{"literal tilde", fixture{env: map[string]string{"PREFECT_PROFILES_PATH": "~/p.toml"}}, "does not expand ~"},
		{"insecure TLS ignores the CA file", fixture{env: map[string]string{"PREFECT_API_TLS_INSECURE_SKIP_VERIFY": "1", "PREFECT_API_SSL_CERT_FILE": "/ca.pem"}}, "PREFECT_API_SSL_CERT_FILE is ignored"},
		{"test mode ignores profiles", fixture{env: map[string]string{"PREFECT_TESTING_TEST_MODE": "1"}, files: map[string]string{homeProfiles: "active = \"x\"\n"}}, "profiles are ignored"},
		{".env URL, profile key", fixture{files: map[string]string{
			"work/.env":  "PREFECT_API_URL=https://evil.example/api\n",
			homeProfiles: "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"https://api.prefect.cloud/api/accounts/a/workspaces/w\"\nPREFECT_API_KEY = \"pnu_x\"\n",
		}}, "PREFECT_API_URL comes from .env"},
		{"env auth string, profile URL", fixture{env: map[string]string{"PREFECT_API_AUTH_STRING": "u:p"},
			files: map[string]string{homeProfiles: "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"http://localhost:4200/api\"\n"}}, "but PREFECT_API_AUTH_STRING comes from env"},
		{"URL and key from one profile", fixture{files: map[string]string{
			homeProfiles: "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"http://localhost:4200/api\"\nPREFECT_API_KEY = \"pnu_x\"\n",
		}}, ""},
		{"clean self-hosted", fixture{env: map[string]string{"PREFECT_API_URL": "http://localhost:4200/api", "PREFECT_API_AUTH_STRING": "admin:pw"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.f.resolve(t).mustSettings(t)
			if tt.want == "" {
				if len(s.Warnings) > 0 {
					t.Errorf("warnings = %q, want none", s.Warnings)
				}
				return
			}
			if !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, tt.want) }) {
				t.Errorf("warnings = %q, want one containing %q", s.Warnings, tt.want)
			}
		})
	}
}

func TestAuthKind(t *testing.T) {
	tests := []struct {
		key, auth, want string
	}{
		{"", "", "none"},
		{"pnu_x", "", "api key"},
		{"", "u:p", "basic auth string"},
		{"pnu_x", "u:p", "basic auth string"},
	}
	for _, tt := range tests {
		s := &Settings{APIKey: tt.key, AuthString: tt.auth}
		if got := s.AuthKind(); got != tt.want {
			t.Errorf("AuthKind(key=%q, auth=%q) = %q, want %q", tt.key, tt.auth, got, tt.want)
		}
	}
}

func TestUIURLDerivation(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"cloud workspace", map[string]string{"PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/A/workspaces/W"}, "https://app.prefect.cloud/account/A/workspace/W"},
		{"self-hosted", map[string]string{"PREFECT_API_URL": "http://localhost:4200/api"}, "http://localhost:4200"},
		{"explicit UI URL", map[string]string{"PREFECT_API_URL": "http://localhost:4200/api", "PREFECT_UI_URL": "https://ui.example"}, "https://ui.example"},
		{"custom cloud UI", map[string]string{"PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/A/workspaces/W", "PREFECT_CLOUD_UI_URL": "https://cloud-ui.example"}, "https://cloud-ui.example/account/A/workspace/W"},
		{"staging cloud", map[string]string{"PREFECT_CLOUD_API_URL": "https://api.stg.prefect.dev/api", "PREFECT_API_URL": "https://api.stg.prefect.dev/api/accounts/A/workspaces/W"}, "https://app.stg.prefect.dev/account/A/workspace/W"},
		{"no API URL", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture{env: tt.env}.resolve(t).mustSettings(t)
			if s.UIURL != tt.want {
				t.Errorf("UIURL = %q, want %q", s.UIURL, tt.want)
			}
		})
	}
}

func TestDescribeRedactsSecrets(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		secrets    []string
		wantKey    string
		wantAuth   string
		wantAPIURL string
	}{
		{"user key", map[string]string{"PREFECT_API_KEY": "pnu_SECRETabc123", "PREFECT_API_AUTH_STRING": "admin:SECRETpw"},
			[]string{"SECRET", "abc123"}, "pnu_…(redacted)", "set (redacted)", "(not set)"},
		{"service account key", map[string]string{"PREFECT_API_KEY": "pnb_SECRETxyz"}, []string{"SECRET"}, "pnb_…(redacted)", "(not set)", "(not set)"},
		{"unknown key format", map[string]string{"PREFECT_API_KEY": "SECRETkey"}, []string{"SECRET"}, "set (redacted)", "(not set)", "(not set)"},
		{"bare prefix", map[string]string{"PREFECT_API_KEY": "pnu_"}, nil, "set (redacted)", "(not set)", "(not set)"},
		{"password in URL", map[string]string{"PREFECT_API_URL": "https://user:SECRETpw@prefect.example/api"}, []string{"SECRET"},
			"(not set)", "(not set)", "https://user:xxxxx@prefect.example/api"},
		{"empty key", map[string]string{"PREFECT_API_KEY": ""}, nil, "(empty)", "(not set)", "(not set)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture{env: tt.env}.resolve(t).mustSettings(t)
			lines := s.Describe()
			byName := map[string]Line{}
			for _, l := range lines {
				byName[l.Name] = l
				for _, secret := range tt.secrets {
					if strings.Contains(l.Value, secret) || strings.Contains(l.Source, secret) {
						t.Errorf("line %+v shows secret %q", l, secret)
					}
				}
			}
			for _, w := range s.Warnings {
				for _, secret := range tt.secrets {
					if strings.Contains(w, secret) {
						t.Errorf("warning %q shows secret %q", w, secret)
					}
				}
			}
			if len(lines) != len(describedNames()) {
				t.Errorf("Describe() has %d lines, want %d", len(lines), len(describedNames()))
			}
			if got := byName[NameAPIKey].Value; got != tt.wantKey {
				t.Errorf("key shown as %q, want %q", got, tt.wantKey)
			}
			if got := byName[NameAuthString].Value; got != tt.wantAuth {
				t.Errorf("auth string shown as %q, want %q", got, tt.wantAuth)
			}
			if got := byName[NameAPIURL].Value; got != tt.wantAPIURL {
				t.Errorf("API URL shown as %q, want %q", got, tt.wantAPIURL)
			}
		})
	}
}

func TestDescribeShowsSourcesAndProfilesPath(t *testing.T) {
	r := fixture{env: map[string]string{"PREFECT_API_URL": "http://h:4200/api"}}.resolve(t)
	s := r.mustSettings(t)
	want := map[string]Line{
		NameProfile:        {NameProfile, "ephemeral", "default"},
		NameProfilesPath:   {NameProfilesPath, r.path("{root}/" + homeProfiles + " (not found)"), "default"},
		NameAPIURL:         {NameAPIURL, "http://h:4200/api", "env"},
		NameRequestTimeout: {NameRequestTimeout, "1m0s", "default"},
		NameUIURL:          {NameUIURL, "http://h:4200", "derived from PREFECT_API_URL"},
	}
	for _, l := range s.Describe() {
		if w, ok := want[l.Name]; ok && l != w {
			t.Errorf("line = %+v, want %+v", l, w)
		}
	}
}

func TestFilesListsEveryConsultedFile(t *testing.T) {
	r := fixture{env: map[string]string{"PREFECT_PROFILES_PATH": "{root}/p/profiles.toml"}}.resolve(t)
	s := r.mustSettings(t)
	want := []string{
		r.path("{root}/work/.env"), r.path("{root}/work/prefect.toml"), r.path("{root}/work/pyproject.toml"),
		r.path("{root}/p/profiles.toml"),
	}
	if got := s.Files(); !slices.Equal(got, want) {
		t.Errorf("Files() = %q, want %q", got, want)
	}
	s.Files()[0] = "changed"
	if s.Files()[0] == "changed" {
		t.Error("Files() exposes internal state")
	}
}

func TestRefusesHostileFiles(t *testing.T) {
	big := strings.Repeat("#", maxConfigFileBytes+1)
	tests := []struct {
		name   string
		setup  func(t *testing.T, work string)
		reason string // "" means success
	}{
		{"oversized .env", func(t *testing.T, work string) { writeFile(t, filepath.Join(work, ".env"), big) }, "larger than"},
		{"directory named prefect.toml", func(t *testing.T, work string) {
			if err := os.Mkdir(filepath.Join(work, "prefect.toml"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "is a directory"},
		{"symlink to a regular file is followed", func(t *testing.T, work string) {
			target := filepath.Join(work, "real.env")
			writeFile(t, target, "PREFECT_API_URL=http://linked:4200/api\n")
			if err := os.Symlink(target, filepath.Join(work, ".env")); err != nil {
				t.Skip("symlinks unsupported:", err)
			}
		}, ""},
		{"symlink to a directory", func(t *testing.T, work string) {
			if err := os.Symlink(work, filepath.Join(work, "pyproject.toml")); err != nil {
				t.Skip("symlinks unsupported:", err)
			}
		}, "is a directory"},
		{"dangling symlink is a missing file", func(t *testing.T, work string) {
			if err := os.Symlink(filepath.Join(work, "nothing"), filepath.Join(work, ".env")); err != nil {
				t.Skip("symlinks unsupported:", err)
			}
		}, ""},
		{"invalid UTF-8", func(t *testing.T, work string) { writeFile(t, filepath.Join(work, ".env"), "A=\xff\n") }, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			tt.setup(t, work)
			_, err := Resolve(Env{Lookup: mapLookup(nil), WorkDir: work})
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Reason, tt.reason) || e.File == "" {
				t.Fatalf("error = %v, want *Error naming a file with %q", err, tt.reason)
			}
		})
	}
}
