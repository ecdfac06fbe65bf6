package prefect

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkPostFilter(b *testing.B) {
	var all []json.RawMessage
	readSample(b, "flow_runs_filter.json", &all)
	body, err := json.Marshal(all[:50])
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	c := newTestClient(b, srv.URL+"/api", nil, func(cfg *Config) { cfg.APIKey = "pnu_bench" })
	filter := map[string]any{"sort": "START_TIME_DESC", "limit": 50}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var runs []FlowRun
		if err := c.Post(ctx, "/flow_runs/filter", filter, &runs); err != nil {
			b.Fatal(err)
		}
		if len(runs) != 50 {
			b.Fatalf("decoded %d runs", len(runs))
		}
	}
}
