package auth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

var errBodyTooLarge = errors.New("response body is too large")

// cappedTransport cuts off response bodies beyond maxBytes, for clients whose
// body reading we do not control (the JWKS fetcher decodes without a limit).
type cappedTransport struct {
	base     http.RoundTripper
	maxBytes int64
}

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{body: resp.Body, remaining: t.maxBytes}
	return resp, nil
}

type cappedBody struct {
	body      io.ReadCloser
	remaining int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.remaining < 0 {
		return 0, errBodyTooLarge
	}
	// Read one byte past the cap so an exactly-full body still reaches EOF.
	if int64(len(p)) > b.remaining+1 {
		p = p[:b.remaining+1]
	}
	n, err := b.body.Read(p)
	b.remaining -= int64(n)
	if b.remaining < 0 {
		return 0, errBodyTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.body.Close() }

// readBody reads at most maxBytes of resp.Body and fails if there is more.
func readBody(resp *http.Response, maxBytes int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%w (over %d bytes)", errBodyTooLarge, maxBytes)
	}
	return data, nil
}
