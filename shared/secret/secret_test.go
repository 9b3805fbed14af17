package secret_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/shared/secret"
)

const value = "sv=2024-05-04&sig=TOPSECRETSIGNATURE"

type holder struct {
	Name string
	Key  secret.String
	Ptr  *secret.String
}

func TestString_Format_neverShowsValue(t *testing.T) {
	s := secret.New(value)
	h := holder{Name: "n", Key: s, Ptr: &s}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%-8v", "%d"} {
		for _, arg := range []any{s, h, &h, []secret.String{s}, map[string]secret.String{"k": s}} {
			got := fmt.Sprintf(verb, arg)
			if strings.Contains(got, "TOPSECRET") {
				t.Errorf("%s of %T leaked: %s", verb, arg, got)
			}
		}
	}
	if got := fmt.Sprint(s); got != secret.Redacted {
		t.Errorf("Sprint = %q, want %q", got, secret.Redacted)
	}
	if got := fmt.Sprintf("%q", s); got != `"redacted"` {
		t.Errorf("%%q = %s", got)
	}
}

func TestString_Reveal_returnsValue(t *testing.T) {
	s := secret.New(value)
	if s.Reveal() != value {
		t.Fatalf("Reveal = %q", s.Reveal())
	}
	if s.IsZero() || !(secret.String{}).IsZero() {
		t.Fatal("IsZero wrong")
	}
}

func TestString_MarshalJSON_redacts(t *testing.T) {
	s := secret.New(value)
	b, err := json.Marshal(holder{Name: "n", Key: s, Ptr: &s})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("TOPSECRET")) {
		t.Fatalf("json leaked: %s", b)
	}
	if !bytes.Contains(b, []byte(`"Key":"redacted"`)) {
		t.Fatalf("json = %s", b)
	}
	m, err := s.MarshalText()
	if err != nil || string(m) != secret.Redacted {
		t.Fatalf("MarshalText = %q, %v", m, err)
	}
}

func TestString_UnmarshalText_keepsValue(t *testing.T) {
	var h struct{ Key secret.String }
	if err := json.Unmarshal([]byte(`{"Key":"abc"}`), &h); err != nil {
		t.Fatal(err)
	}
	if h.Key.Reveal() != "abc" {
		t.Fatalf("got %q", h.Key.Reveal())
	}
}

func TestString_LogValue_slogRedacts(t *testing.T) {
	var buf bytes.Buffer
	for _, hd := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(hd).Info("msg", "key", secret.New(value), "holder", holder{Key: secret.New(value)})
	}
	t.Log(buf.String())
	if strings.Contains(buf.String(), "TOPSECRET") {
		t.Fatal("slog leaked the value")
	}
}

func TestString_hclog_redacts(t *testing.T) {
	for _, jsonFormat := range []bool{false, true} {
		var buf bytes.Buffer
		l := hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: jsonFormat, Level: hclog.Trace})
		s := secret.New(value)
		l.Info("connect", "sas", s, "ptr", &s, "holder", holder{Key: s})
		l.With("sas", s).Named("sub").Warn("again", "values", []secret.String{s})
		t.Log(buf.String())
		if strings.Contains(buf.String(), "TOPSECRET") {
			t.Fatalf("hclog (json=%v) leaked the value", jsonFormat)
		}
		if !strings.Contains(buf.String(), secret.Redacted) {
			t.Fatalf("hclog (json=%v) did not print the placeholder", jsonFormat)
		}
	}
}
