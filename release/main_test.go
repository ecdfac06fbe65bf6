package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestVersionFromTag(t *testing.T) {
	for _, tc := range []struct {
		tag, want string
		ok        bool
	}{
		{"v0.1.0", "0.1.0", true},
		{"v1.2.3-rc.1\n", "1.2.3-rc.1", true},
		{"0.1.0", "", false},
		{"v1.2", "", false},
		{"vlatest", "", false},
		{"v1.2.3 ; rm", "", false},
	} {
		got, err := versionFromTag(tc.tag)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("versionFromTag(%q) = %q, %v; want %q, ok %v", tc.tag, got, err, tc.want, tc.ok)
		}
	}
}

func TestReleaseVersion(t *testing.T) {
	for _, tc := range []struct {
		name, flag, tag string
		tagged, dryRun  bool
		want            string // "" means refused
	}{
		{"tag matches server.json", "", "v0.1.0", true, false, "0.1.0"},
		{"tag ahead of server.json", "", "v0.2.0", true, false, ""},
		{"malformed tag", "", "release-1", true, false, ""},
		{"untagged release", "", "", false, false, ""},
		{"untagged dry run", "", "", false, true, "0.1.0"},
		{"flag wins over tag", "0.1.0", "v0.2.0", true, false, "0.1.0"},
		{"flag differs from server.json", "0.3.0", "", false, true, ""},
	} {
		got, err := releaseVersion(tc.flag, tc.tag, tc.tagged, tc.dryRun, "0.1.0")
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("%s: releaseVersion = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestServerJSONVersionMatchesStamp: releasing tag v<server.json version>
// stamps exactly server.json's version, which the image tag repeats.
func TestServerJSONVersionMatchesStamp(t *testing.T) {
	sj, err := readServerVersion("../server.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := versionFromTag("v" + sj)
	if err != nil || got != sj {
		t.Fatalf("tag v%s stamps %q (%v), want %q", sj, got, err, sj)
	}
	raw, err := os.ReadFile("../server.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"ghcr.io/prefect-mcp/prefect-mcp:`+sj+`"`) {
		t.Errorf("server.json's OCI identifier is not tagged %s", sj)
	}
}

// TestArchivesAndChecksums: a packed release reads back, and a changed byte
// in any archive or a missing line in the checksums file fails verification.
func TestArchivesAndChecksums(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Unix(1700000000, 0)
	var files []string
	for _, p := range []platform{{"linux", "amd64"}, {"windows", "arm64"}} {
		bin := []byte("binary for " + p.os + "/" + p.arch)
		licence := archiveBase("1.2.3", p) + "/LICENSE"
		entries := []archiveEntry{{archiveBase("1.2.3", p) + "/" + binaryName(p), 0o755, bin}, {licence, 0o644, []byte("licence text")}}
		var buf bytes.Buffer
		var err error
		if p.os == "windows" {
			err = writeZip(&buf, entries, mtime)
		} else {
			err = writeTarGz(&buf, entries, mtime)
		}
		if err != nil {
			t.Fatal(err)
		}
		name := archiveName("1.2.3", p)
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
		got, err := readBinary(filepath.Join(dir, name), entries[0].name)
		if err != nil || !bytes.Equal(got, bin) {
			t.Fatalf("%s: read back %q, %v", name, got, err)
		}
		if got, _, err := readEntry(filepath.Join(dir, name), licence); err != nil || string(got) != "licence text" {
			t.Errorf("%s: LICENSE read back %q, %v", name, got, err)
		}
		if _, err := readBinary(filepath.Join(dir, name), licence); p.os != "windows" && err == nil {
			t.Errorf("%s: a non-executable file passed as the binary", name)
		}
	}
	if files[1] != "prefect-mcp_1.2.3_windows_arm64.zip" || files[0] != "prefect-mcp_1.2.3_linux_amd64.tar.gz" {
		t.Fatalf("archive names %v", files)
	}
	sums := checksumsName("1.2.3")
	if err := writeChecksums(dir, sums, files); err != nil {
		t.Fatal(err)
	}
	if err := verifyChecksums(dir, sums, 2); err != nil {
		t.Fatalf("fresh release: %v", err)
	}
	if err := verifyChecksums(dir, sums, 3); err == nil {
		t.Error("a checksums file missing an archive verified")
	}
	path := filepath.Join(dir, files[0])
	raw, _ := os.ReadFile(path)
	raw[len(raw)/2] ^= 1
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := verifyChecksums(dir, sums, 2); err == nil || !strings.Contains(err.Error(), files[0]) {
		t.Errorf("a corrupted archive verified: %v", err)
	}
}

// TestCheckBinaryRefusesWrongPlatform: the header check tells platforms apart
// (this test's own executable is the sample).
func TestCheckBinaryRefusesWrongPlatform(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range platforms {
		if p.os == runtime.GOOS && p.arch == runtime.GOARCH {
			continue
		}
		if err := checkBinary(b, p); err == nil {
			t.Errorf("a %s/%s executable passed as %s/%s", runtime.GOOS, runtime.GOARCH, p.os, p.arch)
		}
	}
}
