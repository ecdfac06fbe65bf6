// Command bench is prefect-mcp's performance suite. It builds the server,
// starts fake Prefect APIs (internal/prefecttest) on loopback, measures
// start-up, per-call overhead, fan-out, throughput, memory, result sizes and
// each tool's requests and latency against a Prefect that serves one request
// at a time (the demo and the large workspace), and prints Markdown tables
// ready for the README's performance section.
// Every comparison is made side by side in the same run; nothing is checked
// against a fixed time except the documented targets shown next to results.
//
//	go run ./bench                 # full run (-quick takes about 40 s; this longer)
//	go run ./bench -quick          # few iterations (smoke)
//	go run ./bench -only P1,P3 -runs 40
//
// Everything runs on 127.0.0.1, every loop is bounded, and the command stops
// by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// sections in run order.
var sectionIDs = []string{"P1", "P2", "P3", "P4", "P5", "P6", "P7"}

type bench struct {
	bin, tmp string
	quick    bool
	runs     int
	now      time.Time
	spec     *openapi.Spec
	demo     *prefecttest.Data // the seeded demo workspace (for picking arguments)

	fakeDemo *prefecttest.Server // the demo workspace
	fakeBig  *prefecttest.Server // demo + extraRuns flow runs
	fakeSlow *prefecttest.Server // demo with upstreamLatency on every request, in parallel

	large           *prefecttest.Data   // the large workspace (demo + generated)
	fakeSerialDemo  *prefecttest.Server // demo, one request at a time
	fakeSerialLarge *prefecttest.Server // large workspace, one request at a time
	fakeLarge       *prefecttest.Server // large workspace, in parallel, no added latency (P2, P4)
	toolRuns        []toolRun           // P3 and P7 measurements

	srv *httpProc // shared prefect-mcp HTTP server (P2, P3, P6, P7)

	rows   []string // main table
	extra  []string // further tables, in order
	notes  []string
	logOut io.Writer

	loadBefore string
	waves      *waveLog // arrival times at fakeSlow
}

const (
	extraRuns       = 200
	upstreamLatency = 20 * time.Millisecond
)

func main() {
	var (
		quick   = flag.Bool("quick", false, "few iterations (CI smoke)")
		runs    = flag.Int("runs", 0, "repetitions for timed measurements (default 20; 5 with -quick)")
		only    = flag.String("only", "", "comma-separated sections to run, e.g. P1,P3 (default all: "+strings.Join(sectionIDs, ",")+")")
		bin     = flag.String("bin", "", "use this prefect-mcp binary instead of building ./cmd/prefect-mcp")
		cpuProf = flag.String("cpuprofile", "", "write a CPU profile of the bench process (client side and fake Prefect) to this file")
		bare    = flag.String("bare-server", "", "internal: serve the bare go-sdk reference server on this address")
		bareIO  = flag.Bool("bare-stdio", false, "internal: serve the bare go-sdk reference server over stdio")
	)
	flag.Parse()
	if *bareIO {
		if err := serveBareStdio(); err != nil {
			fmt.Fprintln(os.Stderr, "bare server:", err)
			os.Exit(1)
		}
		return
	}
	if *bare != "" {
		if err := serveBare(*bare); err != nil {
			fmt.Fprintln(os.Stderr, "bare server:", err)
			os.Exit(1)
		}
		return
	}
	selected := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.ToUpper(strings.TrimSpace(s)); s != "" {
			selected[s] = true
		}
	}
	for s := range selected {
		if !strings.Contains(strings.Join(sectionIDs, ","), s) {
			fmt.Fprintf(os.Stderr, "bench: unknown section %q (known: %s)\n", s, strings.Join(sectionIDs, ","))
			os.Exit(2)
		}
	}
	n := *runs
	if n <= 0 {
		n = 20
		if *quick {
			n = 5
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // the command always stops by itself
	defer cancel()
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	b := &bench{quick: *quick, runs: n, logOut: os.Stderr, loadBefore: loadAvg()}
	if err := b.run(ctx, *bin, selected); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		b.close()
		os.Exit(1)
	}
	b.close()
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.logOut, "bench: "+format+"\n", args...)
}

