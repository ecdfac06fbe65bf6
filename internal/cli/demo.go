package cli

import (
	"log/slog"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/prefecttest"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// startDemo serves the seeded demo workspace from the in-process fake
// Prefect on a loopback port, so demo calls take the same path as real
// ones: HTTP client, read-only transport, retries, decoding. Stopping it
// logs an error if any write ever reached the fake: that would be a bug in
// the read-only guarantee, and the demo is where users try it first.
func startDemo(b target.Builder, spec *openapi.Spec, logger *slog.Logger) (*target.Target, func(), error) {
	fake := prefecttest.New(prefecttest.WithData(prefecttest.Demo(time.Now())), prefecttest.WithSpec(spec))
	t, err := b.Build(target.Credentials{APIURL: fake.URL}, "")
	if err != nil {
		fake.Close()
		return nil, nil, err
	}
	t.Kind, t.UIURL = target.Demo, ""
	return t, func() { stopDemo(fake, logger) }, nil
}

func stopDemo(fake *prefecttest.Server, logger *slog.Logger) {
	fake.Close()
	if w := fake.Writes(); len(w) > 0 {
		logger.Error("the demo workspace received write requests: the read-only guarantee is broken, please report it",
			"writes", len(w), "first", w[0].Method+" "+w[0].Path)
	}
}
