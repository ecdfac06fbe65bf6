package settings

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// profileResult is the outcome of choosing the profiles file and profile.
type profileResult struct {
	values       tomlTable // the active profile's table; nil when it contributes nothing
	valuesSource Source
}

// builtinProfileNames are the profiles in the profiles.toml packaged with
// Prefect (src/prefect/settings/profiles.toml), whose `active` is "ephemeral".
func builtinProfileNames() []string { return []string{"cloud", "ephemeral", "local", "test"} }

// builtinProfile returns the client settings of a packaged profile; only
// "local" sets one this package reads.
func builtinProfile(name string) (tomlTable, bool) {
	switch name {
	case "local":
		return tomlTable{NameAPIURL: "http://127.0.0.1:4200/api"}, true
	case "cloud", "ephemeral", "test":
		return tomlTable{}, true
	}
	return nil, false
}

// testModeVariables make Prefect ignore profiles entirely (sources.py _is_test_mode).
func testModeVariables() []string {
	return []string{"PREFECT_TEST_MODE", "PREFECT_UNIT_TEST_MODE", "PREFECT_TESTING_UNIT_TEST_MODE", "PREFECT_TESTING_TEST_MODE"}
}

func (r *resolution) resolveProfile() (profileResult, error) {
	s := r.s
	envProfile, _ := r.env.Lookup(NameProfile)
	for _, name := range testModeVariables() {
		if v, _ := r.env.Lookup(name); v != "" {
			s.Warnings = append(s.Warnings, name+" is set: profiles are ignored, as Prefect does in test mode")
			s.Profile, s.Sources[NameProfile] = profileName(envProfile)
			s.Sources[NameProfilesPath] = Source{Kind: SourceDefault}
			return profileResult{}, nil
		}
	}

	path, pathSource, err := r.profilesPath()
	if err != nil {
		return profileResult{}, err
	}
	s.Sources[NameProfilesPath] = pathSource
	if path == "" {
		return r.selectBuiltin(envProfile)
	}
	s.ProfilesPath = path
	s.files = append(s.files, path)

	data, found, err := loadTOML(path)
	if err != nil {
		return profileResult{}, err
	}
	if !found {
		// Prefect falls back to the packaged default profile, which sets no
		// client settings; a named profile that cannot exist is an error here.
		s.Profile, s.Sources[NameProfile] = profileName(envProfile)
		if _, ok := builtinProfile(s.Profile); !ok {
			return profileResult{}, &Error{File: path, Profile: s.Profile, Variable: NameProfile,
				Reason: "profile not found: the profiles file does not exist; built-in profiles: " + strings.Join(builtinProfileNames(), ", "),
				Fix:    fixUnknownProfile(s.Profile, NameProfile, nil)}
		}
		r.warnLiteralPath(path, pathSource)
		return profileResult{}, nil
	}
	s.profilesFileFound = true
	return r.selectFromFile(path, data, envProfile)
}

// fixUnknownProfile says how to select an existing profile instead of
// name, which came from variable (PREFECT_PROFILE or the file's "active").
func fixUnknownProfile(name, variable string, available []string) string {
	if len(available) == 0 {
		if variable == NameProfile {
			return "unset PREFECT_PROFILE, or create the profile with `prefect profile create " + name + "`"
		}
		return "create a profile with `prefect profile create NAME` and select it with `prefect profile use NAME`, or remove the `active` line"
	}
	pick := available[0]
	if slices.Contains(available, "local") { // the usual one on a workstation
		pick = "local"
	}
	if variable == NameProfile {
		return fmt.Sprintf("set PREFECT_PROFILE to a profile that exists (e.g. PREFECT_PROFILE=%s), or unset it to use the file's active profile", pick)
	}
	return fmt.Sprintf("run `prefect profile use %s` (or start the server with PREFECT_PROFILE=%s)", pick, pick)
}

// profileName picks PREFECT_PROFILE, else Prefect's default profile.
func profileName(envProfile string) (string, Source) {
	if envProfile != "" {
		return envProfile, Source{Kind: SourceEnv}
	}
	return defaultProfile, Source{Kind: SourceDefault}
}

func (r *resolution) selectBuiltin(envProfile string) (profileResult, error) {
	s := r.s
	s.Profile, s.Sources[NameProfile] = profileName(envProfile)
	values, ok := builtinProfile(s.Profile)
	if !ok {
		where := "no profiles file exists"
		if s.ProfilesPath != "" {
			where = s.ProfilesPath + " does not exist"
		}
		return profileResult{}, &Error{Profile: s.Profile, Variable: NameProfile,
			Reason: fmt.Sprintf("profile not found: %s; built-in profiles: %s", where, strings.Join(builtinProfileNames(), ", ")),
			Fix:    fixUnknownProfile(s.Profile, NameProfile, nil)}
	}
	return profileResult{values: values, valuesSource: Source{Kind: SourceProfile, File: builtinProfilesFile, Profile: s.Profile}}, nil
}

