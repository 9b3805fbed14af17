package vdisk

import (
	"encoding/json"
	"testing"
)

func TestGUID_textRoundTrip(t *testing.T) {
	g := GUID{0x2d, 0xc2, 0x77, 0x66, 0xf6, 0x23, 0x42, 0x00, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08}
	if got := g.String(); got != "2dc27766-f623-4200-9d64-115e9bfd4a08" {
		t.Fatalf("String = %s", got)
	}
	b, err := json.Marshal(Identity{DiskID: g})
	if err != nil {
		t.Fatal(err)
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil || id.DiskID != g {
		t.Fatalf("round trip: %v %v", id, err)
	}
	for _, bad := range []string{`"xyz"`, `"2dc27766"`, `"2dc27766-f623-4200-9d64-115e9bfd4a0800"`} {
		var x GUID
		if err := json.Unmarshal([]byte(bad), &x); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
