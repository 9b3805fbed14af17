// Package secret holds values that must never reach a log line, an error
// message or a serialised document: SAS tokens, account keys, registration
// keys. A String prints as "redacted" through every formatting path the
// standard library, slog and hclog use; the value comes out only through
// Reveal, which makes each use easy to find in review.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a String prints instead of its value.
const Redacted = "redacted"

// String is a secret string. The zero value is the empty secret.
type String struct {
	value string
}

// New wraps s as a secret.
func New(s string) String {
	return String{value: s}
}

// Reveal returns the secret value. Call it only where the value is sent to
// the party that needs it (an HTTP request, a signing function).
func (s String) Reveal() string {
	return s.value
}

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool {
	return s.value == ""
}

// String implements fmt.Stringer.
func (s String) String() string {
	return Redacted
}

// GoString implements fmt.GoStringer, used by %#v.
func (s String) GoString() string {
	return "secret.String(" + Redacted + ")"
}

// Format implements fmt.Formatter so that every verb and flag (%v, %+v, %s,
// %q, %x, ...) prints the placeholder, never the value.
func (s String) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", Redacted)
	default:
		if verb == 'v' && f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, Redacted)
	}
}

// MarshalText implements encoding.TextMarshaler.
func (s String) MarshalText() ([]byte, error) {
	return []byte(Redacted), nil
}

// MarshalJSON implements json.Marshaler.
func (s String) MarshalJSON() ([]byte, error) {
	return []byte(`"` + Redacted + `"`), nil
}

// LogValue implements slog.LogValuer.
func (s String) LogValue() slog.Value {
	return slog.StringValue(Redacted)
}

// UnmarshalText implements encoding.TextUnmarshaler so that configuration
// files can carry a secret. Marshalling does not round-trip on purpose.
func (s *String) UnmarshalText(b []byte) error {
	s.value = string(b)
	return nil
}
