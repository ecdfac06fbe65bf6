//go:build unix

package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPReloadsSettings: a rotated profile applies on SIGHUP. The edit
// keeps the file's size and mtime, so only the signal can reveal it.
func TestSIGHUPReloadsSettings(t *testing.T) {
	sys, _, _ := testSystem(t, nil)
	dir := filepath.Join(sys.HomeDir, ".prefect")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "profiles.toml")
	write := func(port string) {
		t.Helper()
		body := "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"http://127.0.0.1:" + port + "/api\"\n"
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		stamp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(path, stamp, stamp); err != nil {
			t.Fatal(err)
		}
	}
	write("4200")
	a, err := build(Options{NoDocs: true, MaxResponseMB: 1}, sys, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a.watchReload(ctx)

	write("4300")
	if got := a.own().APIURL; got != "http://127.0.0.1:4200/api" {
		t.Fatalf("before SIGHUP: %s", got)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if a.own().APIURL == "http://127.0.0.1:4300/api" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after SIGHUP: %s, want the rotated URL", a.own().APIURL)
}