func (r *resolution) selectFromFile(path string, data tomlTable, envProfile string) (profileResult, error) {
	s := r.s
	name, nameSource, nameVariable := envProfile, Source{Kind: SourceEnv}, NameProfile
	if name == "" {
		nameSource, nameVariable = Source{Kind: SourceProfile, File: path}, "active"
		if v, ok := data["active"]; ok {
			str, isString := v.(string)
			if !isString {
				return profileResult{}, &Error{File: path, Variable: "active", Reason: "must be a string naming a profile, not " + tomlTypeName(v)}
			}
			name = str
		}
	}
	profiles, err := subTable(data, path, "profiles")
	if err != nil {
		return profileResult{}, err
	}
	if name == "" {
		s.Profile, s.Sources[NameProfile] = defaultProfile, Source{Kind: SourceDefault}
		return profileResult{}, nil
	}
	s.Profile, s.Sources[NameProfile] = name, nameSource
	raw, ok := profiles[name]
	if !ok {
		if _, isBuiltin := builtinProfile(name); isBuiltin {
			// Prefect's loader then uses the packaged default profile, which
			// sets no client settings.
			return profileResult{}, nil
		}
		available := slices.Sorted(func(yield func(string) bool) {
			for k := range profiles {
				if !yield(k) {
					return
				}
			}
		})
		list := "none"
		if len(available) > 0 {
			list = strings.Join(available, ", ")
		}
		return profileResult{}, &Error{File: path, Profile: name, Variable: nameVariable,
			Reason: fmt.Sprintf("profile not found; profiles in the file: %s (built-in: %s)", list, strings.Join(builtinProfileNames(), ", ")),
			Fix:    fixUnknownProfile(name, nameVariable, available)}
	}
	table, ok := raw.(tomlTable)
	if !ok {
		return profileResult{}, &Error{File: path, Profile: name, Variable: "profiles." + name, Reason: "must be a table of settings, not " + tomlTypeName(raw)}
	}
	return profileResult{values: table, valuesSource: Source{Kind: SourceProfile, File: path, Profile: name}}, nil
}

// profilesPath mirrors sources.py _get_profiles_path: PREFECT_PROFILES_PATH
// from the environment, .env, prefect.toml `profiles_path`, pyproject.toml
// `tool.prefect.profiles_path`; then $PREFECT_HOME/profiles.toml (environment
// only); then ~/.prefect/profiles.toml if it exists. An empty path means
// Prefect's packaged profiles. Paths are used literally (no ~ expansion), and
// relative ones are relative to the working directory, as in Prefect.
func (r *resolution) profilesPath() (string, Source, error) {
	if v, _ := r.env.Lookup(NameProfilesPath); v != "" {
		return r.workPath(v), Source{Kind: SourceEnv}, nil
	}
	if r.dotenv != nil {
		if b, ok := r.dotenv.lookupExact(NameProfilesPath); ok && b.value != "" {
			return r.workPath(b.value), Source{Kind: SourceDotEnv, File: r.dotenvPath}, nil
		}
	}
	if p, err := tomlPathValue(r.prefectTOML, r.prefectTOMLPath, "profiles_path"); err != nil || p != "" {
		return r.workPath(p), Source{Kind: SourcePrefectTOML, File: r.prefectTOMLPath}, err
	}
	if p, err := tomlPathValue(r.pyprojectPrefect, r.pyprojectPath, "profiles_path"); err != nil || p != "" {
		return r.workPath(p), Source{Kind: SourcePyproject, File: r.pyprojectPath}, err
	}
	if home, _ := r.env.Lookup("PREFECT_HOME"); home != "" {
		return r.workPath(filepath.Join(home, "profiles.toml")), Source{Kind: SourceEnv, Name: "PREFECT_HOME"}, nil
	}
	r.warnIgnoredHome()
	if r.env.HomeDir == "" {
		return "", Source{Kind: SourceDefault}, nil
	}
	home := filepath.Join(r.env.HomeDir, ".prefect", "profiles.toml")
	if _, err := os.Stat(home); err != nil {
		// Prefect uses its packaged profiles; watch the home file so creating
		// it is noticed.
		r.s.files = append(r.s.files, home)
		r.s.ProfilesPath = home
		return "", Source{Kind: SourceDefault}, nil
	}
	return home, Source{Kind: SourceDefault}, nil
}

// tomlPathValue reads a path-valued key. Like Prefect, falsy values are
// skipped; a truthy non-string is an error (Prefect fails building a Path).
func tomlPathValue(t tomlTable, file, key string) (string, error) {
	v, ok := lookupPath(t, key)
	if !ok {
		return "", nil
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		if !v {
			return "", nil
		}
	case int64:
		if v == 0 {
			return "", nil
		}
	case float64:
		if v == 0 {
			return "", nil
		}
	case tomlTable:
		if len(v) == 0 {
			return "", nil
		}
	case []any:
		if len(v) == 0 {
			return "", nil
		}
	}
	return "", &Error{File: file, Variable: key, Reason: "must be a string path, not " + tomlTypeName(v)}
}

// warnIgnoredHome points out a PREFECT_HOME that only a file sets: Prefect's
// profile loader reads it from the environment alone.
func (r *resolution) warnIgnoredHome() {
	var where string
	switch {
	case r.dotenv != nil && hasDotenvValue(r.dotenv, "PREFECT_HOME"):
		where = r.dotenvPath
	case hasKey(r.prefectTOML, "home"):
		where = r.prefectTOMLPath
	case hasKey(r.pyprojectPrefect, "home"):
		where = r.pyprojectPath
	default:
		return
	}
	r.s.Warnings = append(r.s.Warnings, "PREFECT_HOME set in "+where+" does not move profiles.toml: Prefect's profile loader reads PREFECT_HOME from the environment only (set PREFECT_PROFILES_PATH instead)")
}

func hasDotenvValue(f *dotenvFile, key string) bool {
	b, ok := f.lookupFold(key)
	return ok && b.hasValue && b.value != ""
}

func hasKey(t tomlTable, key string) bool {
	_, ok := t[key]
	return ok
}

// warnLiteralPath explains a missing profiles file whose configured path
// looks like it expected shell expansion, which Prefect does not do.
func (r *resolution) warnLiteralPath(path string, src Source) {
	if !strings.Contains(path, "~") && !strings.Contains(path, "$") {
		return
	}
	r.s.Warnings = append(r.s.Warnings, fmt.Sprintf(
		"profiles file %s (from %s) does not exist; Prefect uses the path literally and does not expand ~ or $VARIABLES", path, src))
}
