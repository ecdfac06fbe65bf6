package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/httpserver"
)

type echoInput struct {
	Text string `json:"text,omitempty"`
}

// serveBare is the P4 reference: a bare go-sdk server with one trivial tool,
// served with the same SDK handler options and net/http limits that
// internal/httpserver uses (stateless, body cap, timeouts), but none of
// prefect-mcp's middleware, hardening, metrics or Prefect calls.
func serveBare(addr string) error {
	s := bareServer()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{
		Stateless:                    true,
		MaxRequestBodyBytes:          httpserver.DefaultMaxBodyBytes,
		PropagateRequestCancellation: true,
	})
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: httpserver.DefaultReadHeaderTimeout,
		IdleTimeout:       httpserver.DefaultIdleTimeout,
		MaxHeaderBytes:    httpserver.DefaultMaxHeaderBytes,
	}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func bareServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "bare", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "echo text"},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoInput) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
	return s
}

// serveBareStdio is the P1 baseline: the bare server over stdio.
func serveBareStdio() error {
	return bareServer().Run(context.Background(), &mcp.StdioTransport{})
}
