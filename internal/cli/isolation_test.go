package cli

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// TestTenantIsolation drives thousands of concurrent tool calls from many
// tenants through one shared HTTP server. Each tenant has its own fake
// Prefect that accepts only its own credential and holds a flow named after
// the tenant: any credential, cached result or connection crossing tenants
// shows up as a 401, a foreign flow name, or a foreign Authorization tag.
func TestTenantIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const tenants, callsPerTenant = 50, 100
	type tenant struct {
		fake   *prefecttest.Server
		secret string
		flow   string
	}
	ts := make([]tenant, tenants)
	var allowed []string
	for i := range ts {
		data := prefecttest.NewData()
		data.AsOf = now
		flow := fmt.Sprintf("tenant-%02d-flow", i)
		data.Add("flows", map[string]any{
			"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "created": "2026-11-26T07:40:14.301918Z",
			"updated": "2026-11-26T07:40:14.301935Z", "name": flow, "tags": []any{}, "labels": map[string]any{},
		})
		secret := fmt.Sprintf("user%02d:secret-%02d-canary", i, i)
		if i%2 == 1 {
			secret = fmt.Sprintf("pnu_tenant%02dcanarykey", i)
		}
		opts := []prefecttest.Option{prefecttest.WithData(data)}
		if strings.HasPrefix(secret, "pnu_") {
			opts = append(opts, prefecttest.WithAPIKey(secret))
		} else {
			opts = append(opts, prefecttest.WithAuthString(secret))
		}
		ts[i] = tenant{fake: prefecttest.New(opts...), secret: secret, flow: flow}
		defer ts[i].fake.Close()
		allowed = append(allowed, ts[i].fake.URL)
	}

	port := freePort(t)
	sys, _, errOut := testSystem(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	args := []string{"--transport", "http", "--port", strconv.Itoa(port), "--no-docs", "--log-level", "error"}
	for _, u := range allowed {
		args = append(args, "--allowed-api-url", u)
	}
	go func() { done <- Run(ctx, args, sys) }()
	defer func() {
		cancel()
		<-done
		for _, tn := range ts {
			if strings.Contains(errOut.String(), tn.secret) {
				t.Errorf("a tenant credential reached the server log")
			}
		}
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, base+"/healthz")

	transport := &http.Transport{MaxConnsPerHost: 128, MaxIdleConnsPerHost: 128}
	defer transport.CloseIdleConnections()
	var failures, crossed atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ts {
		tn := ts[i]
		headers := map[string]string{"X-Prefect-Api-Url": tn.fake.URL}
		if strings.HasPrefix(tn.secret, "pnu_") {
			headers["X-Prefect-Api-Key"] = tn.secret
		} else {
			headers["X-Prefect-Api-Auth-String"] = tn.secret
		}
		hc := &http.Client{Transport: headerTransportOn{transport, headers}}
		c := mcp.NewClient(&mcp.Implementation{Name: "tenant", Version: "1"}, nil)
		cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: hc}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		for range callsPerTenant {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_flows"})
				switch {
				case err != nil:
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("call failed: %v", err) })
				case res.IsError:
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("tool error: %v", res.Content[0].(*mcp.TextContent).Text) })
				default:
					text := res.Content[0].(*mcp.TextContent).Text
					if !strings.Contains(text, tn.flow) || strings.Count(text, "tenant-") != 1 {
						crossed.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	var upstream int
	for _, tn := range ts {
		want := prefecttest.BasicTag(tn.secret)
		if strings.HasPrefix(tn.secret, "pnu_") {
			want = prefecttest.BearerTag(tn.secret)
		}
		for _, r := range tn.fake.Requests() {
			upstream++
			if r.Authorization != want {
				crossed.Add(1)
			}
		}
		noWritesTo(t, tn.fake)
	}
	t.Logf("%d tenants × %d calls = %d concurrent tool calls in %v; %d upstream requests; %d failures; %d cross-tenant",
		tenants, callsPerTenant, tenants*callsPerTenant, elapsed.Round(time.Millisecond), upstream, failures.Load(), crossed.Load())
	if failures.Load() != 0 || crossed.Load() != 0 {
		t.Fatalf("failures=%d cross-tenant=%d, want 0 and 0", failures.Load(), crossed.Load())
	}
	if upstream < tenants*callsPerTenant {
		t.Fatalf("only %d upstream requests for %d calls: results were shared, not fetched per call", upstream, tenants*callsPerTenant)
	}
}

func noWritesTo(t *testing.T, fake *prefecttest.Server) {
	t.Helper()
	if w := fake.Writes(); len(w) > 0 {
		t.Fatalf("writes reached Prefect: %v", w)
	}
}

type headerTransportOn struct {
	next http.RoundTripper
	h    map[string]string
}

func (t headerTransportOn) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.h {
		r.Header.Set(k, v)
	}
	return t.next.RoundTrip(r)
}
