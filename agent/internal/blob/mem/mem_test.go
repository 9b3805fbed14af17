package mem_test

import (
	"context"
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/blobtest"
	"hvmigrate/agent/internal/blob/mem"
)

func TestStore_conformance(t *testing.T) {
	blobtest.Run(t, func(*testing.T) blob.Store { return mem.New() })
}

func TestStore_Stats_countsViolations(t *testing.T) {
	s := mem.New()
	ctx := context.Background()
	if err := s.CreatePageBlob(ctx, "d", 16<<20); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, blob.MaxPutPage))); err != nil {
		t.Fatal(err)
	}
	_ = s.WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, blob.MaxPutPage+512)))
	_ = s.WritePages(ctx, "d", 1, blob.NewPayload(make([]byte, 512)))
	st := s.Stats()
	if st.PutPages != 1 || st.MaxPutPage != blob.MaxPutPage || st.Violations != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStore_SetSequenceNumber(t *testing.T) {
	s := mem.New()
	ctx := context.Background()
	if err := s.CreatePageBlob(ctx, "d", 512); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSequenceNumber("d", 7); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Properties(ctx, "d"); p.SequenceNumber != 7 {
		t.Fatalf("seq %d", p.SequenceNumber)
	}
}
