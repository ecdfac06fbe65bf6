package tools_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: stalled
// upstream requests, sessions and fakes must all end with their test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The fake docs MCP server (docstest) keeps stateful sessions that a
		// test may leave open when it restarts the server under the proxy;
		// they belong to the fake, not to prefect-mcp.
		goleak.IgnoreTopFunction("github.com/modelcontextprotocol/go-sdk/mcp.(*streamableServerConn).Read"),
	)
}
