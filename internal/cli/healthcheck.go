package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// runHealthcheck probes the local HTTP server's /healthz: the container
// HEALTHCHECK, since the image has no shell or curl.
func runHealthcheck(ctx context.Context, sys System) int {
	port := "8080"
	if v, ok := sys.Lookup("PREFECT_MCP_PORT"); ok && v != "" {
		if _, err := strconv.Atoi(v); err == nil {
			port = v
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort("127.0.0.1", port)+"/healthz", nil)
	if err != nil {
		fmt.Fprintln(sys.Stderr, err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(sys.Stderr, "healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(sys.Stderr, "healthcheck: /healthz answered %d\n", resp.StatusCode)
		return 1
	}
	return 0
}
