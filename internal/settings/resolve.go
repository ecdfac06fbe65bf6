package settings

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type valueKind int

const (
	kindString valueKind = iota
	kindSecret
	kindURL
	kindBool
	kindSeconds
)

// definition maps one setting to its env name and its prefect.toml location.
type definition struct {
	name  string
	table string // "api", "cloud", or "" for top-level keys
	key   string
	kind  valueKind
}

// definitions returns the settings resolved through the source chain.
func definitions() [10]definition {
	return [...]definition{
		{NameAPIURL, "api", "url", kindURL},
		{NameAPIKey, "api", "key", kindSecret},
		{NameAuthString, "api", "auth_string", kindSecret},
		{NameTLSInsecureSkipVerify, "api", "tls_insecure_skip_verify", kindBool},
		{NameSSLCertFile, "api", "ssl_cert_file", kindString},
		{NameRequestTimeout, "api", "request_timeout", kindSeconds},
		{NameCloudAPIURL, "cloud", "api_url", kindURL},
		{NameCloudUIURL, "cloud", "ui_url", kindString},
		{NameUIURL, "", "ui_url", kindString},
		{nameSilenceMisconfiguredURL, "", "silence_api_url_misconfiguration", kindBool},
	}
}

// rawValue is a value as found in a source, before conversion.
type rawValue struct {
	value any // string, or a TOML scalar
	line  int // .env line, when known
}

// layer is one source's values keyed by setting name.
type layer struct {
	source  Source
	keyPath string // TOML table prefix for error messages, e.g. "tool.prefect."
	values  map[string]rawValue
}

// resolution carries one Resolve call's inputs and intermediate results.
type resolution struct {
	env              Env
	s                *Settings
	dotenv           *dotenvFile // nil when .env is missing
	dotenvPath       string
	prefectTOML      tomlTable // nil when prefect.toml is missing
	prefectTOMLPath  string
	pyprojectPrefect tomlTable // pyproject.toml's [tool.prefect]; empty when missing
	pyprojectPath    string
	values           map[string]any // converted values by setting name
}

func (r *resolution) run() error {
	if err := r.readWorkDirFiles(); err != nil {
		return err
	}
	profile, err := r.resolveProfile()
	if err != nil {
		return err
	}
	layers, err := r.layers(profile)
	if err != nil {
		return err
	}
	r.values = make(map[string]any, 10)
	for _, def := range definitions() {
		if err := r.resolveOne(def, layers); err != nil {
			return err
		}
	}
	r.apply()
	r.warn()
	return nil
}

// workPath resolves a path the way Python does from the working directory.
func (r *resolution) workPath(name string) string {
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(r.env.WorkDir, name)
}

func (r *resolution) readWorkDirFiles() error {
	r.dotenvPath = r.workPath(".env")
	r.prefectTOMLPath = r.workPath("prefect.toml")
	r.pyprojectPath = r.workPath("pyproject.toml")
	r.s.files = append(r.s.files, r.dotenvPath, r.prefectTOMLPath, r.pyprojectPath)

	data, found, err := readConfigFile(r.dotenvPath)
	if err != nil {
		return err
	}
	if found {
		r.dotenv = parseDotenv(string(data), r.env.Lookup)
		for _, line := range r.dotenv.badLines {
			r.s.Warnings = append(r.s.Warnings, fmt.Sprintf("%s line %d could not be parsed and was skipped (as python-dotenv does)", r.dotenvPath, line))
		}
	}
	if r.prefectTOML, _, err = loadTOML(r.prefectTOMLPath); err != nil {
		return err
	}
	pyproject, _, err := loadTOML(r.pyprojectPath)
	if err != nil {
		return err
	}
	r.pyprojectPrefect, err = subTable(pyproject, r.pyprojectPath, "tool", "prefect")
	return err
}

func (r *resolution) layers(profile profileResult) ([]layer, error) {
	env := layer{source: Source{Kind: SourceEnv}, values: map[string]rawValue{}}
	var dot layer
	if r.dotenv != nil {
		dot = layer{source: Source{Kind: SourceDotEnv, File: r.dotenvPath}, values: map[string]rawValue{}}
	}
	for _, def := range definitions() {
		if v, ok := r.env.Lookup(def.name); ok {
			env.values[def.name] = rawValue{value: v}
		}
		if r.dotenv != nil {
			if b, ok := r.dotenv.lookupFold(def.name); ok && b.hasValue {
				dot.values[def.name] = rawValue{value: b.value, line: b.line}
			}
		}
	}
	prefect, err := tomlLayer(r.prefectTOML, Source{Kind: SourcePrefectTOML, File: r.prefectTOMLPath}, "")
	if err != nil {
		return nil, err
	}
	pyproj, err := tomlLayer(r.pyprojectPrefect, Source{Kind: SourcePyproject, File: r.pyprojectPath}, "tool.prefect.")
	if err != nil {
		return nil, err
	}
	prof := layer{source: profile.valuesSource, values: map[string]rawValue{}}
	for _, def := range definitions() {
		// Profiles are keyed by the exact upper-case variable name.
		if v, ok := profile.values[def.name]; ok {
			prof.values[def.name] = rawValue{value: v}
		}
	}
	return []layer{env, dot, prefect, pyproj, prof}, nil
}

