package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestShipsNoTestCode checks that the binary links no test scaffolding: the
// demo serves the fake Prefect engine, never its test wrapper (whose
// request log grows without bound and whose faults are not for users).
func TestShipsNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps found only %d packages: %v", len(deps), deps)
	}
	forbidden := []string{
		"net/http/httptest",
		"github.com/prefect-mcp/prefect-mcp/internal/prefecttest",
		"github.com/prefect-mcp/prefect-mcp/internal/auth/authtest",
		"github.com/prefect-mcp/prefect-mcp/internal/docsproxy/docstest",
	}
	for _, f := range forbidden {
		if slices.Contains(deps, f) {
			t.Errorf("the binary imports %s", f)
		}
	}
	if !slices.Contains(deps, "github.com/prefect-mcp/prefect-mcp/internal/fakeprefect") {
		t.Errorf("the binary does not import the fake engine the demo serves; deps: %v", deps)
	}
}
