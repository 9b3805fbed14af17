package hubclient

import (
	"testing"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

func TestConvert_resyncHashesAndRanges(t *testing.T) {
	pe, err := eventToProto(Event{ID: "e1", ResyncHashes: &ResyncHashes{VMID: "vm", DiskID: "d", Cycle: 4, RequestID: "q",
		ChunkBytes: 65536, FirstChunk: 3, SHA256: []string{"ab", ""}}})
	if err != nil {
		t.Fatal(err)
	}
	h := pe.GetResyncHashes()
	if h.GetRequestId() != "q" || h.GetCycle() != 4 || h.GetFirstChunk() != 3 || h.GetChunkBytes() != 65536 || len(h.GetSha256()) != 2 {
		t.Fatalf("wire event %v", pe)
	}
	c, err := commandFromProto(&hubv1.Command{Id: "c1", Kind: &hubv1.Command_ResyncRanges{ResyncRanges: &hubv1.ResyncRanges{
		VmId: "vm", DiskId: "d", Cycle: 4, RequestId: "q", Part: 1, Parts: 3,
		Ranges: []*hubv1.ByteRange{{Offset: 512, Length: 1024}, {Offset: 65536, Length: 65536, Zero: true}},
		Sas:    &hubv1.SasGrant{DiskId: "d", Purpose: "cycle", Url: "https://a/c/vm/x?sig=s", ExpiresUnix: 1700000000}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.ResyncRanges
	if r == nil || r.RequestID != "q" || r.Part != 1 || r.Parts != 3 || len(r.Ranges) != 2 || !r.Ranges[1].Zero ||
		r.Ranges[0] != (ByteRange{Offset: 512, Length: 1024}) || r.Grant == nil || r.Grant.URL.Reveal() != "https://a/c/vm/x?sig=s" {
		t.Fatalf("command %+v", r)
	}
	full, err := commandFromProto(&hubv1.Command{Id: "c2", Kind: &hubv1.Command_ResyncRanges{ResyncRanges: &hubv1.ResyncRanges{FullCopy: true}}})
	if err != nil || !full.ResyncRanges.FullCopy || full.ResyncRanges.Grant != nil {
		t.Fatalf("full copy %+v, %v", full.ResyncRanges, err)
	}
}
