//go:build unix

package settings

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO must be refused, never opened for a blocking read: if this test
// hangs, the refusal is broken.
func TestRefusesFIFO(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
	}{
		{".env", ".env", nil},
		{"prefect.toml", "prefect.toml", nil},
		{"profiles via PREFECT_PROFILES_PATH", "fifo-profiles.toml", map[string]string{"PREFECT_PROFILES_PATH": "fifo-profiles.toml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			path := filepath.Join(work, tt.file)
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skip("mkfifo unsupported:", err)
			}
			_, err := Resolve(Env{Lookup: mapLookup(tt.env), WorkDir: work})
			var e *Error
			if !errors.As(err, &e) || e.File != path || !strings.Contains(e.Reason, "named pipe") {
				t.Fatalf("error = %v, want *Error for %s naming a named pipe", err, path)
			}
		})
	}
}

func TestReadConfigFileRefusesDevices(t *testing.T) {
	_, _, err := readConfigFile("/dev/null")
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Reason, "device") {
		t.Fatalf("error = %v, want a device refusal", err)
	}
}
