package httpserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/prefect-mcp/prefect-mcp/internal/tenant"
)

// limitConnections caps the connections open at once at MaxConnections.
//
// At the cap, Accept waits: further connections queue in the kernel's accept
// backlog (bounded by net.core.somaxconn; beyond it the kernel drops SYNs and
// the client's TCP retries) and each is served as soon as a connection
// closes. That is HAProxy's maxconn and netutil.LimitListener, and it is the
// right answer behind a load balancer: a burst costs latency, not errors. The
// alternative, accept and close, turns every burst into connection resets,
// which MCP clients report as a failed call (a tools/call POST is not retried),
// and costs an accept, a descriptor and a goroutine per refused attempt at the
// moment the process is saturated. Probes on new connections queue too: at the
// cap /readyz and /healthz time out, taking the replica out of rotation (the
// Kubernetes manifest's liveness probe is a TCP connect, which the kernel
// completes at the cap); requests on connections already open are served.
//
// It is golang.org/x/net/netutil.LimitListener's semaphore, written out for
// two reasons: netutil's connection hides *net.TCPConn's CloseWrite, through
// which net/http sends its FIN before closing a connection whose request it
// refused unread (431, a body over the limit) so that the client reads the
// answer rather than a reset; and the count is needed for /metrics and the
// warning at the cap, which netutil does not expose.
func (s *Server) limitConnections(ln net.Listener) net.Listener {
	n := s.opts.MaxConnections
	s.metrics.connectionsMax.Set(float64(n))
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{}), server: s}
}

type limitListener struct {
	net.Listener
	sem       chan struct{} // one token per open connection
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	server    *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	s := l.server
	s.metrics.connectionsOpen.Inc()
	if open := len(l.sem); open == cap(l.sem) && s.limitWarn.allow(s.now()) {
		s.logger.Warn("connection limit reached: new connections wait until one closes", "max_connections", open)
	}
	lc := &limitedConn{Conn: c}
	lc.release = func() {
		s.metrics.connectionsOpen.Dec()
		<-l.sem
	}
	return lc, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitedConn struct {
	net.Conn
	releaseOnce sync.Once
	release     func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.releaseOnce.Do(c.release)
	return err
}

// CloseWrite keeps net/http's half-close (see limitConnections).
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// rateLimited lets an event through at most once a minute.
type rateLimited struct {
	mu   sync.Mutex
	last time.Time
}

const warnInterval = time.Minute

func (r *rateLimited) allow(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.IsZero() && now.Sub(r.last) < warnInterval {
		return false
	}
	r.last = now
	return true
}

// streamRetryAfter is the Retry-After of a refused event stream. A stream
// ends only when its client closes it, so this is a polite pause, not a promise.
const streamRetryAfter = 30 * time.Second

// limitStreams answers 429 to an event stream beyond MaxStreamsPerClient for
// its client, so that one client cannot hold every connection with streams
// the protocol keeps open on purpose.
func (s *Server) limitStreams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A stateless server answers GET 405: no stream.
		if !isEventStream(r) || (s.opts.Stateless && r.Method == http.MethodGet) {
			next.ServeHTTP(w, r)
			return
		}
		client := streamClient(r)
		if !s.streams.acquire(client) {
			w.Header().Set("Retry-After", strconv.Itoa(int(streamRetryAfter.Seconds())))
			http.Error(w, fmt.Sprintf("Too Many Requests: this client already holds %d open event streams, the most this server allows; close one and retry", s.streams.perClient), http.StatusTooManyRequests)
			return
		}
		s.metrics.streamsOpen.Inc()
		defer func() {
			s.metrics.streamsOpen.Dec()
			s.streams.release(client)
		}()
		next.ServeHTTP(w, r)
	})
}

// streamClient names who holds a stream (tenant.Key): the authenticated
// principal when inbound authentication is on; else a digest of the
// credential headers, which the client chooses, so without inbound
// authentication only the connection cap binds a hostile one.
func streamClient(r *http.Request) string {
	var principal string
	if ti := sdkauth.TokenInfoFromContext(r.Context()); ti != nil {
		principal = ti.UserID
	}
	return tenant.Key(principal, r.Header)
}

// streamCounter counts open event streams per client.
type streamCounter struct {
	mu        sync.Mutex
	perClient int
	open      map[string]int // absent when none
}

func newStreamCounter(perClient int) *streamCounter {
	return &streamCounter{perClient: perClient, open: map[string]int{}}
}

func (c *streamCounter) acquire(client string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[client] >= c.perClient {
		return false
	}
	c.open[client]++
	return true
}

func (c *streamCounter) release(client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[client]--; c.open[client] <= 0 {
		delete(c.open, client)
	}
}
