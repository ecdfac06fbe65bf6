package cli

import (
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
)

// TestHungAPIAnswersWithTheServersDeadline: a Prefect that sends headers and
// then nothing, a per-attempt timeout of an hour, and a real MCP client over
// Streamable HTTP: the call ends at --call-timeout with the server's message.
func TestHungAPIAnswersWithTheServersDeadline(t *testing.T) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(now)), prefecttest.WithFault(prefecttest.Fault{Kind: prefecttest.FaultStall}))
	defer fake.Close()
	base, stderr := startHTTP(t, map[string]string{"PREFECT_API_URL": fake.URL, "PREFECT_API_REQUEST_TIMEOUT": "3600"}, "--call-timeout", "300ms")
	res, err := callWith(t, base+"/mcp", nil)
	if err != nil {
		t.Fatalf("call: %v (stderr %s)", err, stderr())
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if !res.IsError || !strings.Contains(text, "per-call deadline of 300ms") || !strings.Contains(text, "did not answer in time") {
		t.Fatalf("isError %v: %s", res.IsError, text)
	}
}
