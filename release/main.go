// Command release builds the release archives: static binaries for linux,
// darwin and windows on amd64 and arm64, stamped with the version, packed as
// tar.gz (zip for windows) with a SHA-256 checksums file, then verified.
//
//	go run ./release                    # on a tag vX.Y.Z: build dist/ for X.Y.Z
//	go run ./release -dry-run           # CI: server.json's version, into a temporary directory
//	go run ./release -version 1.2.3 -out /tmp/dist
//
// Verification (always): every checksum matches, every archive holds one
// binary for its platform (statically linked on linux), and the binary for
// this machine prints the version and answers MCP initialize over stdio with
// the same version in serverInfo. server.json must name the same version.
package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// versionVar is the variable the binary reports as its version when set.
const versionVar = "github.com/prefect-mcp/prefect-mcp/internal/cli.Version"

// platform is one GOOS/GOARCH pair of the release.
type platform struct{ os, arch string }

var platforms = []platform{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

func main() {
	var (
		version = flag.String("version", "", "version to stamp, X.Y.Z (default: from the git tag vX.Y.Z on HEAD; with -dry-run, server.json's)")
		out     = flag.String("out", "", "output directory (default dist, or a temporary directory with -dry-run)")
		dryRun  = flag.Bool("dry-run", false, "build and verify into a temporary directory, then remove it (CI)")
	)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("release: ")

	ctx := context.Background()
	sj, err := readServerVersion("server.json")
	if err != nil {
		log.Fatal(err)
	}
	tag, tagErr := gitOutput(ctx, "describe", "--tags", "--exact-match", "HEAD")
	v, err := releaseVersion(*version, tag, tagErr == nil, *dryRun, sj)
	if err != nil {
		log.Fatal(err)
	}

	dir := *out
	if dir == "" {
		dir = "dist"
		if *dryRun {
			if dir, err = os.MkdirTemp("", "prefect-mcp-release-"); err != nil {
				log.Fatal(err)
			}
			defer os.RemoveAll(dir)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	mtime := sourceTime(ctx)

	start := time.Now()
	var files []string
	for _, p := range platforms {
		t := time.Now()
		name, err := buildArchive(ctx, dir, v, p, mtime)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("built %s in %s", name, time.Since(t).Round(100*time.Millisecond))
		files = append(files, name)
	}
	sums := checksumsName(v)
	if err := writeChecksums(dir, sums, files); err != nil {
		log.Fatal(err)
	}
	if err := verify(ctx, dir, v); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d archives and %s in %s, verified, in %s", len(files), sums, dir, time.Since(start).Round(time.Second))
}

// releaseVersion picks the version to stamp: the -version flag, else the tag
// on HEAD, else (dry run only) server.json's. It must equal server.json's, so
// the binary, serverInfo, server.json and the image tag say the same.
func releaseVersion(flagVersion, tag string, tagged, dryRun bool, serverJSON string) (string, error) {
	v := flagVersion
	switch {
	case v != "":
	case tagged:
		var err error
		if v, err = versionFromTag(tag); err != nil {
			return "", err
		}
	case dryRun:
		v = serverJSON
	default:
		return "", errors.New("HEAD has no release tag vX.Y.Z: tag it, pass -version, or use -dry-run")
	}
	if v != serverJSON {
		return "", fmt.Errorf("version %s differs from server.json's %s: bump server.json (version and OCI tag) first", v, serverJSON)
	}
	return v, nil
}

// versionFromTag turns the git tag vX.Y.Z into the stamped version X.Y.Z, the
// form server.json and the image tag use.
func versionFromTag(tag string) (string, error) {
	v, ok := strings.CutPrefix(strings.TrimSpace(tag), "v")
	if !ok || !semver.MatchString(v) {
		return "", fmt.Errorf("tag %q is not vX.Y.Z", tag)
	}
	return v, nil
}

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

func readServerVersion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var s struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if !semver.MatchString(s.Version) {
		return "", fmt.Errorf("%s: version %q is not X.Y.Z", path, s.Version)
	}
	return s.Version, nil
}

func gitOutput(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", args...).Output()
	return strings.TrimSpace(string(out)), err
}

// sourceTime is the time stamped on archive entries: SOURCE_DATE_EPOCH, else
// the commit time, so the same commit gives the same archives.
func sourceTime(ctx context.Context) time.Time {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		s, _ = gitOutput(ctx, "log", "-1", "--format=%ct")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC()
	}
	return time.Unix(0, 0).UTC()
}

func archiveBase(v string, p platform) string {
	return fmt.Sprintf("prefect-mcp_%s_%s_%s", v, p.os, p.arch)
}

func archiveName(v string, p platform) string {
	if p.os == "windows" {
		return archiveBase(v, p) + ".zip"
	}
	return archiveBase(v, p) + ".tar.gz"
}

func binaryName(p platform) string {
	if p.os == "windows" {
		return "prefect-mcp.exe"
	}
	return "prefect-mcp"
}

func checksumsName(v string) string { return "prefect-mcp_" + v + "_checksums.txt" }

// docFiles go into every archive beside the binary: the README, and the
// licence text Apache-2.0 (section 4a) requires with each copy.
var docFiles = []string{"README.md", "LICENSE"}

// buildArchive cross-compiles one platform and packs the binary with docFiles.
func buildArchive(ctx context.Context, dir, v string, p platform, mtime time.Time) (string, error) {
	tmp, err := os.MkdirTemp("", "prefect-mcp-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, binaryName(p))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X "+versionVar+"="+v, "-o", bin, "./cmd/prefect-mcp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.os, "GOARCH="+p.arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s/%s: %w", p.os, p.arch, err)
	}
	binData, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	base := archiveBase(v, p)
	entries := []archiveEntry{{base + "/" + binaryName(p), 0o755, binData}}
	for _, doc := range docFiles {
		data, err := os.ReadFile(doc)
		if err != nil {
			return "", err
		}
		entries = append(entries, archiveEntry{base + "/" + doc, 0o644, data})
	}
	name := archiveName(v, p)
	var buf bytes.Buffer
	if p.os == "windows" {
		err = writeZip(&buf, entries, mtime)
	} else {
		err = writeTarGz(&buf, entries, mtime)
	}
	if err != nil {
		return "", err
	}
	return name, os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
}

