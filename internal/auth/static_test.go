package auth

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/testclock"
)

const (
	tokenA = "gateway-token-aaaaaaaaaaaaaaaa"
	tokenB = "gateway-token-bbbbbbbbbbbbbbbb"
)

func writeTokenFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestStaticTokensValid(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	writeTokenFile(t, path, "# gateway tokens\n\n  "+tokenA+"  \r\n"+tokenB+"\n"+tokenA+"\n#"+"commented-out-token-xxxxxxx\n", 0o600)
	s, err := LoadStaticTokens(path, StaticTokensOptions{})
	if err != nil {
		t.Fatalf("LoadStaticTokens: %v", err)
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d, want 2 (duplicates and comments dropped)", s.Len())
	}
	tests := []struct {
		token string
		want  bool
	}{
		{tokenA, true},
		{tokenB, true},
		{"commented-out-token-xxxxxxx", false},
		{"#commented-out-token-xxxxxxx", false},
		{tokenA[:len(tokenA)-1], false},
		{tokenA + "a", false},
		{" " + tokenA, false},
		{strings.ToUpper(tokenA), false},
		{"", false},
		{"# gateway tokens", false},
	}
	for _, tt := range tests {
		if got := s.Valid(tt.token); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.token, got, tt.want)
		}
	}
}

