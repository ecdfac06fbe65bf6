package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// moduleRoot finds the directory holding go.mod, from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("bench: run from inside the prefect-mcp module (no go.mod found)")
		}
		dir = parent
	}
}

// buildBinary builds ./cmd/prefect-mcp into dir.
func buildBinary(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "prefect-mcp")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/prefect-mcp")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return out, nil
}

// childEnv is a clean environment: no Prefect settings from the machine, no
// profile, no .env (the working directory is an empty temporary one).
func (b *bench) childEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.tmp, "PREFECT_HOME=" + filepath.Join(b.tmp, "prefect-home")}
	return append(env, extra...)
}

func (b *bench) command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Env = env
	cmd.Dir = b.tmp
	cmd.Stderr = io.Discard
	cmd.WaitDelay = 3 * time.Second
	return cmd
}

// rawStart spawns the stdio server and times spawn -> initialize ->
// tools/list answered with hand-written JSON-RPC (no client library cost).
// With bare set it spawns the bare go-sdk stdio server instead (the
// baseline: same SDK, one trivial tool, nothing else).
func (b *bench) rawStart(ctx context.Context, bare bool) (time.Duration, int64, error) {
	wall, _, size, err := b.rawStartCPU(ctx, bare)
	return wall, size, err
}

// rawStartCPU is rawStart that also reports the process's CPU time (user +
// system, for its whole life: start, the two answers, exit on EOF), which
// is far less sensitive to other load on the machine than wall time.
func (b *bench) rawStartCPU(ctx context.Context, bare bool) (wall, cpu time.Duration, size int64, err error) {
	wall, size, err = b.spawnOnce(ctx, bare, &cpu)
	return wall, cpu, size, err
}

func (b *bench) spawnOnce(ctx context.Context, bare bool, cpu *time.Duration) (time.Duration, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := b.command(ctx, b.childEnv(), "--demo", "--no-docs", "--log-level", "error")
	if bare {
		self, err := os.Executable()
		if err != nil {
			return 0, 0, err
		}
		cmd = exec.CommandContext(ctx, self, "-bare-stdio")
		cmd.Env, cmd.Dir, cmd.Stderr, cmd.WaitDelay = b.childEnv(), b.tmp, io.Discard, 3*time.Second
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Wait()
		if st := cmd.ProcessState; st != nil {
			*cpu = st.UserTime() + st.SystemTime()
		}
	}()
	msgs := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
	}
	if _, err := io.WriteString(stdin, strings.Join(msgs, "\n")+"\n"); err != nil {
		return 0, 0, err
	}
	r := bufio.NewReaderSize(stdout, 1<<20)
	var size int64
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return 0, 0, fmt.Errorf("reading the stdio server: %w", err)
		}
		var m struct {
			ID    int             `json:"id"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(line, &m) != nil {
			continue
		}
		if len(m.Error) > 0 {
			return 0, 0, fmt.Errorf("server error: %s", m.Error)
		}
		if m.ID == 2 {
			size = int64(len(line))
			break
		}
	}
	return time.Since(start), size, nil
}

// stdioSession connects the go-sdk client to a stdio server process.
func (b *bench) stdioSession(ctx context.Context, env []string, args ...string) (*mcp.ClientSession, *exec.Cmd, error) {
	cmd := b.command(context.WithoutCancel(ctx), env, args...)
	c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return nil, nil, err
	}
	return cs, cmd, nil
}

// httpProc is a prefect-mcp (or bare) server process serving Streamable HTTP.
type httpProc struct {
	cmd      *exec.Cmd
	endpoint string
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startHTTP starts `prefect-mcp --transport http` allowing the given API URLs.
func (b *bench) startHTTP(ctx context.Context, allowed ...string) (*httpProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--transport", "http", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--no-docs", "--log-level", "error"}
	for _, u := range allowed {
		args = append(args, "--allowed-api-url", u)
	}
	return b.startProc(ctx, b.command(context.WithoutCancel(ctx), b.childEnv(), args...), port, "/healthz")
}

// startBare re-executes this program as the bare go-sdk server.
func (b *bench) startBare(ctx context.Context) (*httpProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(context.WithoutCancel(ctx), self, "-bare-server", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Env, cmd.Dir, cmd.Stderr, cmd.WaitDelay = b.childEnv(), b.tmp, os.Stderr, 3*time.Second
	return b.startProc(ctx, cmd, port, "/healthz")
}

func (b *bench) startProc(ctx context.Context, cmd *exec.Cmd, port int, health string) (*httpProc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &httpProc{cmd: cmd, endpoint: fmt.Sprintf("http://127.0.0.1:%d/mcp", port)}
	healthURL := fmt.Sprintf("http://127.0.0.1:%d%s", port, health)
	for range 200 { // at most ~10 s
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, healthURL, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("server on port %d did not become healthy", port)
}

// stop interrupts the process and waits for it (killing it after a grace period).
func (p *httpProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// headerTransport adds fixed headers (X-Prefect-Api-Url) to every request.
type headerTransport struct {
	next   http.RoundTripper
	header http.Header
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.header {
		r.Header[k] = v
	}
	return t.next.RoundTrip(r)
}

// newHTTPClient is a keep-alive client sized for conns concurrent requests.
func newHTTPClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns + 16
	tr.MaxIdleConnsPerHost = conns + 16
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// httpSession connects a stateless Streamable HTTP client; apiURL, when set,
// is sent as X-Prefect-Api-Url.
func httpSession(ctx context.Context, hc *http.Client, endpoint, apiURL string) (*mcp.ClientSession, error) {
	if apiURL != "" {
		hc = &http.Client{Timeout: hc.Timeout, Transport: headerTransport{next: hc.Transport, header: http.Header{"X-Prefect-Api-Url": {apiURL}}}}
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	return c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
}

// procMem reads VmRSS and VmHWM (kB) of a process.
func procMem(pid int) (rss, hwm int64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}

// callText calls a tool and returns its text content and error flag.
func callText(ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) (string, bool, error) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", name, err)
	}
	var sb strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			sb.WriteString(tc.Text)
		}
	}
	return sb.String(), res.IsError, nil
}

// cpuTime sums the user + system CPU time of processes so far, from
// /proc/<pid>/stat (utime and stime, in clock ticks of 1/100 s: USER_HZ is
// 100 on every Linux architecture Go supports).
func cpuTime(pids []int) (time.Duration, error) {
	var ticks int64
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, err
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		i := strings.LastIndexByte(string(raw), ')')
		if i < 0 {
			return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
		}
		f := strings.Fields(string(raw[i+1:]))
		if len(f) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
		}
		for _, s := range f[11:13] { // utime, stime (fields 14 and 15)
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
