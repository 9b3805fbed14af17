package logging_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/logging"
	"hvmigrate/agent/internal/blob/mem"
	"hvmigrate/agent/internal/blob/retry"
	"hvmigrate/shared/storeerr"
)

type leaky struct{ blob.Store }

func (leaky) ClearPages(context.Context, string, int64, int64) error {
	return &storeerr.Error{Op: "clear pages", Name: "d", Class: storeerr.ErrTransient,
		Err: errors.New(`Put "https://a.blob.core.windows.net/c/d?comp=page&sig=LEAKEDSIG&sp=w": connection reset`)}
}

func TestStore_logsRequestsWithoutSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Debug, JSONFormat: true})
	m := mem.New()
	s := retry.New(logging.New(leaky{m}, log), retry.Config{MaxAttempts: 2, BaseDelay: 1})
	ctx := context.Background()
	if err := s.CreatePageBlob(ctx, "d", 4096); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, 1024))); err != nil {
		t.Fatal(err)
	}
	err := s.ClearPages(ctx, "d", 0, 512)
	t.Log(buf.String())
	if err == nil || strings.Contains(err.Error(), "LEAKEDSIG") || !errors.Is(err, storeerr.ErrTransient) {
		t.Fatalf("err %v", err)
	}
	out := buf.String()
	if strings.Contains(out, "LEAKEDSIG") {
		t.Fatal("log holds the signature")
	}
	crc := fmt.Sprintf(`"crc64":"%016x"`, blob.Checksum(make([]byte, 1024)))
	for _, want := range []string{`"op":"write pages"`, `"bytes":1024`, `"offset":0`, crc, `"attempt":2`, `"@level":"warn"`, `"error":`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}
