package blob_test

import (
	"context"
	"errors"
	"hash/crc64"
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

func TestChecksum_azurePolynomial(t *testing.T) {
	data := []byte("123456789")
	got := blob.Checksum(data)
	if got == crc64.Checksum(data, crc64.MakeTable(crc64.ISO)) || got == crc64.Checksum(data, crc64.MakeTable(crc64.ECMA)) {
		t.Fatal("checksum uses a standard table, not Azure's")
	}
	if blob.UpdateChecksum(blob.Checksum(data[:4]), data[4:]) != got {
		t.Fatal("UpdateChecksum does not continue Checksum")
	}
	p := blob.NewPayload(data)
	if p.Size != 9 || p.CRC64 != got {
		t.Fatalf("payload %+v", p)
	}
}

func TestCheckPageWrite(t *testing.T) {
	tests := []struct {
		off, n int64
		ok     bool
	}{
		{0, 512, true}, {512, blob.MaxPutPage, true}, {0, blob.MaxPutPage + 512, false},
		{1, 512, false}, {0, 511, false}, {0, 0, false}, {-512, 512, false},
	}
	for _, tt := range tests {
		err := blob.CheckPageWrite("d", tt.off, tt.n)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, storeerr.ErrInvalid)) {
			t.Errorf("CheckPageWrite(%d, %d) = %v", tt.off, tt.n, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"vm1/disk0.vhd": true, "": false, "a\x00b": false, "dir/": false, "x.": false, `a\b`: false,
	} {
		if err := blob.CheckName("op", name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
}

func TestAttempt_context(t *testing.T) {
	ctx := context.Background()
	if blob.Attempt(ctx) != 1 || blob.Attempt(blob.WithAttempt(ctx, 3)) != 3 {
		t.Fatal("attempt not carried")
	}
}
