package mem_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/mem"
	"hvmigrate/hub/internal/storage/storagetest"
	"hvmigrate/shared/storeerr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStore_conformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) (storage.Store, string) {
		s := mem.New(mem.Config{})
		s.CreateContainer("ctr")
		return s, "ctr"
	})
}

func TestStore_PutPages_violation_reported(t *testing.T) {
	tests := []struct {
		name string
		off  int64
		n    int
	}{
		{"over4MiB", 0, 4<<20 + 512},
		{"unalignedOffset", 512 + 1, 512},
		{"unalignedLength", 0, 1000},
		{"pastEnd", 8<<20 - 512, 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			s := mem.New(mem.Config{OnViolation: func(m string) { got = append(got, m) }})
			s.CreateContainer("ctr")
			if err := s.CreatePageBlob(context.Background(), "ctr/d", 8<<20); err != nil {
				t.Fatal(err)
			}
			data := make([]byte, tt.n)
			err := s.PutPages(context.Background(), "ctr/d", tt.off, data, storage.CRC64(data), storage.Cond{})
			if !errors.Is(err, storeerr.ErrInvalid) || len(got) != 1 {
				t.Fatalf("PutPages: %v, violations %q; want ErrInvalid and one violation", err, got)
			}
		})
	}
}

func TestStore_hooks_failBeforeAndAfter(t *testing.T) {
	boom := errors.New("boom")
	var before, after bool
	s := mem.New(mem.Config{
		Before: func(c mem.Call) error {
			if before && c.Op == "put pages" {
				return boom
			}
			return nil
		},
		After: func(c mem.Call) error {
			if after && c.Op == "put pages" {
				return boom
			}
			return nil
		},
	})
	s.CreateContainer("ctr")
	ctx := context.Background()
	if err := s.CreatePageBlob(ctx, "ctr/d", 4096); err != nil {
		t.Fatal(err)
	}
	data := []byte{1}
	data = append(data, make([]byte, 511)...)
	before = true
	if err := s.PutPages(ctx, "ctr/d", 0, data, storage.CRC64(data), storage.Cond{}); !errors.Is(err, boom) {
		t.Fatalf("before hook: %v", err)
	}
	if b, _ := s.Bytes("ctr/d", ""); b[0] != 0 {
		t.Fatal("a put failed before it ran changed the blob")
	}
	before, after = false, true
	if err := s.PutPages(ctx, "ctr/d", 0, data, storage.CRC64(data), storage.Cond{}); !errors.Is(err, boom) {
		t.Fatalf("after hook: %v", err)
	}
	if b, _ := s.Bytes("ctr/d", ""); b[0] != 1 {
		t.Fatal("a put whose answer was lost did not change the blob")
	}
}
