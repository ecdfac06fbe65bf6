package docsproxy

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLimitedBody(t *testing.T) {
	tests := []struct {
		body    string
		max     int64
		wantErr error
	}{
		{"12345", 5, nil},
		{"1234", 5, nil},
		{"123456", 5, errTooLarge},
	}
	for _, tt := range tests {
		b := &limitedBody{rc: io.NopCloser(strings.NewReader(tt.body)), left: tt.max}
		got, err := io.ReadAll(b)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%q cap %d: err = %v, want %v", tt.body, tt.max, err, tt.wantErr)
		}
		if tt.wantErr == nil && string(got) != tt.body {
			t.Errorf("%q cap %d: read %q", tt.body, tt.max, got)
		}
	}
}
