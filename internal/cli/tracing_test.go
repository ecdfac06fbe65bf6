package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
)

// receiver collects the spans an OTLP exporter sends.
type receiver struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans map[string][]string // span name -> its attribute keys and values, "k=v"
}

func (r *receiver) add(req *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				attrs := []string{"service.name=" + service}
				for _, a := range s.GetAttributes() {
					v := a.GetValue()
					text := v.GetStringValue()
					if _, ok := v.GetValue().(*commonpb.AnyValue_IntValue); ok {
						text = strconv.FormatInt(v.GetIntValue(), 10)
					}
					attrs = append(attrs, a.GetKey()+"="+text)
				}
				r.spans[s.GetName()] = append(r.spans[s.GetName()], attrs...)
			}
		}
	}
}

func (r *receiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.add(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var msg coltracepb.ExportTraceServiceRequest
	if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &msg) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	r.add(&msg)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

func (r *receiver) snapshot() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]string{}
	for k, v := range r.spans {
		out[k] = slices.Clone(v)
	}
	return out
}

// TestStdioSessionExportsTraces: a short stdio session against the demo
// exports its spans over OTLP (HTTP/protobuf and gRPC) before the process
// exits: the tool span, the upstream request spans with route templates,
// and nothing else (no ids, no credentials).
func TestStdioSessionExportsTraces(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			rec := &receiver{spans: map[string][]string{}}
			var endpoint string
			switch protocol {
			case "grpc":
				lis, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				gs := grpc.NewServer()
				coltracepb.RegisterTraceServiceServer(gs, rec)
				go func() { _ = gs.Serve(lis) }()
				t.Cleanup(gs.Stop)
				endpoint = "http://" + lis.Addr().String()
			default:
				srv := httptest.NewServer(rec)
				t.Cleanup(srv.Close)
				endpoint = srv.URL
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--demo", "--no-docs", "--log-level", "error")
			cmd.Env = []string{"HOME=" + t.TempDir(), "OTEL_EXPORTER_OTLP_ENDPOINT=" + endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL=" + protocol}
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "trace-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "diagnose_flow_run", Arguments: map[string]any{"flow_run_id": "crimson-falcon"}})
			if err != nil || res.IsError {
				t.Fatalf("diagnose_flow_run: %v %v", err, res)
			}
			// The batcher holds the spans (5 s delay); only the flush at
			// exit can deliver them this soon.
			if err := cs.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			spans := rec.snapshot()
			tool := spans["tools/call diagnose_flow_run"]
			for _, want := range []string{"service.name=prefect-mcp", "gen_ai.tool.name=diagnose_flow_run", "prefect.tenant.kind=demo", "mcp.result.status=ok"} {
				if !slices.Contains(tool, want) {
					t.Errorf("tool span attributes %v lack %s", tool, want)
				}
			}
			get := spans["GET /flow_runs/{id}"]
			for _, want := range []string{"url.template=/flow_runs/{id}", "http.request.method=GET", "http.response.status_code=200", "http.request.resend_count=0"} {
				if !slices.Contains(get, want) {
					t.Errorf("upstream span GET /flow_runs/{id} %v lacks %s", get, want)
				}
			}
			for name, attrs := range spans {
				for _, a := range append(attrs, name) {
					if strings.Contains(a, "crimson-falcon") || strings.Contains(a, "fd35f545") {
						t.Errorf("span %s carries an id or name: %s", name, a)
					}
				}
			}
		})
	}
}

// TestRouteTemplate: traces and debug logs name routes, never ids or names.
func TestRouteTemplate(t *testing.T) {
	spec, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	route := routeTemplate(spec)
	id := "5f0c7a44-8a2d-4a8e-9d2b-0c1f2e3d4a5b"
	for _, c := range []struct{ method, path, want string }{
		{"POST", "/flow_runs/filter", "/flow_runs/filter"},
		{"GET", "/flow_runs/" + id, "/flow_runs/{id}"},
		{"GET", "/deployments/name/etl-pipeline/etl-hourly", "/deployments/name/{flow_name}/{deployment_name}"},
		{"POST", "/work_pools/my%20pool/workers/filter", "/work_pools/{work_pool_name}/workers/filter"},
		{"GET", "/me/", "/me/"},
		{"GET", "/accounts/" + id + "/workspaces/" + id, "/accounts/{id}/workspaces/{id}"},
		{"GET", "/accounts/" + id + "/rate-limits/usage", "/accounts/{id}/rate-limits/usage"},
		{"GET", "/accounts/my-secret-name", "other"},
		{"GET", "/nothing/" + id, "other"},
	} {
		if got := route(c.method, c.path); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.method, c.path, got, c.want)
		}
	}
}
