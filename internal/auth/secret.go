package auth

import (
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[REDACTED]"

// Secret holds a credential (client secret, access token). Its String,
// GoString, Format, MarshalJSON and LogValue never reveal the value, so a Secret that
// ends up in a log line, an error or a JSON dump stays hidden; call Reveal at
// the one place the value is sent over the wire.
type Secret string

// Reveal returns the credential itself.
func (s Secret) Reveal() string { return string(s) }

// String returns a placeholder, or "" when the secret is unset.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `auth.Secret("` + s.String() + `")` }

// Format prints the placeholder for every verb, including the ones (%d, %x)
// for which fmt would otherwise bypass String.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// MarshalJSON encodes the placeholder.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
