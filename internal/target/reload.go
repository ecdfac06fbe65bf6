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
// restart. A failed reload keeps the last good target and logs why; when
// there never was one (the settings were broken from the start), every call
// is answered with the problem until a change to the files fixes it.
type Reloading struct {
	load       LoadFunc
	logger     *slog.Logger
	checkEvery time.Duration
	now        func() time.Time

	mu        sync.Mutex
	current   *Target
	err       error // why the settings cannot be used; only while current is nil
	stamps    []fileStamp
	lastCheck time.Time
}

type fileStamp struct {
	path  string
	mtime time.Time
	size  int64
	found bool
}

// NewReloading loads the first target (which may be nil: nothing
// configured). A load error does not stop the server: it is kept, reported
// by Err and by every Resolve, and the files load named are watched for the
// fix.
func NewReloading(load LoadFunc, logger *slog.Logger, checkEvery time.Duration) *Reloading {
	r := &Reloading{load: load, logger: logger, checkEvery: checkEvery, now: time.Now}
	t, files, err := load()
	r.current, r.err, r.stamps = t, err, stampAll(files)
	return r
}

// Err reports why the settings cannot be used, or nil.
func (r *Reloading) Err() error {
	r.Current()
	return r.settingsErr()
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
		if r.current != nil {
			r.logger.Error("settings reload failed; keeping the previous Prefect target", "why", why, "error", err.Error())
		} else {
			r.err = err
			r.logger.Error("settings reload failed; tools keep reporting the problem", "why", why, "error", err.Error())
		}
		// Re-stamp the files so a broken edit is reported once, and a fix
		// to it (or to a file the error names) is noticed.
		for _, s := range r.stamps {
			files = append(files, s.path)
		}
		r.stamps = stampAll(files)
		return
	}
	r.current, r.err, r.stamps = t, nil, stampAll(files)
	url := ""
	if t != nil {
		url = t.APIURL
	}
	r.logger.Info("settings reloaded", "why", why, "api_url", url)
}

func (r *Reloading) Resolve(ctx context.Context, req Request) (*Target, error) {
	t := r.Current()
	if err := r.settingsErr(); t == nil && err != nil {
		return nil, SettingsError(err)
	}
	return Static{Target: t}.Resolve(ctx, req)
}

func (r *Reloading) settingsErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// SettingsError is what a call answers while the server's own settings
// cannot be read.
func SettingsError(err error) error {
	return errorf("the server's Prefect settings cannot be used, so no call can reach Prefect: %v. "+
		"A fixed settings file is picked up without a restart (a changed environment variable needs one); "+
		"`prefect-mcp config` shows the same", err)
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
