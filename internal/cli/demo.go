package cli

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/fakeprefect"
	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// startDemo serves the seeded demo workspace from the in-process fake
// Prefect on a loopback port, so demo calls take the same path as real
// ones: HTTP client, read-only transport, retries, decoding. The workspace
// is built on the first request (initialize and tools/list never need it),
// so start-up does not pay for it. Stopping it logs an error if any
// write ever reached the fake: that would be a bug in the read-only
// guarantee, and the demo is where users try it first. now is the demo's
// clock (the wall clock in production).
func startDemo(b target.Builder, spec *openapi.Spec, now func() time.Time, logger *slog.Logger) (*target.Target, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	t, err := b.Build(target.Credentials{APIURL: "http://" + ln.Addr().String() + "/api"}, "")
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	t.Kind, t.UIURL = target.Demo, ""

	var (
		once sync.Once
		fake *fakeprefect.Server
	)
	build := func() *fakeprefect.Server {
		once.Do(func() {
			fake = fakeprefect.NewHandler(fakeprefect.WithData(fakeprefect.Demo(now())), fakeprefect.WithClock(now), fakeprefect.WithSpec(spec))
		})
		return fake
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			build().ServeHTTP(w, r)
		}),
	}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		_ = srv.Close()
		fake := build()
		fake.Close()
		reportDemoWrites(fake, logger)
	}
	return t, stop, nil
}

func reportDemoWrites(fake *fakeprefect.Server, logger *slog.Logger) {
	if n, first := fake.WriteAttempts(); n > 0 {
		logger.Error("the demo workspace received write requests: the read-only guarantee is broken, please report it",
			"writes", n, "first", first)
	}
}