func tomlLayer(root tomlTable, src Source, keyPath string) (layer, error) {
	l := layer{source: src, keyPath: keyPath, values: map[string]rawValue{}}
	if root == nil {
		return l, nil
	}
	for _, def := range definitions() {
		table := root
		if def.table != "" {
			var err error
			if table, err = subTable(root, src.File, def.table); err != nil {
				if e, ok := err.(*Error); ok {
					e.Variable = keyPath + e.Variable
				}
				return layer{}, err
			}
		}
		v, ok := table[def.key]
		if _, isTable := v.(tomlTable); !ok || isTable {
			// A table here is a nested settings group, not a value (Prefect skips it).
			continue
		}
		l.values[def.name] = rawValue{value: v}
	}
	return l, nil
}

func (r *resolution) resolveOne(def definition, layers []layer) error {
	for _, l := range layers {
		raw, ok := l.values[def.name]
		if !ok {
			continue
		}
		v, err := convert(def, raw, l)
		if err != nil {
			return err
		}
		r.values[def.name] = v
		r.s.Sources[def.name] = l.source
		return nil
	}
	return nil
}

// convert validates a raw value the way pydantic (lax mode) would for the
// setting's type, with stricter checks where Prefect would only fail later.
func convert(def definition, raw rawValue, l layer) (any, error) {
	fail := func(reason string) error {
		e := &Error{Variable: def.name, Reason: reason}
		switch l.source.Kind {
		case SourceEnv:
			e.Reason += " (set in the environment)"
		case SourcePrefectTOML, SourcePyproject:
			e.File = l.source.File
			e.Variable = l.keyPath + tomlKey(def)
		default:
			e.File, e.Line, e.Profile = l.source.File, raw.line, l.source.Profile
		}
		return e
	}
	switch def.kind {
	case kindBool:
		b, err := toBool(raw.value)
		if err != nil {
			return nil, fail(err.Error())
		}
		return b, nil
	case kindSeconds:
		d, err := toSeconds(raw.value)
		if err != nil {
			return nil, fail(err.Error())
		}
		return d, nil
	}
	s, ok := raw.value.(string)
	if !ok {
		return nil, fail("must be a string, not " + tomlTypeName(raw.value))
	}
	if def.kind == kindURL {
		if err := checkURL(s); err != nil {
			return nil, fail(err.Error())
		}
	}
	return s, nil
}

func tomlKey(def definition) string {
	if def.table == "" {
		return def.key
	}
	return def.table + "." + def.key
}

// toBool follows pydantic's lax bool parsing.
func toBool(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case int64:
		if v == 0 || v == 1 {
			return v == 1, nil
		}
	case float64:
		if v == 0 || v == 1 {
			return v == 1, nil
		}
	case string:
		switch strings.ToLower(v) {
		case "0", "f", "n", "no", "off", "false":
			return false, nil
		case "1", "t", "y", "yes", "on", "true":
			return true, nil
		}
		return false, fmt.Errorf("invalid boolean %s; use true or false", quoteForError(v))
	default:
		return false, fmt.Errorf("must be a boolean, not %s", tomlTypeName(v))
	}
	return false, fmt.Errorf("invalid boolean %v; use true or false", v)
}

// maxTimeoutSeconds keeps the timeout within time.Duration.
const maxTimeoutSeconds = float64(math.MaxInt64/int64(time.Second)) - 1

