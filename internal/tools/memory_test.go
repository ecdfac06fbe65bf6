package tools_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/server"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
	"github.com/prefect-mcp/prefect-mcp/internal/tools"
)

// Issue 13's memory amplification: every upstream answer is about 20 MB,
// shaped to decode (a padded object, or a count after 20 MB of spaces), and
// 64 get_dashboard calls (9 requests each; about 20 when the issue was filed) run at once. The process's
// peak RSS must stay under maxPeakRSSMiB with no GOMEMLIMIT: the shared
// budget of upstream body bytes, not the garbage collector's tuning, bounds it.
const (
	hostileChildEnv = "PREFECT_MCP_TEST_HOSTILE_CHILD"
	hostileCalls    = 64
	hostileBodySize = 20 << 20
	maxPeakRSSMiB   = 400
)

func TestHostileUpstreamPeakRSS(t *testing.T) {
	if os.Getenv(hostileChildEnv) == "1" {
		runHostileChild(t)
		return
	}
	if testing.Short() {
		t.Skip("starts a subprocess that moves gigabytes over loopback")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc/self/status (VmHWM)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileUpstreamPeakRSS$", "-test.count=1", "-test.v")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") && !strings.HasPrefix(kv, "GOGC=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, hostileChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var peakKiB, okCalls, errCalls int
	for line := range strings.Lines(string(out)) {
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "hostile: peak_rss_kib=%d ok=%d errors=%d", &peakKiB, &okCalls, &errCalls); err == nil {
			break
		}
	}
	if peakKiB == 0 {
		t.Fatalf("no measurement in the child's output:\n%s", out)
	}
	t.Logf("%d concurrent get_dashboard calls against %d MB upstream bodies: peak RSS %d MiB (%d answered, %d tool errors)",
		hostileCalls, hostileBodySize>>20, peakKiB>>10, okCalls, errCalls)
	if peakKiB>>10 > maxPeakRSSMiB {
		t.Fatalf("peak RSS %d MiB, want at most %d MiB", peakKiB>>10, maxPeakRSSMiB)
	}
	if okCalls+errCalls != hostileCalls {
		t.Fatalf("%d of %d calls answered", okCalls+errCalls, hostileCalls)
	}
}

// hostileUpstream answers every read with about size bytes that decode into
// what the client asked for.
func hostileUpstream(size int) http.Handler {
	pad := bytes.Repeat([]byte("x"), size)
	list := append(append([]byte(`[{"id":"00000000-0000-4000-8000-000000000001","name":"n","padding":"`), pad...), `"}]`...)
	object := list[1 : len(list)-1]
	count := append(bytes.Repeat([]byte(" "), size), '7')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var body []byte
		switch {
		case strings.HasSuffix(r.URL.Path, "/count"):
			body = count
		case strings.HasSuffix(r.URL.Path, "/filter"), strings.HasSuffix(r.URL.Path, "/history"):
			body = list
		default:
			body = object
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

func runHostileChild(t *testing.T) {
	upstream := httptest.NewServer(hostileUpstream(hostileBodySize))
	defer upstream.Close()
	hc, err := prefect.NewHTTPClient(prefect.TLSOptions{}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b := target.Builder{HTTPClient: hc, UserAgent: "prefect-mcp/test", MaxResponseBytes: 32 << 20, Budget: prefect.NewBudget(prefect.DefaultBudgetBytes)}
	tgt, err := b.Build(target.Credentials{APIURL: upstream.URL + "/api"}, "")
	if err != nil {
		t.Fatal(err)
	}
	deps := &tools.Deps{
		Resolver: target.Static{Target: tgt}, Spec: spec, Now: func() time.Time { return now },
		Slots: tools.NewSlots(hostileCalls),
	}
	s := newServer(deps)
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		okN, errN   int
		firstErrMsg string
	)
	for range hostileCalls {
		wg.Go(func() {
			cs := connectSession(t, s)
			if cs == nil {
				return
			}
			defer cs.Close()
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_dashboard", Arguments: map[string]any{}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("protocol error: %v", err)
			case res.IsError:
				errN++
				if firstErrMsg == "" {
					firstErrMsg = res.Content[0].(*mcp.TextContent).Text
				}
			default:
				okN++
			}
		})
	}
	wg.Wait()
	t.Logf("first tool error: %s", firstErrMsg)
	fmt.Printf("hostile: peak_rss_kib=%d ok=%d errors=%d\n", vmHWM(t), okN, errN)
}

func vmHWM(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kib, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return kib
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

func newServer(deps *tools.Deps) *mcp.Server {
	return server.New(server.Config{Version: "test", Deps: deps, Selection: tools.Selection{Kind: target.SelfHosted, KindKnown: true}})
}

// connectSession opens one in-memory client session on s; safe to call from
// any goroutine.
func connectSession(t *testing.T, s *mcp.Server) *mcp.ClientSession {
	ct, st := mcp.NewInMemoryTransports()
	if _, err := s.Connect(context.Background(), st, nil); err != nil {
		t.Error(err)
		return nil
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Error(err)
		return nil
	}
	return cs
}

// TestBudgetRefusalTellsWhatToDo: an answer that cannot fit the budget is a
// tool error naming the flag and the way out, and the next call, once the
// budget fits, works.
func TestBudgetRefusalTellsWhatToDo(t *testing.T) {
	upstream := httptest.NewServer(hostileUpstream(256 << 10))
	t.Cleanup(upstream.Close)
	hc := httpClient(t, prefect.TLSOptions{}, 10*time.Second)
	b := target.Builder{HTTPClient: hc, Budget: prefect.NewBudget(128 << 10)}
	tgt, err := b.Build(target.Credentials{APIURL: upstream.URL + "/api"}, "")
	if err != nil {
		t.Fatal(err)
	}
	deps := &tools.Deps{Resolver: target.Static{Target: tgt}, Spec: spec, Now: func() time.Time { return now }}
	cs := connectSession(t, newServer(deps))
	t.Cleanup(func() { _ = cs.Close() })
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_flows", Arguments: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if !res.IsError {
		t.Fatalf("a 256 KiB answer passed a 128 KiB budget: %.200s", text)
	}
	for _, want := range []string{"POST /flows/filter", "memory budget for Prefect answers", "--upstream-budget-mb", "Narrow the request"} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q: %s", want, text)
		}
	}
}
