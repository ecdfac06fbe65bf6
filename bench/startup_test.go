package main

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// BenchmarkStartup splits `prefect-mcp --demo` start-up (P1) into its
// in-process parts; profile with
//
//	go test ./bench -run '^$' -bench Startup -cpuprofile cpu.out
func BenchmarkStartup(b *testing.B) {
	spec, err := openapi.Load()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("openapi_first_use", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			spec, err := openapi.Load()
			if err != nil {
				b.Fatal(err)
			}
			spec.Routes() // the document is indexed on first use
		}
	})
	b.Run("demo_fake", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f := prefecttest.New(prefecttest.WithSpec(spec), prefecttest.WithData(prefecttest.Demo(time.Now())))
			f.Close()
		}
	})
	b.Run("server_tools_list", func(b *testing.B) {
		ctx := context.Background()
		deps := &tools.Deps{Resolver: target.Static{}, Spec: spec, Now: time.Now}
		b.ReportAllocs()
		for b.Loop() {
			s := server.New(server.Config{Version: "bench", Deps: deps, Selection: tools.Selection{Kind: target.Demo, KindKnown: true}})
			ct, st := mcp.NewInMemoryTransports()
			ss, err := s.Connect(ctx, st, nil)
			if err != nil {
				b.Fatal(err)
			}
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := cs.ListTools(ctx, nil); err != nil {
				b.Fatal(err)
			}
			_ = cs.Close()
			_ = ss.Close()
		}
	})
}
