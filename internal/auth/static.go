package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// StaticTokensOptions tunes StaticTokens; zero values select the defaults.
type StaticTokensOptions struct {
	MaxFileBytes  int64            // default 1 MiB
	CheckInterval time.Duration    // minimum time between file checks on request; default 1s
	Now           func() time.Time // default time.Now
	Logger        *slog.Logger     // warnings (world-readable file, reload failures); default discard
}

// StaticTokens authenticates a gateway with bearer tokens listed in a file:
// one token per line, blank lines and lines starting with # ignored. Only
// SHA-256 digests are kept, compared in constant time. Safe for concurrent use.
//
// The file is re-read when its content changes — judged by a SHA-256 of the
// bytes, since a rewrite may keep size and mtime (cp -p, rsync -t, tar);
// checked on request at most once per CheckInterval — or on Reload (SIGHUP).
// A reload that fails leaves no token valid: a broken or deleted file fails
// closed.
type StaticTokens struct {
	path string
	opts StaticTokensOptions

	digests   atomic.Pointer[[][sha256.Size]byte]
	lastCheck atomic.Int64 // unix nanoseconds of the last check on the request path

	reloadMu sync.Mutex        // serialises reads of the file
	content  [sha256.Size]byte // digest of the file as last loaded
	loaded   bool              // the last read succeeded
}

// LoadStaticTokens reads path and fails if it cannot be used.
func LoadStaticTokens(path string, opts StaticTokensOptions) (*StaticTokens, error) {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = 1 << 20
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &StaticTokens{path: path, opts: opts}
	s.digests.Store(&[][sha256.Size]byte{})
	s.lastCheck.Store(opts.Now().UnixNano())
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the file now. On error every token is refused until a
// later reload succeeds.
func (s *StaticTokens) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.loadLocked(true)
}

// loadLocked reads the file and, when force is set or its content differs
// from the last load, installs its tokens.
func (s *StaticTokens) loadLocked(force bool) error {
	data, info, err := readTokenFile(s.path, s.opts.MaxFileBytes)
	var digests [][sha256.Size]byte
	if err == nil {
		content := sha256.Sum256(data)
		if !force && s.loaded && content == s.content {
			return nil
		}
		s.content = content
		digests, err = parseTokenLines(data)
		if err != nil {
			err = fmt.Errorf("static token file %s, %w", s.path, err)
		}
	}
	if err != nil {
		s.digests.Store(&[][sha256.Size]byte{})
		s.loaded = false
		return err
	}
	if info.Mode().Perm()&0o004 != 0 {
		s.opts.Logger.Warn("static token file is world-readable; restrict it with chmod o-r", "path", s.path)
	}
	if len(digests) == 0 {
		s.opts.Logger.Warn("static token file holds no tokens; every request is refused", "path", s.path)
	}
	s.digests.Store(&digests)
	s.loaded = true
	return nil
}

// Len reports how many distinct tokens are loaded.
func (s *StaticTokens) Len() int { return len(*s.digests.Load()) }

// Valid reports whether token is one of the loaded tokens. Every digest is
// compared, so timing reveals neither which token matched nor its length.
func (s *StaticTokens) Valid(token string) bool {
	s.reloadIfChanged()
	if token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	match := 0
	for _, d := range *s.digests.Load() {
		match |= subtle.ConstantTimeCompare(sum[:], d[:])
	}
	return match == 1
}

// reloadIfChanged reads the file at most once per CheckInterval and reloads
// it when its content changed; one caller does it while the others carry on
// with the current tokens.
func (s *StaticTokens) reloadIfChanged() {
	now := s.opts.Now().UnixNano()
	last := s.lastCheck.Load()
	if now-last < int64(s.opts.CheckInterval) || !s.lastCheck.CompareAndSwap(last, now) {
		return
	}
	if !s.reloadMu.TryLock() {
		return
	}
	defer s.reloadMu.Unlock()
	if err := s.loadLocked(false); err != nil {
		s.opts.Logger.Error("reloading the static token file failed; refusing every token", "path", s.path, "error", err)
	}
}

