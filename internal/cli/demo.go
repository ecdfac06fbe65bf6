package cli

import (
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// startDemo serves the seeded demo workspace from the in-process fake
// Prefect on a loopback port, so demo calls take the same path as real
// ones: HTTP client, read-only transport, retries, decoding.
func startDemo(b target.Builder, spec *openapi.Spec) (*target.Target, func(), error) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(time.Now())), prefecttest.WithSpec(spec))
	t, err := b.Build(target.Credentials{APIURL: fake.URL}, "")
	if err != nil {
		fake.Close()
		return nil, nil, err
	}
	t.Kind, t.UIURL = target.Demo, ""
	return t, fake.Close, nil
}
