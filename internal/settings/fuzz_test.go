package settings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResolve writes fuzzed profiles.toml, prefect.toml and .env files and
// checks Resolve never panics, fails only with *Error, and never echoes the
// API key or auth string it was given through the environment.
func FuzzResolve(f *testing.F) {
	seeds := []struct{ profiles, prefect, dotenv string }{
		{"active = \"dev\"\n[profiles.dev]\nPREFECT_API_URL = \"http://x/api\"\nPREFECT_API_REQUEST_TIMEOUT = 2.5\n", "[api]\nurl = \"http://y/api\"\n", "PREFECT_API_URL=http://z/api\n"},
		{"active = 1\n", "api = 3\n", "export A=\"b\\\"\nB=${A:-c}\n"},
		{"[profiles.dev\n", "[api]\ntls_insecure_skip_verify = \"maybe\"\n", "PREFECT_PROFILES_PATH=${HOME}\n"},
		{"active = \"local\"\n", "profiles_path = \"\"\n[cloud]\napi_url = \"https://api.stg.prefect.dev/api\"\n", "PREFECT_API_REQUEST_TIMEOUT=1e400\n"},
		{"profiles.x = [1]\nactive = \"x\"\n", "ui_url = 5\n", "'q\n=\"\n"},
	}
	for _, s := range seeds {
		f.Add(s.profiles, s.prefect, s.dotenv)
	}
	// One directory per fuzzing process, rewritten by each (sequential) input.
	root := f.TempDir()
	work, home := filepath.Join(root, "work"), filepath.Join(root, "home")
	for _, dir := range []string{work, filepath.Join(home, ".prefect")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, profiles, prefect, dotenv string) {
		for name, content := range map[string]string{
			filepath.Join(home, ".prefect", "profiles.toml"): profiles,
			filepath.Join(work, "prefect.toml"):              prefect,
			filepath.Join(work, ".env"):                      dotenv,
		} {
			if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		const key, auth = "pnu_FUZZKEYSECRET", "user:FUZZAUTHSECRET"
		env := mapLookup(map[string]string{"PREFECT_API_KEY": key, "PREFECT_API_AUTH_STRING": auth})
		s, err := Resolve(Env{Lookup: env, WorkDir: work, HomeDir: home})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error leaks a secret: %v", err)
			}
			return
		}
		if s.APIKey != key || s.AuthString != auth {
			t.Fatalf("environment credentials lost: %q %q", s.APIKey, s.AuthString)
		}
		if s.RequestTimeout <= 0 {
			t.Fatalf("RequestTimeout = %v", s.RequestTimeout)
		}
		for _, l := range s.Describe() {
			if strings.Contains(l.Value, "SECRET") {
				t.Fatalf("Describe leaks a secret: %+v", l)
			}
		}
		for _, w := range s.Warnings {
			if strings.Contains(w, "SECRET") {
				t.Fatalf("warning leaks a secret: %q", w)
			}
		}
	})
}

// FuzzParseDotenv checks the .env parser on arbitrary input: no panics, and
// every binding's line lies within the input.
func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export A='x\\'y'\nB=\"${A}\"\n", "'k'=v # c\n\"", "A=\"x\\\"", "${:-}\n=\n#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		file := parseDotenv(content, func(string) (string, bool) { return "", false })
		lines := strings.Count(normalizeNewlines(content), "\n") + 1
		for _, b := range file.bindings {
			if b.line < 1 || b.line > lines || b.key == "" {
				t.Fatalf("binding %+v outside %d lines", b, lines)
			}
		}
		for _, l := range file.badLines {
			if l < 1 || l > lines {
				t.Fatalf("bad line %d outside %d lines", l, lines)
			}
		}
	})
}

func BenchmarkResolve(b *testing.B) {
	r := fixture{
		env: map[string]string{"PREFECT_API_KEY": "pnu_bench"},
		files: map[string]string{
			homeProfiles:          "active = \"dev\"\n[profiles.dev]\nPREFECT_API_URL = \"https://api.prefect.cloud/api/accounts/a/workspaces/w\"\nPREFECT_API_REQUEST_TIMEOUT = 30\n",
			"work/prefect.toml":   "[api]\ntls_insecure_skip_verify = false\n[cloud]\nui_url = \"https://app.prefect.cloud\"\n",
			"work/pyproject.toml": "[project]\nname = \"x\"\n[tool.prefect]\nui_url = \"https://ui.example\"\n",
			"work/.env":           "# settings\nexport PREFECT_API_AUTH_STRING=''\nOTHER=${HOME:-/root}\n",
		},
	}.resolve(b)
	work, home := filepath.Join(r.root, "work"), filepath.Join(r.root, "home")
	lookup := mapLookup(map[string]string{"PREFECT_API_KEY": "pnu_bench"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Resolve(Env{Lookup: lookup, WorkDir: work, HomeDir: home}); err != nil {
			b.Fatal(err)
		}
	}
}