// Middleware requires "Authorization: Bearer <token>" with a listed token;
// anything else is answered 401 with a Bearer realm="prefect-mcp" challenge
// (400 for a token in the query string).
//
// An accepted request carries a TokenInfo whose UserID names the token (by
// digest) where sdkauth.TokenInfoFromContext looks: the go-sdk's
// StreamableHTTPHandler binds a stateful session to the UserID it was
// created with and answers 403 to a request of another (mcp/streamable.go,
// lookupSession), so one token cannot use or delete another's session.
func (s *StaticTokens) Middleware(next http.Handler) http.Handler {
	base := []string{authParam("realm", "prefect-mcp")}
	attach := sdkauth.RequireBearerToken(
		func(ctx context.Context, _ string, _ *http.Request) (*sdkauth.TokenInfo, error) {
			if ti, ok := ctx.Value(verifiedTokenKey{}).(*sdkauth.TokenInfo); ok {
				return ti, nil
			}
			return nil, sdkauth.ErrInvalidToken
		},
		&sdkauth.RequireBearerTokenOptions{AllowMissingExpiration: true}, // static tokens do not expire
	)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, problem := bearerFromRequest(r)
		switch problem {
		case bearerInQuery:
			writeAuthError(w, http.StatusBadRequest, base, "invalid_request", "send the token in the Authorization header, not the URL")
		case bearerMissing:
			writeAuthError(w, http.StatusUnauthorized, base, "", "")
		case bearerMalformed:
			writeAuthError(w, http.StatusUnauthorized, base, "invalid_token", "malformed bearer credentials")
		default:
			if !s.Valid(token) {
				writeAuthError(w, http.StatusUnauthorized, base, "invalid_token", "token is not accepted")
				return
			}
			sum := sha256.Sum256([]byte(token))
			ti := &sdkauth.TokenInfo{UserID: StaticTokenPrincipal + hex.EncodeToString(sum[:16])}
			attach.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), verifiedTokenKey{}, ti)))
		}
	})
}

// StaticTokenPrincipal prefixes the UserID of a request authenticated by a
// static token; a digest of the token follows, never the token.
const StaticTokenPrincipal = "static-token:"

var errNotRegular = errors.New("not a regular file")

// readTokenFile reads the token file, refusing anything but a regular file
// of at most maxBytes.
func readTokenFile(path string, maxBytes int64) ([]byte, os.FileInfo, error) {
	// Stat before opening: opening a FIFO would block.
	if info, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("static token file: %w", err)
	} else if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("static token file %s: %w", path, errNotRegular)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("static token file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("static token file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("static token file %s: %w", path, errNotRegular)
	}
	if info.Size() > maxBytes {
		return nil, nil, fmt.Errorf("static token file %s is larger than %d bytes", path, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("static token file: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, nil, fmt.Errorf("static token file %s is larger than %d bytes", path, maxBytes)
	}
	return data, info, nil
}

// parseTokenLines returns the digests of the distinct tokens in data.
// Errors name the line, never its content.
func parseTokenLines(data []byte) ([][sha256.Size]byte, error) {
	seen := make(map[[sha256.Size]byte]bool)
	var digests [][sha256.Size]byte
	n := 0
	for line := range strings.Lines(string(data)) {
		n++
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) > MaxTokenBytes || !isToken68(line) {
			return nil, fmt.Errorf("line %d: not a valid bearer token (allowed: letters, digits, - . _ ~ + / and trailing =; at most %d bytes)", n, MaxTokenBytes)
		}
		sum := sha256.Sum256([]byte(line))
		if !seen[sum] {
			seen[sum] = true
			digests = append(digests, sum)
		}
	}
	return digests, nil
}
