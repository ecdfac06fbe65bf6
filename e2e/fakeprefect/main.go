// Command fakeprefect serves the demo workspace of the in-memory fake Prefect
// API (internal/prefecttest) for the end-to-end checks in e2e/run.sh. It
// requires HTTP Basic credentials, prints its API URL on stdout once it is
// listening, and exits on SIGINT or SIGTERM. It is a test helper, not part of
// the shipped binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakeprefect:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakeprefect", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	authString := fs.String("auth-string", "", "required HTTP Basic credentials user:pass")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.Contains(*authString, ":") {
		return errors.New("--auth-string user:pass is required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fake := prefecttest.NewHandler(
		prefecttest.WithAuthString(*authString),
		prefecttest.WithData(prefecttest.Demo(time.Now())),
		prefecttest.WithClock(time.Now),
	)
	defer fake.Close()

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// The fake serves the self-hosted API under /api.
	fmt.Printf("http://%s/api\n", ln.Addr().String())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fake.Close() // releases stalled requests before the server waits for them
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return srv.Close()
	}
	return nil
}
