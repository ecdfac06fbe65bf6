// Package docsproxy is the client of the remote Prefect docs MCP server
// behind the docs tools. It connects on first use, never at start-up, keeps
// one session for all calls, reconnects once when that session broke, and
// bounds every call with a timeout so a slow or absent docs server costs a
// clear tool error and nothing else.
package docsproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultURL is Prefect's hosted docs MCP server.
const DefaultURL = "https://prefect-docs.fastmcp.app/mcp"

// DefaultTimeout bounds one docs call, connecting included.
const DefaultTimeout = 20 * time.Second

// maxResponseBytes caps one HTTP response from the docs server; docs
// answers are a few kilobytes, anything near this is not a docs answer.
const maxResponseBytes = 4 << 20

// protocolVersion is the MCP version offered. The hosted server is FastMCP,
// which speaks the session-based protocol: offering it directly saves the
// server/discover round trip newer versions would try first.
const protocolVersion = "2025-11-25"

// Client calls tools on one remote docs MCP server. Safe for concurrent use.
type Client struct {
	url     string
	display string // url without password or query, for messages
	timeout time.Duration
	hc      *http.Client
	mcp     *mcp.Client

	// lock guards session; a channel so a caller can stop waiting when its
	// context ends (a connect in progress holds it for at most timeout).
	lock    chan struct{}
	session *mcp.ClientSession
}

// New returns a client for the docs server at url. Nothing is sent until the
// first CallTool. hc may be nil; timeout <= 0 means DefaultTimeout.
func New(endpoint string, hc *http.Client, timeout time.Duration) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	limited := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	limited.Transport = limitTransport{base: base, max: maxResponseBytes}
	return &Client{
		url:     endpoint,
		display: redact(endpoint),
		timeout: timeout,
		hc:      &limited,
		mcp:     mcp.NewClient(&mcp.Implementation{Name: "prefect-mcp-docs-proxy", Version: "1"}, nil),
		lock:    make(chan struct{}, 1),
	}
}

// URL is the docs server's endpoint as shown in messages (no password or
// query).
func (c *Client) URL() string { return c.display }

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable docs URL)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.Redacted()
}

// Error is a docs call that did not get an answer from the docs server.
type Error struct {
	URL string
	// Timeout is set when the docs server did not answer in time.
	Timeout time.Duration
	// Refused is set when the server answered the call with a protocol
	// error (unknown tool, bad arguments): it is reachable.
	Refused bool
	Err     error
}

func (e *Error) Error() string {
	cause := e.Err
	// A *url.Error repeats the endpoint with its query; the URL is already
	// named (redacted), so keep only what went wrong.
	var ue *url.Error
	if errors.As(cause, &ue) {
		cause = ue.Err
	}
	switch {
	case e.Timeout > 0:
		return fmt.Sprintf("the Prefect docs server at %s did not answer within %s; retry later (docs tools can be turned off with --no-docs)", e.URL, e.Timeout)
	case e.Refused:
		return fmt.Sprintf("the Prefect docs server at %s refused the call: %v", e.URL, cause)
	}
	return fmt.Sprintf("the Prefect docs server at %s is unreachable: %v; docs tools can be turned off with --no-docs", e.URL, cause)
}

func (e *Error) Unwrap() error { return e.Err }

// CallTool calls a tool of the docs server. A result with IsError set is the
// remote tool's own failure and is returned as is; an *Error means the docs
// server gave no answer.
func (c *Client) CallTool(ctx context.Context, name string, args map[string]any) (*mcp.CallToolResult, error) {
	// Only the caller's cancellation is wanted, not its values: inside a
	// tool call they include the MCP server's per-request protocol version,
	// which the SDK's client would adopt for this outgoing session.
	callCtx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	for attempt := 0; ; attempt++ {
		s, fresh, err := c.sessionFor(callCtx)
		if err != nil {
			return nil, c.fail(ctx, callCtx, err)
		}
		res, err := s.CallTool(callCtx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err == nil {
			return res, nil
		}
		var rpcErr *jsonrpc.Error
		if errors.As(err, &rpcErr) {
			// The session works; the server said no.
			return nil, &Error{URL: c.display, Refused: true, Err: rpcErr}
		}
		if callCtx.Err() != nil || fresh || attempt > 0 {
			return nil, c.fail(ctx, callCtx, err)
		}
		// The kept session broke (server restarted, session expired,
		// connection lost): start a new one, once.
		c.drop(s)
	}
}

// fail classifies an error: the caller's own cancellation stays as is.
func (c *Client) fail(parent, callCtx context.Context, err error) error {
	if parent.Err() != nil {
		return parent.Err()
	}
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		return &Error{URL: c.display, Timeout: c.timeout, Err: err}
	}
	return &Error{URL: c.display, Err: err}
}

// sessionFor returns the kept session, connecting when there is none;
// fresh is true when this call created it.
func (c *Client) sessionFor(ctx context.Context) (s *mcp.ClientSession, fresh bool, err error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	defer func() { <-c.lock }()
	if c.session != nil {
		return c.session, false, nil
	}
	t := &mcp.StreamableClientTransport{
		Endpoint:   c.url,
		HTTPClient: c.hc,
		// Calls are request/response; no server-initiated messages are
		// needed, so no hanging GET stream is kept open.
		DisableStandaloneSSE: true,
		// A broken stream fails the call at once; CallTool reconnects.
		MaxRetries:   -1,
		MaxEventSize: maxResponseBytes,
	}
	s, err = c.mcp.Connect(ctx, t, &mcp.ClientSessionOptions{ProtocolVersion: protocolVersion})
	if err != nil {
		return nil, false, err
	}
	c.session = s
	return s, true, nil
}

// drop forgets a broken session and closes it in the background (closing
// sends a DELETE that a dead server may leave unanswered for seconds).
func (c *Client) drop(s *mcp.ClientSession) {
	c.lock <- struct{}{}
	if c.session == s {
		c.session = nil
	}
	<-c.lock
	go func() { _ = s.Close() }()
}

// Close ends the kept session, if any.
func (c *Client) Close() error {
	c.lock <- struct{}{}
	s := c.session
	c.session = nil
	<-c.lock
	if s == nil {
		return nil
	}
	return s.Close()
}

// limitTransport caps response bodies so a misbehaving docs server cannot
// make us buffer without bound.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

var errTooLarge = errors.New("docs server response larger than 4 MiB")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Distinguish "exactly at the cap and done" from "more follows".
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
