// Command prefect-mcp is a read-only MCP server for Prefect.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/prefect-mcp/prefect-mcp/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.OSSystem())
	stop()
	os.Exit(code)
}
