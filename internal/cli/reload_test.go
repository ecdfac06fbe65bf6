//go:build unix

package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/httpserver"
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

// TestSIGHUPReloadsStaticTokens: SIGHUP re-reads the static token file, so
// a revoked token stops working at once. The rewrite keeps the file's size
// and mtime (cp -p, rsync -t); the log line tells the signal's reload from
// the periodic content check.
func TestSIGHUPReloadsStaticTokens(t *testing.T) {
	const tokenA, tokenB = "gateway-token-aaaaaaaa", "gateway-token-bbbbbbbb"
	sys, _, _ := testSystem(t, map[string]string{"PREFECT_API_URL": "http://127.0.0.1:4200/api"})
	path := filepath.Join(t.TempDir(), "tokens")
	write := func(token string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		stamp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(path, stamp, stamp); err != nil {
			t.Fatal(err)
		}
	}
	write(tokenA)
	var logs safeBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	o := Options{NoDocs: true, MaxResponseMB: 1, AuthTokensFile: path}
	a, err := build(o, sys, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var hopts httpserver.Options
	if _, err := inboundAuth(ctx, o, sys, a, &hopts, logger); err != nil {
		t.Fatal(err)
	}
	a.watchReload(ctx)
	h := hopts.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	status := func(token string) int {
		req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if status(tokenA) != http.StatusOK {
		t.Fatal("token A refused before the rewrite")
	}
	write(tokenB)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for i := 0; !strings.Contains(logs.String(), "static bearer tokens reloaded"); i++ {
		if i == 500 {
			t.Fatalf("SIGHUP did not reload the token file:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status(tokenA) != http.StatusUnauthorized || status(tokenB) != http.StatusOK {
		t.Fatalf("after SIGHUP: A %d, B %d; want A revoked and B accepted", status(tokenA), status(tokenB))
	}
}