func TestStaticTokensMiddleware(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	writeTokenFile(t, path, tokenA+"\n", 0o600)
	s, err := LoadStaticTokens(path, StaticTokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptestServer(t, s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	tests := []struct {
		name          string
		query         string
		authorization []string
		wantStatus    int
		wantError     string
	}{
		{"valid", "", []string{"Bearer " + tokenA}, 204, ""},
		{"valid, lower-case scheme", "", []string{"bearer " + tokenA}, 204, ""},
		{"missing", "", nil, 401, ""},
		{"basic scheme", "", []string{"Basic " + tokenA}, 401, ""},
		{"wrong token", "", []string{"Bearer " + tokenB}, 401, "invalid_token"},
		{"empty bearer", "", []string{"Bearer "}, 401, "invalid_token"},
		{"two headers", "", []string{"Bearer " + tokenA, "Bearer " + tokenA}, 401, "invalid_token"},
		{"token in query", "?access_token=" + tokenA, nil, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/mcp"+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.authorization {
				req.Header.Add("Authorization", v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if tt.wantStatus == 204 {
				return
			}
			if !strings.HasPrefix(challenge, `Bearer realm="prefect-mcp"`) {
				t.Errorf("WWW-Authenticate = %q", challenge)
			}
			if (tt.wantError == "") == strings.Contains(challenge, "error=") || !strings.Contains(challenge, tt.wantError) {
				t.Errorf("WWW-Authenticate = %q, want error %q", challenge, tt.wantError)
			}
		})
	}
}

func TestStaticTokensReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	writeTokenFile(t, path, tokenA+"\n", 0o600)
	clock := testclock.NewManual(time.Unix(1_700_000_000, 0))
	s, err := LoadStaticTokens(path, StaticTokensOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	replace := func(content string, mtime time.Time) {
		t.Helper()
		writeTokenFile(t, path, content, 0o600)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	mtime := time.Unix(1_600_000_000, 0)

	replace(tokenB+"\n", mtime)
	if !s.Valid(tokenA) || s.Valid(tokenB) {
		t.Fatal("the file was re-read before the check interval passed")
	}
	clock.Advance(time.Second)
	if s.Valid(tokenA) || !s.Valid(tokenB) {
		t.Fatal("the changed file was not picked up after the check interval")
	}

	replace(tokenA+"\n", mtime.Add(time.Second))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if !s.Valid(tokenA) || s.Valid(tokenB) {
		t.Fatal("Reload did not pick up the change")
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if s.Valid(tokenA) {
		t.Fatal("a deleted file still authenticates")
	}
	replace(tokenB+"\n", mtime.Add(2*time.Second))
	clock.Advance(time.Second)
	if !s.Valid(tokenB) {
		t.Fatal("the restored file was not picked up")
	}

	replace("bad token with spaces\n", mtime.Add(3*time.Second))
	if err := s.Reload(); err == nil {
		t.Fatal("Reload accepted a bad file")
	}
	if s.Valid(tokenB) || s.Len() != 0 {
		t.Fatal("a failed reload left tokens valid")
	}
}

// TestStaticTokensRewriteKeepingSizeAndMtime: cp -p, rsync -t and tar
// restore the old mtime, and a token of the same length keeps the size; the
// revoked token must still stop working at the next check.
func TestStaticTokensRewriteKeepingSizeAndMtime(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	mtime := time.Unix(1_600_000_000, 0)
	write := func(content string) {
		t.Helper()
		writeTokenFile(t, path, content, 0o600)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(tokenA + "\n")
	clock := testclock.NewManual(time.Unix(1_700_000_000, 0))
	s, err := LoadStaticTokens(path, StaticTokensOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	write(tokenB + "\n") // revokes A
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if before.Size() != after.Size() || !before.ModTime().Equal(after.ModTime()) {
		t.Fatal("the rewrite changed size or mtime; the test needs both kept")
	}
	clock.Advance(time.Second)
	if s.Valid(tokenA) {
		t.Fatal("a revoked token still works after a rewrite keeping size and mtime")
	}
	if !s.Valid(tokenB) {
		t.Fatal("the new token is refused")
	}
	// Reload (SIGHUP) applies at once, without waiting for the interval.
	write(tokenA + "\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if !s.Valid(tokenA) || s.Valid(tokenB) {
		t.Fatal("Reload did not apply a rewrite keeping size and mtime")
	}
}

func TestStaticTokensEmptyFileRefusesAll(t *testing.T) {
	t.Parallel()
	for _, content := range []string{"", "\n\n", "# only comments\n  # indented\n"} {
		path := filepath.Join(t.TempDir(), "tokens")
		writeTokenFile(t, path, content, 0o600)
		var logs bytes.Buffer
		s, err := LoadStaticTokens(path, StaticTokensOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("LoadStaticTokens(%q): %v", content, err)
		}
		for _, token := range []string{"", "#", "anything", "# only comments"} {
			if s.Valid(token) {
				t.Errorf("content %q: Valid(%q) = true", content, token)
			}
		}
		if !strings.Contains(logs.String(), "no tokens") {
			t.Errorf("no warning for an empty token file: %q", logs.String())
		}
	}
}

func TestStaticTokensRefusesBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	fifoErr := mkfifo(fifo)
	if fifoErr != nil && !errors.Is(fifoErr, errors.ErrUnsupported) {
		t.Fatal(fifoErr)
	}
	tooBig := filepath.Join(dir, "big")
	writeTokenFile(t, tooBig, strings.Repeat(tokenA+"\n", 100), 0o600)
	badLine := filepath.Join(dir, "bad")
	writeTokenFile(t, badLine, tokenA+"\nsecret with spaces\n", 0o600)
	tests := []struct {
		name, path, wantText string
		opts                 StaticTokensOptions
	}{
		{"missing", filepath.Join(dir, "nope"), "no such file", StaticTokensOptions{}},
		{"directory", dir, "not a regular file", StaticTokensOptions{}},
		{"fifo", fifo, "not a regular file", StaticTokensOptions{}},
		{"too large", tooBig, "larger than 1000 bytes", StaticTokensOptions{MaxFileBytes: 1000}},
		{"line with spaces", badLine, "line 2", StaticTokensOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "fifo" && fifoErr != nil {
				t.Skip("no named pipes here")
			}
			_, err := LoadStaticTokens(tt.path, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), "secret with spaces") {
				t.Errorf("error %q contains the line's content", err)
			}
		})
	}
}

func TestStaticTokensWarnsWhenWorldReadable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode     os.FileMode
		wantWarn bool
	}{{0o644, true}, {0o600, false}, {0o640, false}} {
		path := filepath.Join(t.TempDir(), "tokens")
		writeTokenFile(t, path, tokenA+"\n", tt.mode)
		var logs bytes.Buffer
		if _, err := LoadStaticTokens(path, StaticTokensOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "world-readable"); got != tt.wantWarn {
			t.Errorf("mode %o: warned = %v, want %v (%q)", tt.mode, got, tt.wantWarn, logs.String())
		}
		if strings.Contains(logs.String(), tokenA) {
			t.Error("the log contains a token")
		}
	}
}

func TestStaticTokensConcurrentUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	writeTokenFile(t, path, tokenA+"\n", 0o600)
	// Operators replace the file atomically (rename), so every version a
	// reader can see holds tokenA.
	replaceAtomically := func(content string) error {
		tmp := filepath.Join(dir, "tokens.tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}
	clock := testclock.NewManual(time.Unix(1_700_000_000, 0))
	s, err := LoadStaticTokens(path, StaticTokensOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 300 {
				if !s.Valid(tokenA) {
					t.Errorf("goroutine %d: tokenA refused", i)
					return
				}
				if s.Valid(fmt.Sprintf("%s-%d", tokenB, j)) && j >= 50 {
					t.Errorf("goroutine %d: a token never written was accepted", i)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for j := range 50 {
			if err := replaceAtomically(fmt.Sprintf("%s\n%s-%d\n", tokenA, tokenB, j)); err != nil {
				t.Error(err)
				return
			}
			clock.Advance(time.Second)
			if j%2 == 0 {
				if err := s.Reload(); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	wg.Wait()
	if !s.Valid(tokenA) || s.Valid(tokenB+"-0") {
		t.Fatal("wrong tokens after concurrent use")
	}
}
