package azurite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"hvmigrate/integration/azurite"
)

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// TestServer_PageBlobSHA256 hashes a sparse page blob and a snapshot of
// it from their listed ranges and compares with the bytes a plain
// download of the whole blob returns.
func TestServer_PageBlobSHA256(t *testing.T) {
	s := azurite.Start(t)
	ctx := context.Background()
	if err := s.CreateContainer(ctx, "pages"); err != nil {
		t.Fatal(err)
	}
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	const size = 8 << 20
	pb := c.ServiceClient().NewContainerClient("pages").NewPageBlobClient("disk.vhd")
	if _, err := pb.Create(ctx, size, nil); err != nil {
		t.Fatal(err)
	}
	write := func(off int64, b byte, n int) {
		data := bytes.Repeat([]byte{b}, n)
		if _, err := pb.UploadPages(ctx, nopCloser{bytes.NewReader(data)}, blob.HTTPRange{Offset: off, Count: int64(n)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	whole := func(snapshot string) string {
		t.Helper()
		bc := pb.BlobClient()
		if snapshot != "" {
			var err error
			if bc, err = bc.WithSnapshot(snapshot); err != nil {
				t.Fatal(err)
			}
		}
		buf := make([]byte, size)
		if _, err := bc.DownloadBuffer(ctx, buf, nil); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf)
		return hex.EncodeToString(sum[:])
	}
	write(4096, 0xaa, 8192)
	write(5<<20, 0x55, 1<<20)
	snap, err := pb.CreateSnapshot(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(7<<20, 0x11, 512)
	for _, snapshot := range []string{"", *snap.Snapshot} {
		got, err := s.PageBlobSHA256(ctx, "pages", "disk.vhd", snapshot, size)
		if err != nil {
			t.Fatal(err)
		}
		if want := whole(snapshot); got != want {
			t.Fatalf("snapshot %q: sha256 from ranges %s, of the whole blob %s", snapshot, got, want)
		}
	}
	if a, _ := s.PageBlobSHA256(ctx, "pages", "disk.vhd", "", size); a == whole(*snap.Snapshot) {
		t.Fatal("the live blob and the snapshot hash alike: the test cannot tell them apart")
	}
}