type archiveEntry struct {
	name string
	mode int64
	data []byte
}

func writeTarGz(w io.Writer, entries []archiveEntry, mtime time.Time) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []archiveEntry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(os.FileMode(e.mode))
		f, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := f.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeChecksums writes `sha256sum -c`-compatible lines, one per archive.
func writeChecksums(dir, name string, files []string) error {
	var b strings.Builder
	for _, f := range slices.Sorted(slices.Values(files)) {
		sum, err := fileSHA256(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, f)
	}
	return os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verify checks the release in dir for version v, as a user downloading it
// would: checksums, archive contents, and the binary for this machine run once.
func verify(ctx context.Context, dir, v string) error {
	if err := verifyChecksums(dir, checksumsName(v), len(platforms)); err != nil {
		return err
	}
	var hostBin []byte
	for _, p := range platforms {
		bin, err := readBinary(filepath.Join(dir, archiveName(v, p)), archiveBase(v, p)+"/"+binaryName(p))
		if err != nil {
			return err
		}
		if err := checkBinary(bin, p); err != nil {
			return fmt.Errorf("%s: %w", archiveName(v, p), err)
		}
		for _, doc := range docFiles {
			got, _, err := readEntry(filepath.Join(dir, archiveName(v, p)), archiveBase(v, p)+"/"+doc)
			if err != nil {
				return err
			}
			if want, err := os.ReadFile(doc); err != nil || !bytes.Equal(got, want) {
				return fmt.Errorf("%s: %s differs from the repository's (%v)", archiveName(v, p), doc, err)
			}
		}
		if p.os == runtime.GOOS && p.arch == runtime.GOARCH {
			hostBin = bin
		}
	}
	if hostBin == nil {
		log.Printf("no archive for %s/%s: binaries checked by header only", runtime.GOOS, runtime.GOARCH)
		return nil
	}
	return runBinary(ctx, hostBin, v)
}

func verifyChecksums(dir, name string, want int) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if !ok || strings.ContainsAny(file, `/\`) {
			return fmt.Errorf("%s: malformed line %q", name, sc.Text())
		}
		got, err := fileSHA256(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		if got != sum {
			return fmt.Errorf("%s: SHA-256 %s, checksums file says %s", file, got, sum)
		}
		n++
	}
	if n != want {
		return fmt.Errorf("%s lists %d archives, want %d", name, n, want)
	}
	return sc.Err()
}

// readBinary returns the one binary an archive must hold, executable.
func readBinary(path, want string) ([]byte, error) {
	data, mode, err := readEntry(path, want)
	if err == nil && !strings.HasSuffix(path, ".zip") && mode&0o111 == 0 {
		return nil, fmt.Errorf("%s: %s is not executable", path, want)
	}
	return data, err
}

// readEntry returns a file of an archive and its mode.
func readEntry(path, want string) ([]byte, int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		for _, f := range zr.File {
			if f.Name == want {
				rc, err := f.Open()
				if err != nil {
					return nil, 0, err
				}
				defer rc.Close()
				data, err := io.ReadAll(rc)
				return data, int64(f.Mode().Perm()), err
			}
		}
		return nil, 0, fmt.Errorf("%s: no %s", path, want)
	}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, 0, fmt.Errorf("%s: no %s", path, want)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		if h.Name == want {
			data, err := io.ReadAll(tr)
			return data, h.Mode, err
		}
	}
}

// checkBinary reads the executable's header: the right format and machine,
// and on linux no dynamic loader (a static binary runs on any distribution).
func checkBinary(b []byte, p platform) error {
	r := bytes.NewReader(b)
	switch p.os {
	case "linux":
		f, err := elf.NewFile(r)
		if err != nil {
			return err
		}
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[p.arch]
		if f.Machine != want {
			return fmt.Errorf("ELF machine %v, want %v", f.Machine, want)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP || prog.Type == elf.PT_DYNAMIC {
				return errors.New("dynamically linked (want CGO_ENABLED=0, static)")
			}
		}
	case "darwin":
		f, err := macho.NewFile(r)
		if err != nil {
			return err
		}
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[p.arch]
		if f.Cpu != want {
			return fmt.Errorf("Mach-O CPU %v, want %v", f.Cpu, want)
		}
	case "windows":
		f, err := pe.NewFile(r)
		if err != nil {
			return err
		}
		want := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[p.arch]
		if f.Machine != want {
			return fmt.Errorf("PE machine %#x, want %#x", f.Machine, want)
		}
	}
	return nil
}

// runBinary runs the host's binary from the archive: `version` prints v, and
// an MCP client over stdio gets v as serverInfo.version from initialize.
func runBinary(ctx context.Context, bin []byte, v string) error {
	tmp, err := os.MkdirTemp("", "prefect-mcp-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "prefect-mcp"+map[bool]string{true: ".exe"}[runtime.GOOS == "windows"])
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		return err
	}
	// An empty home and working directory: no profile or .env of this machine is read.
	env := []string{"HOME=" + tmp, "USERPROFILE=" + tmp, "PATH=" + os.Getenv("PATH")}

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Env, cmd.Dir = env, tmp
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("prefect-mcp version: %w", err)
	}
	if f := strings.Fields(string(out)); len(f) < 2 || f[0] != "prefect-mcp" || f[1] != v {
		return fmt.Errorf("prefect-mcp version printed %q, want prefect-mcp %s", out, v)
	}

	cmd = exec.CommandContext(ctx, path, "--no-docs")
	cmd.Env, cmd.Dir = env, tmp
	client := mcp.NewClient(&mcp.Implementation{Name: "release-check", Version: v}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return fmt.Errorf("MCP initialize over stdio: %w", err)
	}
	defer cs.Close()
	info := cs.InitializeResult().ServerInfo
	if info == nil || info.Name != "prefect-mcp" || info.Version != v {
		return fmt.Errorf("initialize answered serverInfo %+v, want prefect-mcp %s", info, v)
	}
	log.Printf("%s/%s binary: `version` and MCP initialize over stdio report %s", runtime.GOOS, runtime.GOARCH, v)
	return nil
}
