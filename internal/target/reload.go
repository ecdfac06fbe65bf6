package target

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"
)

// LoadFunc resolves the server's own target from its settings and names the
// files those settings were read from.
type LoadFunc func() (t *Target, files []string, err error)

// Reloading serves the server's own target and re-resolves it when one of
// its settings files changes (checked at most once per CheckEvery, on use) or
// when Reload is called (SIGHUP), so rotated credentials apply without a
// restart. A failed reload keeps the last good target and logs why.
type Reloading struct {
	load       LoadFunc
	logger     *slog.Logger
	checkEvery time.Duration
	now        func() time.Time

	mu        sync.Mutex
	current   *Target
	stamps    []fileStamp
	lastCheck time.Time
}

type fileStamp struct {
	path  string
	mtime time.Time
	size  int64
	found bool
}

// NewReloading loads the first target (which may be nil: nothing configured).
func NewReloading(load LoadFunc, logger *slog.Logger, checkEvery time.Duration) (*Reloading, error) {
	r := &Reloading{load: load, logger: logger, checkEvery: checkEvery, now: time.Now}
	t, files, err := load()
	if err != nil {
		return nil, err
	}
	r.current, r.stamps = t, stampAll(files)
	return r, nil
}

// Current returns the target in force, reloading first if a file changed.
func (r *Reloading) Current() *Target {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.lastCheck) >= r.checkEvery {
		r.lastCheck = now
		if changed(r.stamps) {
			r.reloadLocked("a settings file changed")
		}
	}
	return r.current
}

// Reload re-resolves the settings now.
func (r *Reloading) Reload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reloadLocked("reload requested")
}

func (r *Reloading) reloadLocked(why string) {
	t, files, err := r.load()
	if err != nil {
		r.logger.Error("settings reload failed; keeping the previous Prefect target", "why", why, "error", err.Error())
		// Re-stamp the same files so a broken edit is reported once, and a
		// fix to it is noticed.
		paths := make([]string, len(r.stamps))
		for i, s := range r.stamps {
			paths[i] = s.path
		}
		r.stamps = stampAll(paths)
		return
	}
	r.current, r.stamps = t, stampAll(files)
	url := ""
	if t != nil {
		url = t.APIURL
	}
	r.logger.Info("settings reloaded", "why", why, "api_url", url)
}

func (r *Reloading) Resolve(ctx context.Context, req Request) (*Target, error) {
	return Static{Target: r.Current()}.Resolve(ctx, req)
}

func stampAll(files []string) []fileStamp {
	out := make([]fileStamp, 0, len(files))
	for _, f := range slices.Compact(slices.Sorted(slices.Values(files))) {
		out = append(out, stamp(f))
	}
	return out
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{path: path}
	}
	return fileStamp{path: path, mtime: fi.ModTime(), size: fi.Size(), found: true}
}

func changed(stamps []fileStamp) bool {
	for _, s := range stamps {
		if stamp(s.path) != s {
			return true
		}
	}
	return false
}
