// Tests of the files that package and deploy the server: no Docker engine,
// kubelet or systemd runs here, so each file is parsed and checked for what
// the runtime would refuse or get wrong.
package prefectmcp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.yaml.in/yaml/v3"
)

// nonrootUID is the uid:gid of distroless's "nonroot" user. The kubelet checks
// runAsNonRoot only against a numeric USER, so image and manifests use the number.
const nonrootUID = 65532

// projectLicense is the SPDX licence the image label and the plugin manifest declare.
const projectLicense = "Apache-2.0"

type serverJSON struct {
	Schema      string `json:"$schema"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     string `json:"version"`
	Repository  struct {
		URL string `json:"url"`
	} `json:"repository"`
	Packages []struct {
		RegistryType    string `json:"registryType"`
		RegistryBaseURL string `json:"registryBaseUrl"`
		Identifier      string `json:"identifier"`
		Version         string `json:"version"`
		FileSHA256      string `json:"fileSha256"`
		Transport       struct {
			Type string `json:"type"`
		} `json:"transport"`
	} `json:"packages"`
}

func readServerJSON(t *testing.T) serverJSON {
	t.Helper()
	var s serverJSON
	if err := json.Unmarshal(readFile(t, "server.json"), &s); err != nil {
		t.Fatalf("server.json: %v", err)
	}
	return s
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dockerInstruction is one Dockerfile instruction with its continuation lines joined.
type dockerInstruction struct {
	cmd  string // upper case: FROM, LABEL, USER, ...
	args string
}

func parseDockerfile(t *testing.T, src []byte) []dockerInstruction {
	t.Helper()
	var out []dockerInstruction
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("Dockerfile ends inside a continued line: %q", cur.String())
	}
	return out
}

// shellWords splits key="value with spaces" key2=value2 as Docker does for LABEL and ENV.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

func keyValues(t *testing.T, s string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, w := range shellWords(t, s) {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			t.Fatalf("%q is not key=value", w)
		}
		m[k] = v
	}
	return m
}

// imageStage is what the Dockerfile's final stage puts in the image.
type imageStage struct {
	labels, env map[string]string
	args        map[string]bool // ARG names
	user        string
	entrypoint  string
}

func parseImage(t *testing.T) imageStage {
	t.Helper()
	all := parseDockerfile(t, readFile(t, "Dockerfile"))
	// Only the last stage ends up in the image.
	last := 0
	for i, in := range all {
		if in.cmd == "FROM" {
			last = i
		}
	}
	img := imageStage{labels: map[string]string{}, env: map[string]string{}, args: map[string]bool{}}
	for _, in := range all[last:] {
		switch in.cmd {
		case "LABEL":
			for k, v := range keyValues(t, in.args) {
				img.labels[k] = v
			}
		case "ENV":
			for k, v := range keyValues(t, in.args) {
				img.env[k] = v
			}
		case "ARG":
			name, _, _ := strings.Cut(in.args, "=")
			img.args[name] = true
		case "USER":
			img.user = in.args
		case "ENTRYPOINT":
			img.entrypoint = in.args
		case "CMD", "HEALTHCHECK":
			// CMD would add arguments to every run; a HEALTHCHECK would probe an
			// HTTP port that the default stdio server does not open.
			t.Errorf("final stage has %s %s", in.cmd, in.args)
		}
	}
	return img
}

// TestDockerfile: the final stage runs as the numeric non-root user, speaks
// stdio unless told otherwise (docker run -i --rm IMAGE is an MCP server), and
// carries the OCI labels the MCP registry checks against server.json.
func TestDockerfile(t *testing.T) {
	img := parseImage(t)
	labels, env, args, user, entrypoint := img.labels, img.env, img.args, img.user, img.entrypoint

	if want := strconv.Itoa(nonrootUID) + ":" + strconv.Itoa(nonrootUID); user != want {
		t.Errorf("USER = %q, want %q (numeric, so the kubelet can verify runAsNonRoot)", user, want)
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || len(ep) != 1 {
		t.Errorf("ENTRYPOINT = %q, want the binary alone in exec form (arguments come from the caller)", entrypoint)
	}
	for k, v := range env {
		if k == "PREFECT_MCP_TRANSPORT" || k == "PREFECT_MCP_DEMO" {
			t.Errorf("ENV %s=%s: the image must default to stdio against the caller's Prefect", k, v)
		}
	}

	sj := readServerJSON(t)
	want := map[string]string{
		"io.modelcontextprotocol.server.name": sj.Name,
		"org.opencontainers.image.source":     sj.Repository.URL,
		"org.opencontainers.image.version":    "${VERSION}",
		"org.opencontainers.image.licenses":   projectLicense,
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("LABEL %s = %q, want %q", k, labels[k], v)
		}
	}
	if !args["VERSION"] {
		t.Error("the final stage must declare ARG VERSION for the version label")
	}
	if !strings.Contains(string(readFile(t, "Dockerfile")), "-X github.com/prefect-mcp/prefect-mcp/internal/cli.Version=${VERSION}") {
		t.Error("the build stage must stamp the binary with the same VERSION as the label")
	}
}

// TestImageDefaultIsStdio runs what `docker run -i --rm IMAGE` runs: the
// entrypoint's arguments with only the image's environment and an empty home.
// It must be an MCP server on stdin/stdout.
func TestImageDefaultIsStdio(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	img := parseImage(t)
	var ep []string
	if err := json.Unmarshal([]byte(img.entrypoint), &ep); err != nil || len(ep) == 0 {
		t.Fatalf("ENTRYPOINT %q", img.entrypoint)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "prefect-mcp")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/prefect-mcp").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, ep[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir}
	for k, v := range img.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	c := mcp.NewClient(&mcp.Implementation{Name: "docker-run", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("initialize over stdio: %v\nstderr: %s", err, stderr.String())
	}
	defer cs.Close()
	if info := cs.InitializeResult().ServerInfo; info == nil || info.Name != "prefect-mcp" {
		t.Errorf("serverInfo %+v", info)
	}
	if res, err := cs.ListTools(ctx, nil); err != nil || len(res.Tools) == 0 {
		t.Errorf("tools/list: %v", err)
	}
}

// probe is the part of a Kubernetes probe the manifest test reads.
type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
	TCPSocket *struct{} `yaml:"tcpSocket"`
}

// TestKubernetesManifest: the pod runs as the numeric non-root user (a named
// user with runAsNonRoot is refused by the kubelet), asks for HTTP, and
// probes liveness by TCP, readiness by HTTP.
func TestKubernetesManifest(t *testing.T) {
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, "deploy/kubernetes/prefect-mcp.yaml")))
	found := false
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Template struct {
					Spec struct {
						SecurityContext struct {
							RunAsNonRoot *bool `yaml:"runAsNonRoot"`
							RunAsUser    *int  `yaml:"runAsUser"`
							RunAsGroup   *int  `yaml:"runAsGroup"`
						} `yaml:"securityContext"`
						Containers []struct {
							Image           string   `yaml:"image"`
							Command         []string `yaml:"command"`
							Args            []string `yaml:"args"`
							LivenessProbe   probe    `yaml:"livenessProbe"`
							ReadinessProbe  probe    `yaml:"readinessProbe"`
							SecurityContext struct {
								RunAsUser                *int  `yaml:"runAsUser"`
								AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
								ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
							} `yaml:"securityContext"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		if doc.Kind != "Deployment" {
			continue
		}
		found = true
		pod := doc.Spec.Template.Spec
		sc := pod.SecurityContext
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Error("pod securityContext.runAsNonRoot must be true")
		}
		if sc.RunAsUser == nil || *sc.RunAsUser != nonrootUID || sc.RunAsGroup == nil || *sc.RunAsGroup != nonrootUID {
			t.Errorf("pod securityContext runAsUser/runAsGroup must be %d", nonrootUID)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%d containers, want 1", len(pod.Containers))
		}
		c := pod.Containers[0]
		if len(c.Command) > 0 {
			t.Errorf("command %v overrides the image's entrypoint", c.Command)
		}
		if !hasTransportHTTP(c.Args) {
			t.Errorf("args %v must contain --transport http (the image speaks stdio by default)", c.Args)
		}
		if c.SecurityContext.RunAsUser != nil && *c.SecurityContext.RunAsUser != nonrootUID {
			t.Errorf("container runAsUser %d, want %d", *c.SecurityContext.RunAsUser, nonrootUID)
		}
		if p := c.SecurityContext.AllowPrivilegeEscalation; p == nil || *p {
			t.Error("allowPrivilegeEscalation must be false")
		}
		if r := c.SecurityContext.ReadOnlyRootFilesystem; r == nil || !*r {
			t.Error("readOnlyRootFilesystem must be true")
		} // At --max-connections a new connection waits in the accept queue, so
		// an HTTP probe times out while the TCP connect succeeds
		// (internal/httpserver TestConnectionLimit): readiness must be HTTP
		// (a full replica leaves rotation), liveness TCP (it is not restarted).
		if c.LivenessProbe.TCPSocket == nil || c.LivenessProbe.HTTPGet != nil {
			t.Error("livenessProbe must be a tcpSocket probe: an HTTP one restarts a replica that is only at its connection cap")
		}
		if c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Error("readinessProbe must GET /readyz")
		}

	}
	if !found {
		t.Fatal("no Deployment in deploy/kubernetes/prefect-mcp.yaml")
	}
}

