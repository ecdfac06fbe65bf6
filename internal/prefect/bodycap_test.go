package prefect

import (
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// endless is a body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestReadAtMost(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		most int64
		hint int64
	}{
		{"empty", "", 10, 0},
		{"short", "abc", 10, 0},
		{"exactly most", "0123456789", 10, 0},
		{"longer than most", "0123456789abcdef", 10, 0},
		{"hint exact", "abc", 10, 3},
		{"hint wrong", "abcdefgh", 10, 2},
		{"large", strings.Repeat("z", 5000), 1 << 20, 0},
	} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tc.body)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := readAtMost(r, tc.most, tc.hint, noCharge)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			want := tc.body[:min(int64(len(tc.body)), tc.most)]
			if string(got) != want {
				t.Errorf("%s (one byte %v): got %q, want %q", tc.name, oneByte, got, want)
			}
		}
	}
	if _, err := readAtMost(iotest.ErrReader(io.ErrUnexpectedEOF), 10, 0, noCharge); err == nil {
		t.Error("a read error was swallowed")
	}
}

// An endless body must cost about twice the cap in allocation, not four
// times (bytes.Buffer doubles past the cap to hold the one extra byte).
func TestReadAtMostAllocationIsBounded(t *testing.T) {
	const most = 8 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	data, err := readAtMost(endless{}, most, 0, noCharge)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	bytesRead, perOp := int64(len(data)), after.TotalAlloc-before.TotalAlloc
	t.Logf("%.1f MiB allocated to read %d MiB", float64(perOp)/(1<<20), bytesRead>>20)
	if bytesRead != most {
		t.Fatalf("read %d bytes, want %d", bytesRead, most)
	}
	if perOp > 2*most+64<<10 {
		t.Fatalf("allocated %d bytes for a %d-byte cap", perOp, most)
	}
}

func noCharge(int64) error { return nil }