func (b *bench) run(ctx context.Context, bin string, selected map[string]bool) error {
	var err error
	if b.tmp, err = os.MkdirTemp("", "prefect-mcp-bench-"); err != nil {
		return err
	}
	if b.bin = bin; b.bin == "" {
		b.logf("building ./cmd/prefect-mcp")
		if b.bin, err = buildBinary(ctx, b.tmp); err != nil {
			return err
		}
	}
	if b.spec, err = openapi.Load(); err != nil {
		return err
	}
	b.now = time.Now().UTC()
	b.demo = prefecttest.Demo(b.now)
	wall := prefecttest.WithClock(time.Now) // the binary under test reads the wall clock too
	b.fakeDemo = prefecttest.New(prefecttest.WithSpec(b.spec), prefecttest.WithData(b.demo), wall)
	b.fakeBig = prefecttest.New(prefecttest.WithSpec(b.spec), prefecttest.WithData(b.demo), wall)
	b.fakeBig.Put(prefecttest.FlowRuns, moreRuns(b.demo, extraRuns)...)
	b.waves = &waveLog{}
	b.fakeSlow = prefecttest.New(prefecttest.WithSpec(b.spec), prefecttest.WithData(b.demo), wall, prefecttest.WithLatency(upstreamLatency),
		prefecttest.WithFaultHook(b.waves.hook))
	b.serialFakes()
	b.fakeLarge = prefecttest.New(prefecttest.WithSpec(b.spec), prefecttest.WithData(b.large), wall)

	sections := map[string]func(context.Context) error{
		"P1": b.p1Start, "P2": b.p2Overhead, "P3": b.p3FanOut, "P4": b.p4Throughput, "P5": b.p5Memory, "P6": b.p6Size, "P7": b.p7PerTool,
	}
	for _, id := range sectionIDs {
		if len(selected) > 0 && !selected[id] {
			continue
		}
		b.logf("%s ...", id)
		start := time.Now()
		if err := sections[id](ctx); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		b.logf("%s done in %s", id, time.Since(start).Round(time.Millisecond))
	}
	b.print(os.Stdout)
	return nil
}

func (b *bench) close() {
	if b.srv != nil {
		b.srv.stop()
	}
	for _, f := range []*prefecttest.Server{b.fakeDemo, b.fakeBig, b.fakeSlow, b.fakeSerialDemo, b.fakeSerialLarge, b.fakeLarge} {
		if f != nil {
			f.Close()
		}
	}
	if b.tmp != "" {
		_ = os.RemoveAll(b.tmp)
	}
}

// shared returns the prefect-mcp HTTP server allowed to read every fake.
func (b *bench) shared(ctx context.Context) (*httpProc, error) {
	if b.srv != nil {
		return b.srv, nil
	}
	var err error
	b.srv, err = b.startHTTP(ctx, b.fakeDemo.URL, b.fakeBig.URL, b.fakeSlow.URL, b.fakeSerialDemo.URL, b.fakeSerialLarge.URL, b.fakeLarge.URL)
	return b.srv, err
}

func (b *bench) row(cells ...string) {
	b.rows = append(b.rows, "| "+strings.Join(cells, " | ")+" |")
}

func (b *bench) print(w io.Writer) {
	mode := fmt.Sprintf("%d runs", b.runs)
	if b.quick {
		mode += ", -quick"
	}
	fmt.Fprintf(w, "\nMeasured with `go run ./bench` (%s) on %s/%s, %d CPUs (%s), %s, %s.\n",
		mode, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version(), b.now.Format("2006-01-02"))
	fmt.Fprintf(w, "Load average (1 min) before/after: %s / %s.\n", b.loadBefore, loadAvg())
	fmt.Fprintf(w, "The fake Prefect API (internal/prefecttest) runs in the bench process on loopback; ratios compare paths measured side by side in the same run.\n\n")
	if len(b.rows) > 0 {
		fmt.Fprintln(w, "| | measure | result | compared with | ratio | target | |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		for _, r := range b.rows {
			fmt.Fprintln(w, r)
		}
		fmt.Fprintln(w)
	}
	for _, e := range b.extra {
		fmt.Fprintln(w, e)
	}
	for _, n := range b.notes {
		fmt.Fprintln(w, "- "+n)
	}
}

func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
