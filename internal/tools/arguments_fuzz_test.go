package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// FuzzToolArguments sends arbitrary JSON objects as the arguments of the
// tools whose filters reach Prefect: every call ends in a result (a tool
// error is fine), never a protocol error, a panic or a hang, and the fake
// never sees a write.
func FuzzToolArguments(f *testing.F) {
	run := prefecttest.DemoID("flow_run", "amber-otter")
	for _, seed := range []string{
		`{}`,
		`{"limit":3,"offset":1}`,
		`{"filter":{"state":{"type":{"any_":["FAILED","CRASHED"]}}},"limit":5}`,
		`{"filter":{"flows":{"name":{"like_":"etl"}},"tags":{"all_":["prod"]}}}`,
		`{"filter":{"id":{"any_":["` + run + `"]}}}`,
		`{"filter":{"nope":1}}`,
		`{"flow_run_id":"` + run + `","tail":5,"level":"ERROR"}`,
		`{"flow_run_id":"amber-otter","level":"debug","offset":200}`,
		`{"flow_run_id":"../../admin","limit":-1}`,
		`{"limit":1e308,"filter":[]}`,
	} {
		f.Add(uint8(0), seed)
		f.Add(uint8(1), seed)
	}
	fake, session := fuzzSession(f)
	names := []string{"get_flow_runs", "get_flow_run_logs"}
	f.Fuzz(func(t *testing.T, which uint8, args string) {
		var obj map[string]any
		if json.Unmarshal([]byte(args), &obj) != nil || obj == nil {
			t.Skip("not a JSON object")
		}
		name := names[int(which)%len(names)]
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s(%s) hung", name, args)
		}
		if err != nil {
			t.Fatalf("%s(%s): protocol error: %v", name, args, err)
		}
		if len(res.Content) == 0 {
			t.Fatalf("%s(%s): empty result", name, args)
		}
		if w := fake.Writes(); len(w) > 0 {
			t.Fatalf("%s(%s) wrote: %v", name, args, w)
		}
		fake.ResetLog() // keeps a long fuzzing run's memory flat
	})
}

// fuzzSession is newEnv for a fuzz target: one fake and one session shared
// by every input of a worker.
func fuzzSession(f *testing.F) (*prefecttest.Server, *mcp.ClientSession) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)), prefecttest.WithSpec(spec))
	f.Cleanup(fake.Close)
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, 10*time.Second)
	if err != nil {
		f.Fatal(err)
	}
	tgt, err := target.Builder{HTTPClient: hc}.Build(target.Credentials{APIURL: fake.URL}, "")
	if err != nil {
		f.Fatal(err)
	}
	deps := &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: clockNow}
	s := server.New(server.Config{Version: "fuzz", Deps: deps, Selection: tools.Selection{Kind: tgt.Kind, KindKnown: true}})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), st, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "fuzz", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = cs.Close() })
	return fake, cs
}
