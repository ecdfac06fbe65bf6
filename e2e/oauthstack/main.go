// Command oauthstack serves a test Prefect Cloud for the Cloud OAuth
// end-to-end check in e2e/run.sh: the test authorization server of
// internal/auth/authtest (RFC 8414 metadata, JWKS, client-credentials token
// endpoint, grant workspaces) and a fake Prefect Cloud API holding two
// workspaces behind authtest's CloudGate, which admits the issuer's tokens
// on consented workspaces only, as Prefect Cloud does.
//
// One service-account client is registered for a grant of the "acme/demo"
// workspace (prefecttest's demo data); "globex/other" belongs to another
// grant. Once listening, it prints one JSON line with the auth base, the API
// base, the client id and secret (random, test-only), the workspace ids and
// a stats URL (GET: token, metadata and per-workspace request counts, the
// latter counted before the gate). It exits on SIGINT or SIGTERM. It is a
// test helper, not part of the shipped binary.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// Fixed test identities; the client secret is random per run.
const (
	clientID     = "e2e-service-account"
	grantID      = "grant-e2e"
	foreignGrant = "grant-foreign"
)

var (
	demoWorkspace = authtest.Workspace{
		AccountID: "a1000000-0000-4000-8000-0000000000e2", AccountHandle: "acme", AccountName: "Acme",
		WorkspaceID: "b1000000-0000-4000-8000-0000000000e2", WorkspaceHandle: "demo", WorkspaceName: "Demo",
	}
	foreignWorkspace = authtest.Workspace{
		AccountID: "a2000000-0000-4000-8000-0000000000e2", AccountHandle: "globex", AccountName: "Globex",
		WorkspaceID: "b2000000-0000-4000-8000-0000000000e2", WorkspaceHandle: "other", WorkspaceName: "Other",
	}
)

// Stack is what oauthstack prints.
type Stack struct {
	AuthBase           string `json:"auth_base"`
	APIBase            string `json:"api_base"`
	ClientID           string `json:"client_id"`
	ClientSecret       string `json:"client_secret"`
	GrantID            string `json:"grant_id"`
	AccountID          string `json:"account_id"`
	WorkspaceID        string `json:"workspace_id"`
	ForeignWorkspaceID string `json:"foreign_workspace_id"`
	StatsURL           string `json:"stats_url"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "oauthstack:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("oauthstack", flag.ContinueOnError)
	audience := fs.String("audience", "", "the MCP resource URL tokens are minted for (PREFECT_MCP_CLOUD_PUBLIC_BASE_URL + /mcp)")
	addr := fs.String("addr", "127.0.0.1:0", "address of the fake Cloud API (port 0 picks a free port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*audience, "http://") && !strings.HasPrefix(*audience, "https://") {
		return errors.New("--audience URL is required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	issuer := authtest.New(*audience, time.Now)
	defer issuer.Close()
	secret := rand.Text()
	issuer.RegisterClient(clientID, secret, grantID)
	issuer.SetGrant(grantID, demoWorkspace)
	issuer.SetGrant(foreignGrant, foreignWorkspace)

	demo := prefecttest.NewHandler(
		prefecttest.WithCloud(demoWorkspace.AccountID, demoWorkspace.WorkspaceID),
		prefecttest.WithData(prefecttest.Demo(time.Now())),
		prefecttest.WithClock(time.Now),
	)
	defer demo.Close()
	foreignData := prefecttest.NewData()
	foreignData.Add("flows", map[string]any{"id": "c2000000-0000-4000-8000-0000000000e2", "created": "2026-01-01T00:00:00Z",
		"updated": "2026-01-01T00:00:00Z", "name": "globex-secret-flow", "tags": []any{}, "labels": map[string]any{}})
	foreign := prefecttest.NewHandler(
		prefecttest.WithCloud(foreignWorkspace.AccountID, foreignWorkspace.WorkspaceID),
		prefecttest.WithData(foreignData),
		prefecttest.WithClock(time.Now),
	)
	defer foreign.Close()

	workspaces := http.NewServeMux()
	counts := &counter{n: map[string]int{}}
	for _, ws := range []struct {
		w    authtest.Workspace
		fake *prefecttest.Server
	}{{demoWorkspace, demo}, {foreignWorkspace, foreign}} {
		prefix := "/api/accounts/" + ws.w.AccountID + "/workspaces/" + ws.w.WorkspaceID
		workspaces.Handle(prefix+"/", ws.fake.Handler())
		workspaces.Handle(prefix, ws.fake.Handler())
	}
	gated := issuer.CloudGate(workspaces)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /e2e/stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token_requests":     issuer.TokenRequests(),
			"metadata_requests":  issuer.MetadataRequests(),
			"grant_requests":     issuer.GrantRequests(),
			"workspace_requests": counts.snapshot(),
			"writes":             len(demo.Writes()) + len(foreign.Writes()),
		})
	})
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, ws := range []authtest.Workspace{demoWorkspace, foreignWorkspace} {
			if strings.Contains(r.URL.EscapedPath(), ws.WorkspaceID) {
				counts.add(ws.WorkspaceID)
			}
		}
		gated.ServeHTTP(w, r)
	}))

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	line, err := json.Marshal(Stack{
		AuthBase: issuer.URL, APIBase: base, ClientID: clientID, ClientSecret: secret, GrantID: grantID,
		AccountID: demoWorkspace.AccountID, WorkspaceID: demoWorkspace.WorkspaceID,
		ForeignWorkspaceID: foreignWorkspace.WorkspaceID, StatsURL: base + "/e2e/stats",
	})
	if err != nil {
		return err
	}
	fmt.Println(string(line))

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	demo.Close()
	foreign.Close()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return srv.Close()
	}
	return nil
}

// counter counts requests per workspace id.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[id]++
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}