// toSeconds follows pydantic's lax float parsing, then requires a positive,
// finite number of seconds (Prefect would accept others and fail every request).
func toSeconds(v any) (time.Duration, error) {
	var f float64
	switch v := v.(type) {
	case int64:
		f = float64(v)
	case float64:
		f = v
	case bool:
		if v {
			f = 1
		}
	case string:
		trimmed := strings.TrimSpace(v)
		parsed, err := strconv.ParseFloat(trimmed, 64)
		if err != nil || strings.ContainsAny(trimmed, "xX_") {
			return 0, fmt.Errorf("invalid number of seconds %s", quoteForError(v))
		}
		f = parsed
	default:
		return 0, fmt.Errorf("must be a number of seconds, not %s", tomlTypeName(v))
	}
	if math.IsNaN(f) || f <= 0 || f > maxTimeoutSeconds {
		return 0, fmt.Errorf("must be a positive number of seconds, got %v", f)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// checkURL requires an absolute http(s) URL; an empty value means "not set",
// as Prefect treats it.
func checkURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	shown := "the value"
	if !strings.Contains(s, "@") { // may hold user:password; never echo it
		shown = quoteForError(s)
	}
	hint := "include the scheme, e.g. http://localhost:4200/api"
	if !strings.Contains(s, "://") && !strings.Contains(s, "@") {
		hint = "include the scheme, e.g. " + quoteForError("http://"+s)
	}
	return fmt.Errorf("%s is not an absolute http(s) URL; %s", shown, hint)
}

// apply copies converted values into Settings and fills defaults and the
// values Prefect derives from others.
func (r *resolution) apply() {
	s := r.s
	str := func(name string) (string, bool) {
		v, ok := r.values[name].(string)
		return v, ok
	}
	s.APIURL, _ = str(NameAPIURL)
	s.APIKey, _ = str(NameAPIKey)
	s.AuthString, _ = str(NameAuthString)
	s.TLSInsecureSkipVerify, _ = r.values[NameTLSInsecureSkipVerify].(bool)

	var ok bool
	if s.SSLCertFile, ok = str(NameSSLCertFile); !ok {
		// Prefect's default for the field is os.environ.get("SSL_CERT_FILE").
		if v, set := r.env.Lookup("SSL_CERT_FILE"); set {
			s.SSLCertFile = v
			s.Sources[NameSSLCertFile] = Source{Kind: SourceEnv, Name: "SSL_CERT_FILE"}
		}
	}
	if s.RequestTimeout, ok = r.values[NameRequestTimeout].(time.Duration); !ok {
		s.RequestTimeout = DefaultRequestTimeout
	}
	if s.CloudAPIURL, ok = str(NameCloudAPIURL); !ok {
		s.CloudAPIURL = DefaultCloudAPIURL
	}
	if s.CloudUIURL, ok = str(NameCloudUIURL); !ok {
		s.CloudUIURL = deriveCloudUIURL(s.CloudAPIURL)
		s.Sources[NameCloudUIURL] = Source{Kind: SourceDerived, Name: NameCloudAPIURL}
	}
	if s.UIURL, ok = str(NameUIURL); !ok && s.APIURL != "" {
		s.UIURL = deriveUIURL(s.APIURL, s.CloudAPIURL, s.CloudUIURL)
		s.Sources[NameUIURL] = Source{Kind: SourceDerived, Name: NameAPIURL}
	}
	for _, line := range describedNames() {
		if _, ok := s.Sources[line]; !ok {
			s.Sources[line] = Source{Kind: SourceDefault}
		}
	}
}

func (r *resolution) warn() {
	s := r.s
	if s.APIKey != "" && s.AuthString != "" {
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"both %s (from %s) and %s (from %s) are set; like Prefect's client, the auth string (HTTP Basic) is sent and the API key is not",
			NameAPIKey, s.Sources[NameAPIKey], NameAuthString, s.Sources[NameAuthString]))
	}
	if s.TLSInsecureSkipVerify && s.SSLCertFile != "" {
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"%s is true, so certificates are not verified and %s is ignored", NameTLSInsecureSkipVerify, NameSSLCertFile))
	}
	if silenced, _ := r.values[nameSilenceMisconfiguredURL].(bool); !silenced {
		s.Warnings = append(s.Warnings, misconfiguredAPIURL(s.APIURL)...)
	}
	if w := s.mixedCredentialSource(); w != "" {
		s.Warnings = append(s.Warnings, w)
	}
}

// mixedCredentialSource warns when the credential that will be sent comes
// from another source than the URL it is sent to: a .env in the working
// directory can point a profile's API key at another host. Prefect resolves
// the same way, so the precedence stays; the operator is told.
func (s *Settings) mixedCredentialSource() string {
	name := NameAPIKey
	if s.AuthString != "" {
		name = NameAuthString // sent instead of the key
	} else if s.APIKey == "" {
		return ""
	}
	url, cred := s.Sources[NameAPIURL], s.Sources[name]
	if s.APIURL == "" || (url.Kind == cred.Kind && url.File == cred.File && url.Profile == cred.Profile) {
		return ""
	}
	return fmt.Sprintf("%s comes from %s but %s comes from %s: the credential is sent to that URL; check that both belong to the same Prefect",
		NameAPIURL, url, name, cred)
}
