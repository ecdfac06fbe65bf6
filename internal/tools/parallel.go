package tools

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// parallel runs jobs with at most limit in flight; the first error cancels
// the rest and is returned. Tools fan out upstream reads through it so a
// tool's wall time is close to its slowest request, not their sum.
func parallel(ctx context.Context, limit int, jobs ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for _, job := range jobs {
		g.Go(func() error { return job(ctx) })
	}
	return g.Wait()
}
