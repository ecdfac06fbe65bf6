package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture describes one Resolve call: a process environment and files laid
// out under a temporary root with "work/" (WorkDir) and "home/" (HomeDir).
// The placeholder {root} in env values and file contents is replaced by the
// temporary root.
type fixture struct {
	env   map[string]string
	files map[string]string
}

type resolved struct {
	root     string
	settings *Settings
	err      error
}

func (f fixture) resolve(t testing.TB) resolved {
	t.Helper()
	root := t.TempDir()
	work, home := filepath.Join(root, "work"), filepath.Join(root, "home")
	for _, dir := range []string{work, home} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range f.files {
		writeFile(t, filepath.Join(root, name), strings.ReplaceAll(content, "{root}", root))
	}
	env := make(map[string]string, len(f.env))
	for k, v := range f.env {
		env[k] = strings.ReplaceAll(v, "{root}", root)
	}
	s, err := Resolve(Env{Lookup: mapLookup(env), WorkDir: work, HomeDir: home})
	return resolved{root: root, settings: s, err: err}
}

func (r resolved) mustSettings(t testing.TB) *Settings {
	t.Helper()
	if r.err != nil {
		t.Fatalf("Resolve: %v", r.err)
	}
	return r.settings
}

// path turns "{root}/x" into a real path.
func (r resolved) path(p string) string { return strings.ReplaceAll(p, "{root}", r.root) }

func mapLookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const homeProfiles = "home/.prefect/profiles.toml"