// TestComposeFile: the compose service asks for HTTP, runs as the numeric user
// and checks health (which the image itself does not, as it defaults to stdio).
func TestComposeFile(t *testing.T) {
	var f struct {
		Services map[string]struct {
			Image       string   `yaml:"image"`
			Entrypoint  []string `yaml:"entrypoint"`
			Command     []string `yaml:"command"`
			User        string   `yaml:"user"`
			ReadOnly    bool     `yaml:"read_only"`
			CapDrop     []string `yaml:"cap_drop"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(readFile(t, "deploy/compose.yaml"), &f); err != nil {
		t.Fatal(err)
	}
	s, ok := f.Services["prefect-mcp"]
	if !ok {
		t.Fatal("no prefect-mcp service")
	}
	if len(s.Entrypoint) > 0 {
		t.Errorf("entrypoint %v overrides the image's", s.Entrypoint)
	}
	if !hasTransportHTTP(s.Command) {
		t.Errorf("command %v must contain --transport http", s.Command)
	}
	if want := strconv.Itoa(nonrootUID) + ":" + strconv.Itoa(nonrootUID); s.User != want {
		t.Errorf("user %q, want %q", s.User, want)
	}
	if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
		t.Error("want read_only: true and cap_drop: [ALL]")
	}
	if want := []string{"CMD", "/usr/local/bin/prefect-mcp", "healthcheck"}; !slices.Equal(s.Healthcheck.Test, want) {
		t.Errorf("healthcheck %v, want %v", s.Healthcheck.Test, want)
	}
}

func hasTransportHTTP(args []string) bool {
	for i, a := range args {
		if a == "--transport=http" || (a == "--transport" && i+1 < len(args) && args[i+1] == "http") {
			return true
		}
	}
	return false
}

// TestSystemdUnit: the unit asks for HTTP and carries the hardening that
// `systemd-analyze security` looks for. Where systemd-analyze is installed,
// it also verifies the unit and rates its exposure.
func TestSystemdUnit(t *testing.T) {
	const path = "deploy/systemd/prefect-mcp.service"
	src := readFile(t, path)
	service := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		case section == "Service":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("line %q is not key=value", line)
			}
			service[k] = append(service[k], v)
		}
	}

	exec0 := service["ExecStart"]
	if len(exec0) != 1 || !hasTransportHTTP(strings.Fields(exec0[0])) {
		t.Errorf("ExecStart %q must pass --transport http", exec0)
	}
	want := map[string]string{
		"DynamicUser":             "yes",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"ProtectControlGroups":    "yes",
		"RestrictNamespaces":      "yes",
		"SystemCallFilter":        "@system-service",
		"SystemCallArchitectures": "native",
		"LockPersonality":         "yes",
		"UMask":                   "0077",
		"CapabilityBoundingSet":   "",
	}
	for k, v := range want {
		if !slices.Contains(service[k], v) {
			t.Errorf("[Service] %s=%s missing (have %q)", k, v, service[k])
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: parsed checks only")
		return
	}
	// verify wants an executable ExecStart: point it at this test binary.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(unit, bytes.ReplaceAll(src, []byte("/usr/local/bin/prefect-mcp"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify exits 0 even for unknown keys or bad values; it reports them on stderr.
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", unit).CombinedOutput()
	if err != nil {
		t.Logf("systemd-analyze security --offline unavailable: %v\n%s", err, out)
		return
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("systemd-analyze security exposure %s %s, want ≤ 2.0\n%s", m[1], m[2], out)
	}
}

// TestLicenseFile: the licence the image label and the plugin manifest
// declare is the one the repository ships.
func TestLicenseFile(t *testing.T) {
	text, err := os.ReadFile("LICENSE")
	if err != nil {
		t.Fatalf("the labels declare %s but the repository has no LICENSE: %v", projectLicense, err)
	}
	if projectLicense != "Apache-2.0" || !bytes.Contains(text, []byte("Apache License")) || !bytes.Contains(text, []byte("Version 2.0, January 2004")) {
		t.Errorf("LICENSE is not the %s text the labels declare", projectLicense)
	}
}
