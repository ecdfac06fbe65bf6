package tools

import (
	"context"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// The tools build every Prefect read with package prefect's read vocabulary
// (prefect.Body, prefect.Where, prefect.AnyOf, prefect.IDIn, prefect.After,
// …; TestReadVocabularyInUse keeps hand-built filters out). These adapters
// give it the call's client.

// apiMaxLimit is Prefect's cap on `limit` in every filter body.
const apiMaxLimit = prefect.MaxLimit

// postPage is prefect.PostPage on the call's client: every list tool pages
// through it.
func postPage[T any](ctx context.Context, c *call, path string, body prefect.Body, limit, offset int) ([]T, bool, error) {
	return prefect.PostPage[T](ctx, c.target.Client, path, body, limit, offset)
}

// namesByID is prefect.NamesByID on the call's client.
func (c *call) namesByID(ctx context.Context, kind string, ids []string) (map[string]string, error) {
	return prefect.NamesByID(ctx, c.target.Client, kind, ids)
}
