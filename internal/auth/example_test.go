package auth_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/prefect-mcp/prefect-mcp/internal/auth"
)

// Wiring of the hosted (Prefect Cloud OAuth) mode: metadata is public, /mcp
// requires a verified token whose TokenInfo reaches the tool handlers.
func ExampleVerifier_Middleware() {
	ctx := context.Background()
	cfg, err := auth.CloudConfigFromEnv(os.LookupEnv)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := auth.NewVerifier(ctx, http.DefaultClient, cfg, auth.VerifierOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer verifier.Close()

	var mcpHandler http.Handler = http.NotFoundHandler() // mcp.NewStreamableHTTPHandler(...)
	mux := http.NewServeMux()
	mux.Handle(auth.MetadataPath, auth.NewMetadataHandler(cfg))
	mux.Handle(auth.MetadataRootPath, auth.NewMetadataHandler(cfg))
	mux.Handle("/mcp", verifier.Middleware(mcpHandler))
	_ = http.ListenAndServe("127.0.0.1:8000", mux)
}
