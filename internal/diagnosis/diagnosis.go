// Package diagnosis answers the diagnosis questions (why did this run fail,
// is it still alive, why is nothing starting) in three steps:
//
//   - facts: bounded reads of the Prefect API (a fixed number of requests,
//     whatever the size of the workspace), gathered into plain structs;
//   - rules: pure functions from facts to a verdict (cause, summary,
//     evidence, next steps, ruled out), tested on facts alone;
//   - rendering: Fit keeps a verdict within its byte budget.
//
// It imports only the Prefect client and types and the formatting and tool
// name packages; the MCP tool definitions (package tools) call it.
//
// A new failure class is one rule (a function in the run rules' table), a
// fact if it needs one, and one row in the rules' table test.
package diagnosis

import (
	"context"
	"net/url"

	"golang.org/x/sync/errgroup"
)

// API is the part of the Prefect client the facts read through.
type API interface {
	Get(ctx context.Context, path string, q url.Values, out any) error
	Post(ctx context.Context, path string, body, out any) error
}

// Parallel is how many reads of one diagnosis run at once.
const Parallel = 6

// Budget is the byte budget of one diagnosis answer.
const Budget = 4 << 10

func parallel(ctx context.Context, jobs ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(Parallel)
	for _, job := range jobs {
		g.Go(func() error { return job(ctx) })
	}
	return g.Wait()
}
