package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// TestConfigProbesTheAPI: `config` reports what the URL answers (health,
// release, credentials), in the tools' words when something is wrong, and
// --no-probe sends nothing.
func TestConfigProbesTheAPI(t *testing.T) {
	const auth = "admin:probe-canary"
	fake := prefecttest.New(prefecttest.WithAuthString(auth), prefecttest.WithData(prefecttest.Demo(now)))
	defer fake.Close()
	stalled := prefecttest.New(prefecttest.WithLatency(time.Minute), prefecttest.WithClock(clock))
	defer stalled.Close()
	root := strings.TrimSuffix(fake.URL, "/api")
	const key = "pnu_probecanary"
	cloud := prefecttest.New(prefecttest.WithCloud("0f4e6e3b-5c2e-4f39-9d6b-3f7f5c1d2a10", "8a1d7c3e-2b4f-4e6a-9c8d-1e2f3a4b5c6d"), prefecttest.WithAPIKey(key), prefecttest.WithData(prefecttest.Demo(now)))
	defer cloud.Close()
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"healthy, credentials accepted", map[string]string{"PREFECT_API_URL": fake.URL, "PREFECT_API_AUTH_STRING": auth},
			[]string{"reachable  yes: GET /health answered true", "version    Prefect 3.", "a read (POST /flows/filter) works with the basic auth string"}},
		{"Cloud workspace", map[string]string{"PREFECT_API_URL": cloud.URL, "PREFECT_API_KEY": key},
			[]string{"reachable  yes", "version    ", "a read (POST /flows/filter) works with the api key"}},
		{"wrong credentials", map[string]string{"PREFECT_API_URL": fake.URL, "PREFECT_API_AUTH_STRING": "admin:wrong"},
			[]string{"reachable  yes", "Prefect rejected the credentials (401"}},
		{"no /api", map[string]string{"PREFECT_API_URL": root, "PREFECT_API_AUTH_STRING": auth},
			[]string{"reachable  no", "does not end in /api", root + "/api"}},
		{"unreachable", map[string]string{"PREFECT_API_URL": "http://127.0.0.1:1/api"}, []string{"reachable  no", "connection refused"}},
		{"stalled", map[string]string{"PREFECT_API_URL": stalled.URL}, []string{"reachable  no", "did not answer within " + probeTimeout.String()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sys, out, errOut := testSystem(t, tc.env)
			if code := Run(context.Background(), []string{"config", "--no-docs"}, sys); code != 0 {
				t.Fatalf("config exit %d: %s", code, errOut)
			}
			for _, w := range append(tc.want, "PROBE (") {
				if !strings.Contains(out.String(), w) {
					t.Errorf("config output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out.String(), "probe-canary") || strings.Contains(out.String(), key) {
				t.Error("config printed the auth string")
			}
		})
	}
	t.Run("--no-probe", func(t *testing.T) {
		fake.ResetLog()
		sys, out, errOut := testSystem(t, map[string]string{"PREFECT_API_URL": fake.URL})
		if code := Run(context.Background(), []string{"config", "--no-probe", "--no-docs"}, sys); code != 0 {
			t.Fatalf("config exit %d: %s", code, errOut)
		}
		if n := len(fake.Requests()); n != 0 || strings.Contains(out.String(), "PROBE") {
			t.Fatalf("--no-probe sent %d requests:\n%s", n, out)
		}
	})
}
