// Command soak runs prefect-mcp's HTTP server in-process against the fake
// Prefect with faults injected at a low rate, drives steady mixed load from
// concurrent MCP clients, and watches goroutines, open file descriptors and
// RSS for growth.
//
//	go run ./soak -duration 10m
//
//	go run ./soak -demo -duration 10m   # the server's own --demo workspace
//
// It exits 1 if a call failed for a reason other than an injected fault, or
// if goroutines, descriptors, RSS or the live heap (measured after a full GC)
// grew beyond a tolerance between the first and the last sample taken under
// load. With -demo the server serves its built-in workspace (no faults are
// injected), so whatever the demo retains per call counts as growth.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/cli"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

type options struct {
	duration, interval time.Duration
	clients            int
	faultRate          float64
	maxGoroutines      int
	maxFDs             int
	maxRSSMiB          int
	maxHeapMiB         int
	demo               bool
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long to run the load")
	flag.DurationVar(&o.interval, "interval", time.Minute, "how often to print resource figures")
	flag.IntVar(&o.clients, "clients", 16, "concurrent MCP clients")
	flag.Float64Var(&o.faultRate, "fault-rate", 0.01, "share of upstream requests that start a fault")
	flag.IntVar(&o.maxGoroutines, "max-goroutine-growth", 64, "allowed goroutine growth between the first and last sample")
	flag.IntVar(&o.maxFDs, "max-fd-growth", 64, "allowed open-descriptor growth between the first and last sample")
	flag.IntVar(&o.maxRSSMiB, "max-rss-growth-mb", 96, "allowed RSS growth in MiB between the first and last sample")
	flag.IntVar(&o.maxHeapMiB, "max-heap-growth-mb", 16, "allowed growth of the live heap (after a full GC) in MiB between the first and last sample")
	flag.BoolVar(&o.demo, "demo", false, "soak the server's --demo workspace instead of an external fake Prefect (no injected faults)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// faults injects 503 bursts, 429 with Retry-After 1 and stalls at a low rate.
type faults struct {
	rate      float64
	burst     atomic.Int64 // 503s still to send in the current burst
	n503      atomic.Int64
	n429      atomic.Int64
	nStall    atomic.Int64
	stallTime time.Duration
}

func (f *faults) hook(w http.ResponseWriter, r *http.Request) bool {
	if f.burst.Add(-1) >= 0 {
		f.n503.Add(1)
		http.Error(w, `{"exception_message":"Service Unavailable"}`, http.StatusServiceUnavailable)
		return true
	}
	f.burst.Store(0)
	if rand.Float64() >= f.rate {
		return false
	}
	switch p := rand.Float64(); {
	case p < 0.5: // a short burst: the client's retries should absorb it
		f.burst.Store(2)
		f.n503.Add(1)
		http.Error(w, `{"exception_message":"Service Unavailable"}`, http.StatusServiceUnavailable)
	case p < 0.9:
		f.n429.Add(1)
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"detail":"Too Many Requests"}`, http.StatusTooManyRequests)
	default: // a stall longer than the request timeout
		f.nStall.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(f.stallTime):
		}
	}
	return true
}

// counters of the load.
type counters struct {
	calls, ok, injected, unexpected atomic.Int64
	mu                              sync.Mutex
	samples                         []string // first unexpected errors
	latencies                       []time.Duration
}

func (c *counters) unexpectedErr(msg string) {
	c.unexpected.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.samples {
		if s == msg {
			return
		}
	}
	if len(c.samples) < 10 {
		c.samples = append(c.samples, msg)
	}
}

// injectedText recognizes the tool errors an injected fault explains.
func injectedText(s string) bool {
	for _, w := range []string{"did not answer in time", "(503 on", "(429 on", "rate limiting"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

type sample struct {
	at                    time.Duration
	goroutines, fds       int
	rssKiB, heapKiB       int64
	calls, ok, inj, unexp int64
}

func take(start time.Time, c *counters) sample {
	return sample{at: time.Since(start).Round(time.Second), goroutines: runtime.NumGoroutine(), fds: openFDs(), rssKiB: rssKiB(), heapKiB: liveHeapKiB(),
		calls: c.calls.Load(), ok: c.ok.Load(), inj: c.injected.Load(), unexp: c.unexpected.Load()}
}

func (s sample) String() string {
	return fmt.Sprintf("t=%-6s goroutines=%-5d fds=%-5d rss=%.1fMiB heap=%.1fMiB calls=%d ok=%d injected-errors=%d unexpected-errors=%d",
		s.at, s.goroutines, s.fds, float64(s.rssKiB)/1024, float64(s.heapKiB)/1024, s.calls, s.ok, s.inj, s.unexp)
}

// liveHeapKiB is the heap still reachable after a full collection: unlike
// RSS it does not hide a slow leak behind the runtime's reserve.
func liveHeapKiB() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc / 1024)
}

func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

func rssKiB() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	f := &faults{rate: o.faultRate, stallTime: 5 * time.Second}
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(time.Now())), prefecttest.WithClock(time.Now), prefecttest.WithFaultHook(f.hook))
	defer fake.Close()

	port, err := freePort()
	if err != nil {
		return err
	}
	env := map[string]string{"PREFECT_API_URL": fake.URL, "PREFECT_API_REQUEST_TIMEOUT": "2"}
	args := []string{"--transport", "http", "--port", strconv.Itoa(port), "--no-docs", "--log-level", "error"}
	if o.demo {
		env = map[string]string{}
		args = append(args, "--demo")
	}
	var logs syncBuffer
	sys := cli.System{
		Lookup:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		WorkDir: os.TempDir(), HomeDir: os.TempDir(),
		Stdin: strings.NewReader(""), Stdout: &logs, Stderr: &logs, Now: time.Now,
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	served := make(chan int, 1)
	go func() {
		served <- cli.Run(srvCtx, args, sys)
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitReady(base + "/healthz"); err != nil {
		stopServer()
		return err
	}

	c := &counters{}
	loadCtx, stopLoad := context.WithTimeout(ctx, o.duration)
	defer stopLoad()
	samples := []sample{take(start, c)}
	fmt.Println("start  ", samples[0])
	var wg sync.WaitGroup
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client(loadCtx, base+"/mcp", i, c)
		}()
	}
	writes := 0
	tick := time.NewTicker(o.interval)
	for loadCtx.Err() == nil {
		select {
		case <-loadCtx.Done():
		case <-tick.C:
			// The fake logs every request; check for writes, then drop the
			// log so its growth is not mistaken for the server's.
			writes += len(fake.Writes())
			fake.ResetLog()
			s := take(start, c)
			samples = append(samples, s)
			fmt.Println("sample ", s)
		}
	}
	tick.Stop()
	wg.Wait()
	stopServer()
	code := <-served
	writes += len(fake.Writes())
	if strings.Contains(logs.String(), "write requests") { // the demo reports its own on shutdown
		writes++
	}
	fake.Close()
	runtime.GC()
	time.Sleep(500 * time.Millisecond) // let closed connections' goroutines end
	end := take(start, c)
	fmt.Println("end    ", end, "(after shutdown)")
	fmt.Printf("upstream writes: %d\n", writes)
	fmt.Printf("injected: %d×503, %d×429 (Retry-After 1), %d stalls\n", f.n503.Load(), f.n429.Load(), f.nStall.Load())
	c.mu.Lock()
	lat := c.latencies
	c.mu.Unlock()
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		fmt.Printf("latency of successful calls: p50 %v, p99 %v, max %v (%d sampled)\n",
			lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), len(lat))
	}

	var problems []string
	if code != 0 {
		problems = append(problems, fmt.Sprintf("the server exited with %d: %s", code, logs.String()))
	}
	if n := c.unexpected.Load(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d unexpected errors, first: %q", n, c.samples))
	}
	if writes > 0 {
		problems = append(problems, fmt.Sprintf("%d write requests reached the fake Prefect", writes))
	}
	if c.ok.Load() == 0 {
		problems = append(problems, "no call succeeded")
	}
	// Under load: the first periodic sample (warm) against the last.
	if len(samples) >= 3 {
		first, last := samples[1], samples[len(samples)-1]
		if g := last.goroutines - first.goroutines; g > o.maxGoroutines {
			problems = append(problems, fmt.Sprintf("goroutines grew by %d (%d -> %d)", g, first.goroutines, last.goroutines))
		}
		if g := last.fds - first.fds; g > o.maxFDs {
			problems = append(problems, fmt.Sprintf("open descriptors grew by %d (%d -> %d)", g, first.fds, last.fds))
		}
		if g := (last.rssKiB - first.rssKiB) / 1024; g > int64(o.maxRSSMiB) {
			problems = append(problems, fmt.Sprintf("RSS grew by %d MiB (%.1f -> %.1f)", g, float64(first.rssKiB)/1024, float64(last.rssKiB)/1024))
		}
		if g := (last.heapKiB - first.heapKiB) / 1024; g > int64(o.maxHeapMiB) {
			problems = append(problems, fmt.Sprintf("the live heap grew by %d MiB (%.1f -> %.1f)", g, float64(first.heapKiB)/1024, float64(last.heapKiB)/1024))
		}
	} else {
		fmt.Println("too few samples to judge growth: raise -duration or lower -interval")
	}
	if end.goroutines > samples[0].goroutines+8 {
		problems = append(problems, fmt.Sprintf("%d goroutines left after shutdown (%d at start)", end.goroutines, samples[0].goroutines))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	fmt.Println("PASS")
	return nil
}

// calls is the steady mix: list, detail, logs, diagnosis.
var calls = []struct {
	name string
	args map[string]any
}{
	{"get_flow_runs", map[string]any{"limit": 10}},
	{"get_flows", nil},
	{"get_flow_run_logs", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "amber-otter"), "tail": true, "limit": 20}},
	{"get_deployments", map[string]any{"limit": 10}},
	{"get_work_pools", nil},
	{"get_concurrency_limits", nil},
	{"get_dashboard", nil},
	{"diagnose_flow_run", map[string]any{"flow_run_id": prefecttest.DemoID("flow_run", "amber-otter")}},
	{"get_flow_runs", map[string]any{"filter": map[string]any{"state": map[string]any{"type": map[string]any{"any_": []string{"FAILED"}}}}}},
}

// client calls tools in a loop, reconnecting now and then so session set-up
// and tear-down are part of the soak.
func client(ctx context.Context, endpoint string, id int, c *counters) {
	transport := &http.Transport{MaxIdleConnsPerHost: 4}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}
	for i := id; ctx.Err() == nil; {
		mc := mcp.NewClient(&mcp.Implementation{Name: "soak", Version: "1"}, nil)
		cs, err := mc.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1}, nil)
		if err != nil {
			if ctx.Err() == nil {
				c.unexpectedErr("connect: " + err.Error())
				time.Sleep(time.Second)
			}
			continue
		}
		for range 200 {
			if ctx.Err() != nil {
				break
			}
			call := calls[i%len(calls)]
			i++
			callCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
			began := time.Now()
			res, err := cs.CallTool(callCtx, &mcp.CallToolParams{Name: call.name, Arguments: call.args})
			cancel()
			if ctx.Err() != nil {
				break // the soak ended mid-call
			}
			c.calls.Add(1)
			switch {
			case err != nil:
				c.unexpectedErr(call.name + ": protocol error: " + err.Error())
			case res.IsError:
				text := res.Content[0].(*mcp.TextContent).Text
				if injectedText(text) {
					c.injected.Add(1)
				} else {
					c.unexpectedErr(call.name + ": " + text)
				}
			default:
				c.ok.Add(1)
				if c.ok.Load()%10 == 0 {
					c.mu.Lock()
					c.latencies = append(c.latencies, time.Since(began))
					c.mu.Unlock()
				}
			}
		}
		_ = cs.Close()
	}
}

func waitReady(url string) error {
	for range 400 {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("%s never answered", url)
}

// syncBuffer collects the server's log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
