package payload_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"hvmigrate/setup/internal/payload"
)

func TestPayload_Check(t *testing.T) {
	p := payload.New(fstest.MapFS{
		"hvm-agent":    {Data: []byte("agent")},
		"hvm-provider": {Data: nil},
		"README.md":    {Data: []byte("placeholder")},
	})
	if err := p.Check("hvm-agent"); err != nil {
		t.Errorf("present binary: %v", err)
	}
	err := p.Check("hvm-agent", "hvm-provider", "hvm-setup")
	if !errors.Is(err, payload.ErrMissing) {
		t.Fatalf("err = %v, want ErrMissing", err)
	}
	if !strings.Contains(err.Error(), "[hvm-provider hvm-setup]") {
		t.Errorf("error does not name the empty and the absent binary: %v", err)
	}
}

func TestPayload_Open(t *testing.T) {
	p := payload.New(fstest.MapFS{"hvm-agent": {Data: []byte("agent")}})
	f, err := p.Open("hvm-agent")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, _ := io.ReadAll(f); string(b) != "agent" {
		t.Errorf("read %q", b)
	}
	if _, err := p.Open("hvm-provider"); err == nil {
		t.Error("opened an absent binary")
	}
}
