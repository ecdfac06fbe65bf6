package tools

import (
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
)

// BenchmarkObjectSchema measures building the automation schema per call,
// the reason it is not cached.
func BenchmarkObjectSchema(b *testing.B) {
	spec, err := openapi.Load()
	if err != nil {
		b.Fatal(err)
	}
	for _, action := range []string{"", "run-deployment"} {
		b.Run("action="+action, func(b *testing.B) {
			for b.Loop() {
				if _, err := buildObjectSchema(spec, "AutomationCreate", action); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
