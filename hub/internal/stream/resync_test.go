package stream

import (
	"errors"
	"strings"
	"testing"
	"time"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/secret"
)

func TestEventFromProto_resyncHashes(t *testing.T) {
	ok := &hubv1.Event{Id: "r1", Kind: &hubv1.Event_ResyncHashes{ResyncHashes: &hubv1.ResyncHashes{
		VmId: "vm1", DiskId: "d1", Cycle: 5, RequestId: "q1", ChunkBytes: 64 << 10, FirstChunk: 2, Sha256: []string{"ab", ""}}}}
	ev, err := eventFromProto(ok)
	if err != nil || ev.ResyncHashes == nil || ev.vmID() != "vm1" || ev.Kind() != "resync_hashes" ||
		ev.ResyncHashes.RequestID != "q1" || ev.ResyncHashes.FirstChunk != 2 || len(ev.ResyncHashes.SHA256) != 2 {
		t.Fatalf("converted %+v, %v", ev, err)
	}
	tests := []struct {
		name string
		h    *hubv1.ResyncHashes
	}{
		{"too_many_hashes", &hubv1.ResyncHashes{VmId: "vm1", RequestId: "q", Sha256: make([]string, maxHashesPerEvent+1)}},
		{"no_request", &hubv1.ResyncHashes{VmId: "vm1"}},
		{"long_request", &hubv1.ResyncHashes{VmId: "vm1", RequestId: strings.Repeat("q", maxIDLen+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := eventFromProto(&hubv1.Event{Id: "r2", Kind: &hubv1.Event_ResyncHashes{ResyncHashes: tt.h}}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCommandToProto_resyncRanges(t *testing.T) {
	exp := time.Unix(1700000000, 0)
	c := Command{ID: "c1", ResyncRanges: &ResyncRanges{VMID: "vm1", DiskID: "d1", Cycle: 5, RequestID: "q1", Part: 1, Parts: 2,
		Ranges: []ByteRange{{Offset: 0, Length: 4096}, {Offset: 65536, Length: 65536, Zero: true}},
		Grant:  &SASGrant{DiskID: "d1", Purpose: "resync", URL: secret.New("https://a/c/vm/x?sig=s"), ExpiresAt: exp}}}
	pc, err := commandToProto(c)
	if err != nil {
		t.Fatal(err)
	}
	r := pc.GetResyncRanges()
	if commandKind(pc) != "resync_ranges" || r.GetRequestId() != "q1" || r.GetPart() != 1 || r.GetParts() != 2 ||
		len(r.GetRanges()) != 2 || !r.GetRanges()[1].GetZero() || r.GetSas().GetUrl() != "https://a/c/vm/x?sig=s" ||
		r.GetSas().GetExpiresUnix() != exp.Unix() {
		t.Fatalf("wire form %v", pc)
	}
	full, err := commandToProto(Command{ID: "c2", ResyncRanges: &ResyncRanges{VMID: "vm1", DiskID: "d1", FullCopy: true}})
	if err != nil || !full.GetResyncRanges().GetFullCopy() || full.GetResyncRanges().GetSas() != nil {
		t.Fatalf("full copy: %v, %v", full, err)
	}
}
