package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
)

func FuzzBearerFromRequest(f *testing.F) {
	seeds := [][2]string{
		{"Bearer abc.def.ghi", ""},
		{"bearer   abc", ""},
		{"Bearer", ""},
		{"Bearer ", ""},
		{"Basic dXNlcjpwYXNz", ""},
		{"Bearer a b", ""},
		{"Bearer abc==", "x=1"},
		{"Bearer ==", ""},
		{"Bearer\tabc", ""},
		{"", "access_token=abc"},
		{"Bearer abc", "ACCESS_TOKEN=1&y"},
		{"Bearer abc", "%zz&access_token"},
		{"Bearer abc", "%61ccess%5Ftoken=x"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, header, rawQuery string) {
		r := httptest.NewRequest("POST", "/mcp", nil)
		r.Header["Authorization"] = []string{header}
		r.URL.RawQuery = rawQuery
		token, problem := bearerFromRequest(r)

		queryHasToken := false
		q, _ := url.ParseQuery(rawQuery)
		for k := range q {
			queryHasToken = queryHasToken || strings.EqualFold(k, "access_token")
		}
		if queryHasToken != (problem == bearerInQuery) {
			t.Fatalf("query %q: problem %v, query has access_token %v", rawQuery, problem, queryHasToken)
		}
		if problem != bearerOK {
			if token != "" {
				t.Fatalf("problem %v but token %q returned", problem, token)
			}
			return
		}
		if token == "" || len(token) > MaxTokenBytes || !isToken68(token) {
			t.Fatalf("accepted bad token %q", token)
		}
		// The go-sdk middleware re-parses the header with strings.Fields; it
		// must see the same token or the TokenInfo hand-off breaks.
		fields := strings.Fields(header)
		if len(fields) != 2 || !strings.EqualFold(fields[0], "bearer") || fields[1] != token {
			t.Fatalf("header %q: go-sdk would parse %q, we parsed %q", header, fields, token)
		}
	})
}

func FuzzVerify(f *testing.F) {
	fx := newCloudFixture(f, VerifierOptions{})
	iss := fx.issuer
	valid := iss.Mint(iss.Claims("grant-1"))
	noScope := iss.Claims("grant-1")
	delete(noScope, "scope")
	seeds := []string{
		valid,
		iss.Mint(noScope),
		tamperSignature(valid),
		tamperPayload(f, valid, func(c jwt.MapClaims) { c["sub"] = "admin" }),
		sign(f, iss, authtest.SignOptions{Alg: "none", Claims: iss.Claims("g")}),
		sign(f, iss, authtest.SignOptions{Alg: "HS256", HMACKey: iss.PublicKeyPEM(iss.SigningKID()), Claims: iss.Claims("g")}),
		sign(f, iss, authtest.SignOptions{KID: "other", Claims: iss.Claims("g")}),
		"", "garbage", "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		ti, err := fx.verifier.Verify(context.Background(), token)
		if err == nil {
			// Nothing but the issuer's own valid token can verify.
			if token != valid {
				t.Fatalf("accepted a token the issuer never minted: %q", token)
			}
			if ti == nil || GrantID(ti) != "grant-1" {
				t.Fatalf("TokenInfo = %+v", ti)
			}
			return
		}
		var tokenErr *TokenError
		if !errors.As(err, &tokenErr) {
			t.Fatalf("error %T %v is not a *TokenError", err, err)
		}
		if !errors.Is(err, sdkauth.ErrInvalidToken) && !errors.Is(err, ErrInsufficientScope) {
			t.Fatalf("error %v matches neither ErrInvalidToken nor ErrInsufficientScope", err)
		}
		if len(token) >= 8 && strings.Contains(err.Error(), token) {
			t.Fatalf("error %q contains the token", err)
		}
	})
}

func FuzzParseTokenLines(f *testing.F) {
	for _, s := range []string{"", "a\n", "# c\n\n tok \r\n", "a b\n", "tok\x00\n", "a\nb\na\n", "=\n", "abc=="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		digests, err := parseTokenLines(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error %q does not name a line", err)
			}
			return
		}
		for line := range strings.Lines(string(data)) {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if !isToken68(line) {
				t.Fatalf("accepted a file with the invalid token line %q", line)
			}
			if !slices.Contains(digests, sha256.Sum256([]byte(line))) {
				t.Fatalf("token line %q is missing from the digests", line)
			}
		}
	})
}
