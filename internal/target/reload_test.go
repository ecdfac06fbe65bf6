package target

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReloadingFollowsFileChanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "profiles.toml")
	write := func(s string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-time.Hour)
	write("http://127.0.0.1:4200/api", base)
	loads := 0
	load := func() (*Target, []string, error) {
		loads++
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		url := strings.TrimSpace(string(raw))
		if url == "broken" {
			return nil, nil, errors.New("malformed settings")
		}
		tg, err := Builder{}.Build(Credentials{APIURL: url}, "")
		return tg, []string{path}, err
	}
	var logs bytes.Buffer
	clock := base
	r := NewReloading(load, slog.New(slog.NewTextHandler(&logs, nil)), time.Second)
	r.now = func() time.Time { return clock }
	if got := r.Current().APIURL; got != "http://127.0.0.1:4200/api" {
		t.Fatalf("first target %s", got)
	}

	write("http://127.0.0.1:4300/api", base.Add(time.Minute))
	if got := r.Current().APIURL; got != "http://127.0.0.1:4200/api" {
		t.Fatalf("reloaded within the check interval: %s", got)
	}
	clock = clock.Add(2 * time.Second)
	if got := r.Current().APIURL; got != "http://127.0.0.1:4300/api" {
		t.Fatalf("after a change: %s, want the new URL", got)
	}

	write("broken", base.Add(2*time.Minute))
	clock = clock.Add(2 * time.Second)
	if got := r.Current().APIURL; got != "http://127.0.0.1:4300/api" {
		t.Fatalf("a broken edit replaced the target: %s", got)
	}
	if !strings.Contains(logs.String(), "reload failed") {
		t.Errorf("the failed reload was not logged: %s", logs.String())
	}
	before := loads
	clock = clock.Add(2 * time.Second)
	r.Current()
	if loads != before {
		t.Errorf("a broken file is re-read every check (%d loads)", loads-before)
	}

	write("http://127.0.0.1:4400/api", base.Add(3*time.Minute))
	r.Reload()
	if got := r.Current().APIURL; got != "http://127.0.0.1:4400/api" {
		t.Fatalf("explicit reload: %s", got)
	}
}

// TestReloadingBrokenFromTheStart: settings broken at start do not stop the
// server; every call reports the problem until the file is fixed.
func TestReloadingBrokenFromTheStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profiles.toml")
	base := time.Now().Add(-time.Hour)
	write := func(s string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("broken", base)
	load := func() (*Target, []string, error) {
		raw, _ := os.ReadFile(path)
		if url := strings.TrimSpace(string(raw)); url != "broken" {
			tg, err := Builder{}.Build(Credentials{APIURL: url}, "")
			return tg, []string{path}, err
		}
		return nil, []string{path}, errors.New("profile \"x\" not found. Fix: run `prefect profile use local`")
	}
	var logs bytes.Buffer
	clock := base
	r := NewReloading(load, slog.New(slog.NewTextHandler(&logs, nil)), time.Second)
	r.now = func() time.Time { return clock }
	_, err := r.Resolve(t.Context(), Request{})
	var terr *Error
	if !errors.As(err, &terr) || !strings.Contains(err.Error(), "prefect profile use local") || errors.Is(err, ErrNotConfigured) {
		t.Fatalf("a call while broken: %v", err)
	}
	if r.Err() == nil {
		t.Fatal("Err() = nil while broken")
	}
	write("http://127.0.0.1:4200/api", base.Add(time.Minute))
	clock = clock.Add(2 * time.Second)
	tg, err := r.Resolve(t.Context(), Request{})
	if err != nil || tg.APIURL != "http://127.0.0.1:4200/api" || r.Err() != nil {
		t.Fatalf("after the fix: %v, %v, Err %v", tg, err, r.Err())
	}
}
