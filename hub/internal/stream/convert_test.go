package stream

import (
	"errors"
	"testing"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

func TestEventFromProto_sourceHashes(t *testing.T) {
	ok := &hubv1.Event{Id: "h1", Kind: &hubv1.Event_SourceHashes{SourceHashes: &hubv1.SourceHashes{
		VmId: "vm1", DiskId: "d1", Cycle: 9, ChunkBytes: 1 << 20, FirstChunk: 4, Sha256: []string{"ab", ""}}}}
	ev, err := eventFromProto(ok)
	if err != nil || ev.SourceHashes == nil || ev.vmID() != "vm1" || ev.Kind() != "source_hashes" ||
		ev.SourceHashes.FirstChunk != 4 || len(ev.SourceHashes.SHA256) != 2 || ev.SourceHashes.Cycle != 9 {
		t.Fatalf("converted %+v, %v", ev, err)
	}
	tooMany := &hubv1.Event{Id: "h2", Kind: &hubv1.Event_SourceHashes{SourceHashes: &hubv1.SourceHashes{
		VmId: "vm1", Sha256: make([]string, maxHashesPerEvent+1)}}}
	if _, err := eventFromProto(tooMany); !errors.Is(err, ErrInvalid) {
		t.Fatalf("%d hashes in one event: err = %v, want ErrInvalid", maxHashesPerEvent+1, err)
	}
}
