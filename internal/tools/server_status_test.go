package tools_test

import (
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// probeRow returns the summary of one probed path.
func probeRow(t *testing.T, out map[string]any, path string) map[string]any {
	t.Helper()
	return byName(t, rows(t, out, "probes"), "path", path)
}

func TestServerStatusHealthy(t *testing.T) {
	e := newEnv(t)
	out := e.ok(t, "get_server_status", nil)
	size := resultSize(t, out)
	t.Logf("get_server_status: %d bytes, %d requests", size, len(e.fake.Requests()))
	if size > 6<<10 {
		t.Errorf("result is %d bytes, budget 6 KB", size)
	}
	if out["verdict"] != "healthy" || out["rounds"] != 3.0 || out["probe_timeout_ms"] != 2000.0 {
		t.Errorf("verdict %v rounds %v timeout %v", out["verdict"], out["rounds"], out["probe_timeout_ms"])
	}
	if out["prefect_version"] != "3.8.4.dev6" || out["api_version"] != "0.8.4" || out["version_skew"] != nil {
		t.Errorf("versions %v %v skew %v", out["prefect_version"], out["api_version"], out["version_skew"])
	}
	for _, path := range []string{"/health", "/ready", "/admin/version", "/version"} {
		p := probeRow(t, out, path)
		if p["ok"] != 3.0 || p["failed"] != nil || p["errors"] != nil {
			t.Errorf("%s: %v", path, p)
		}
		if _, ok := p["median_ms"].(float64); !ok {
			t.Errorf("%s has no median_ms: %v", path, p)
		}
		if n := e.fake.Count("GET " + path); n != 3 {
			t.Errorf("GET %s sent %d times, want 3 (one per round)", path, n)
		}
	}
	if v := probeRow(t, out, "/admin/version")["values"].(map[string]any); v["3.8.4.dev6"] != 3.0 {
		t.Errorf("release values %v", v)
	}
	if cannot := rows2strings(out["cannot_tell"]); !strings.Contains(cannot, "database") || !strings.Contains(cannot, "worker hosts") {
		t.Errorf("cannot_tell %v", cannot)
	}
	noWrites(t, e.fake)

	e.fake.ResetLog()
	one := e.ok(t, "get_server_status", map[string]any{"rounds": 1})
	if one["rounds"] != 1.0 || len(e.fake.Requests()) != 4 {
		t.Errorf("rounds=1: rounds %v, %d requests, want 4", one["rounds"], len(e.fake.Requests()))
	}
	if msg := e.fail(t, "get_server_status", map[string]any{"rounds": 9}); !strings.Contains(msg, "rounds") {
		t.Errorf("rounds=9: %s", msg)
	}
}

func rows2strings(v any) string {
	var b strings.Builder
	for _, s := range v.([]any) {
		b.WriteString(s.(string))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestServerStatusFailures(t *testing.T) {
	cases := []struct {
		name     string
		fault    prefecttest.Fault
		rounds   int
		path     string
		errors   string // class of the failure
		ok       float64
		verdict  string
		requests int // to the faulty path: one per round, never a retry; 0 skips the check
	}{
		{"one 503 on /ready", prefecttest.Fault{Route: "GET /ready", Times: 1, Status: 503}, 3, "/ready", "http_503", 2, "degraded", 3},
		{"/ready always 503", prefecttest.Fault{Route: "GET /ready", Status: 503}, 3, "/ready", "http_503", 0, "unhealthy", 3},
		// A body cut short is a reset our client would retry; a probe must not.
		// (FaultReset is not used: net/http itself replays a GET whose pooled
		// connection dies before any response.)
		{"/health cut short", prefecttest.Fault{Route: "GET /health", Times: 1, Kind: prefecttest.FaultTruncate}, 2, "/health", "reset", 1, "degraded", 2},
		{"/admin/version refused", prefecttest.Fault{Route: "GET /admin/version", Status: 403, Body: `{"detail":"Forbidden"}`}, 2, "/admin/version", "http_403", 0, "healthy", 2},
		// The stall is bounded by the probe's own timeout; siblings still answer.
		// The fake logs a request when its handler ends, which for an
		// abandoned stall may be after the tool returned: no count here.
		{"stalled /ready", prefecttest.Fault{Route: "GET /ready", Times: 1, Kind: prefecttest.FaultStall}, 1, "/ready", "timeout", 0, "unhealthy", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.fake.AddFault(tc.fault)
			out := e.ok(t, "get_server_status", map[string]any{"rounds": tc.rounds})
			p := probeRow(t, out, tc.path)
			errs, _ := p["errors"].(map[string]any)
			if p["ok"] != tc.ok || errs[tc.errors] == nil || len(errs) != 1 {
				t.Errorf("%s: %v", tc.path, p)
			}
			if p["last_error"] == nil {
				t.Errorf("%s has no last_error: %v", tc.path, p)
			}
			if out["verdict"] != tc.verdict {
				t.Errorf("verdict %v, want %s; summary %v", out["verdict"], tc.verdict, out["summary"])
			}
			if n := e.fake.Count("GET " + tc.path); tc.requests > 0 && n != tc.requests {
				t.Errorf("GET %s sent %d times, want %d (no retries)", tc.path, n, tc.requests)
			}
			if other := probeRow(t, out, "/version"); other["ok"] != float64(tc.rounds) {
				t.Errorf("/version suffered from another probe's fault: %v", other)
			}
			t.Logf("%s: %v — %v", tc.name, out["summary"], p)
		})
	}
}

func TestServerStatusVersionSkew(t *testing.T) {
	// Every second /admin/version answer comes from an older replica.
	var calls atomic.Int64
	hook := func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/admin/version") || calls.Add(1)%2 == 1 {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`"3.8.3"`))
		return true
	}
	e := newEnv(t, prefecttest.WithData(prefecttest.Demo(now)), prefecttest.WithFaultHook(hook))
	out := e.ok(t, "get_server_status", nil)
	if out["version_skew"] != true || out["verdict"] != "degraded" {
		t.Fatalf("skew %v verdict %v", out["version_skew"], out["verdict"])
	}
	if out["prefect_version"] != "3.8.4.dev6, 3.8.3" {
		t.Errorf("prefect_version %v", out["prefect_version"])
	}
	v := probeRow(t, out, "/admin/version")["values"].(map[string]any)
	if v["3.8.4.dev6"] != 2.0 || v["3.8.3"] != 1.0 {
		t.Errorf("values %v", v)
	}
	if notes := rows2strings(out["notes"]); !strings.Contains(notes, "load balancer") {
		t.Errorf("notes %v", notes)
	}
}

func TestServerStatusUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there any more: connections are refused

	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)))
	t.Cleanup(fake.Close)
	e := newEnvWithTarget(t, fake, target.Credentials{APIURL: "http://" + addr + "/api"})
	out := e.ok(t, "get_server_status", map[string]any{"rounds": 1})
	if out["verdict"] != "unreachable" {
		t.Fatalf("verdict %v: %v", out["verdict"], out["summary"])
	}
	for _, path := range []string{"/health", "/ready", "/admin/version", "/version"} {
		if errs := probeRow(t, out, path)["errors"].(map[string]any); errs["refused"] != 1.0 {
			t.Errorf("%s errors %v", path, errs)
		}
	}
	if !strings.Contains(out["summary"].(string), "refused") {
		t.Errorf("summary %v", out["summary"])
	}
}
