package azure_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/azure"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/storeerr"
)

// These tests record what the emulator enforces. They assert the observed
// behaviour so that an emulator upgrade that changes it is noticed.

func TestAzurite_crc64Mismatch(t *testing.T) {
	srv := azurite.Start(t)
	s := newStore(t, srv, fullPerms, nil)
	ctx := context.Background()
	if err := s.CreatePageBlob(ctx, "d", 8192); err != nil {
		t.Fatal(err)
	}
	p := blob.NewPayload(bytes.Repeat([]byte{7}, 1024))
	p.CRC64 ^= 0xff
	err := s.WritePages(ctx, "d", 0, p)
	t.Logf("Put Page with a wrong CRC-64: %v", err)
	got, _ := s.ReadBlob(ctx, "d")
	t.Logf("bytes landed: %v", got[0] == 7)
	if err != nil {
		t.Fatalf("emulator now checks CRC-64 (%v): update the package doc and enable the checksum suite cases", err)
	}
	id := "block-000001"
	err = s.StageBlock(ctx, "o", id, p)
	t.Logf("Put Block with a wrong CRC-64: %v", err)
}

func TestAzurite_putPagePastEnd(t *testing.T) {
	srv := azurite.Start(t)
	s := newStore(t, srv, fullPerms, nil)
	ctx := context.Background()
	if err := s.CreatePageBlob(ctx, "d", 8192); err != nil {
		t.Fatal(err)
	}
	err := s.WritePages(ctx, "d", 8192-512, blob.NewPayload(bytes.Repeat([]byte{9}, 1024)))
	p, _ := s.Properties(ctx, "d")
	got, _ := s.ReadBlob(ctx, "d")
	t.Logf("Put Page crossing the end: %s; size after %d; last page written %v", code(err), p.Size, got[8191] == 9)
	if err != nil {
		t.Fatalf("emulator now refuses writes past the end (%v): update the package doc and the suite options", err)
	}
}

func TestAzurite_ifNoneMatchOnCommit(t *testing.T) {
	srv := azurite.Start(t)
	s := newStore(t, srv, fullPerms, nil)
	ctx := context.Background()
	bb := s.client.ServiceClient().NewContainerClient(s.container).NewBlockBlobClient("o")
	if _, err := bb.UploadBuffer(ctx, []byte("first"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.StageBlock(ctx, "o", "block-000001", blob.NewPayload([]byte("second"))); err != nil {
		t.Fatal(err)
	}
	err := s.CommitBlocks(ctx, "o", []string{"block-000001"})
	t.Logf("commit with If-None-Match: * over an existing blob: %v", err)
	_, raw := bb.CommitBlockList(ctx, []string{"YmxvY2stMDAwMDAx"}, &blockblob.CommitBlockListOptions{
		AccessConditions: &azblob.AccessConditions{ModifiedAccessConditions: &azblob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}})
	t.Logf("raw answer of the service: %s", code(raw))
	if !errors.Is(err, storeerr.ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	got, _ := s.ReadBlob(ctx, "o")
	if string(got) != "first" {
		t.Fatalf("existing blob overwritten: %q", got)
	}
}

func TestAzurite_createOnlySAS(t *testing.T) {
	srv := azurite.Start(t)
	ctx := context.Background()
	admin := newStore(t, srv, fullPerms, nil)
	ctr := admin.client.ServiceClient().NewContainerClient(admin.container)
	if _, err := ctr.NewBlockBlobClient("existing").UploadBuffer(ctx, []byte("first"), nil); err != nil {
		t.Fatal(err)
	}
	createOnly := func(name string) *blockblob.Client {
		u, err := srv.BlobSAS(admin.container, name, sas.BlobPermissions{Create: true})
		if err != nil {
			t.Fatal(err)
		}
		c, err := newSASBlockClient(srv, u)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	_, err := createOnly("new").UploadBuffer(ctx, []byte("new"), nil)
	t.Logf("create-only SAS, Put Blob of a new blob: %s", code(err))
	if err != nil {
		t.Errorf("create-only SAS cannot create a new blob: %v", err)
	}
	_, err = createOnly("existing").UploadBuffer(ctx, []byte("overwritten"), nil)
	got, _ := admin.ReadBlob(ctx, "existing")
	t.Logf("create-only SAS, Put Blob over an existing blob: %s; content now %q", code(err), got)
	if !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) || string(got) != "first" {
		t.Errorf("create-only SAS overwrote an existing blob (%v, %q)", err, got)
	}
	_, err = createOnly("staged").StageBlock(ctx, "YmxvY2s=", streaming.NopCloser(bytes.NewReader([]byte("x"))), nil)
	t.Logf("create-only SAS, Put Block: %s", code(err))
	if !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("Put Block with a create-only SAS: %v", err)
	}

	u, _ := srv.BlobSAS(admin.container, "p", sas.BlobPermissions{Create: true})
	ps, err := azure.New(config(srv, u))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("create-only SAS, create page blob: %s", code(ps.CreatePageBlob(ctx, "p", 4096)))
	t.Logf("create-only SAS, Put Page: %s", code(ps.WritePages(ctx, "p", 0, blob.NewPayload(make([]byte, 512)))))
	_, err = ps.Properties(ctx, "p")
	t.Logf("create-only SAS, Get Properties: %s", code(err))
	if !errors.Is(err, storeerr.ErrDenied) {
		t.Errorf("Get Properties with a create-only SAS: %v", err)
	}
}

// code returns a short description of an SDK or store error.
func code(err error) string {
	var be *storeerr.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &be):
		return be.Error()
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("%d %s", re.StatusCode, re.ErrorCode)
	}
	return err.Error()
}

func TestAzurite_sequenceNumberCondition(t *testing.T) {
	srv := azurite.Start(t)
	s := newStore(t, srv, fullPerms, nil)
	ctx := context.Background()
	if err := s.CreatePageBlob(ctx, "d", 8192); err != nil {
		t.Fatal(err)
	}
	pb := s.client.ServiceClient().NewContainerClient(s.container).NewPageBlobClient("d")
	if _, err := pb.UpdateSequenceNumber(ctx, &pageblob.UpdateSequenceNumberOptions{
		ActionType: to.Ptr(pageblob.SequenceNumberActionTypeUpdate), SequenceNumber: to.Ptr(int64(5)),
	}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Properties(ctx, "d")
	if err != nil || p.SequenceNumber != 5 {
		t.Fatalf("properties %+v, %v", p, err)
	}
	cond := func(c pageblob.SequenceNumberAccessConditions) error {
		_, err := pb.UploadPages(ctx, streaming.NopCloser(bytes.NewReader(make([]byte, 512))),
			azblob.HTTPRange{Offset: 0, Count: 512}, &pageblob.UploadPagesOptions{SequenceNumberAccessConditions: &c})
		return err
	}
	for _, c := range []struct {
		name string
		c    pageblob.SequenceNumberAccessConditions
		fail bool
	}{
		{"le 4", pageblob.SequenceNumberAccessConditions{IfSequenceNumberLessThanOrEqualTo: to.Ptr(int64(4))}, true},
		{"le 5", pageblob.SequenceNumberAccessConditions{IfSequenceNumberLessThanOrEqualTo: to.Ptr(int64(5))}, false},
		{"lt 5", pageblob.SequenceNumberAccessConditions{IfSequenceNumberLessThan: to.Ptr(int64(5))}, true},
		{"eq 6", pageblob.SequenceNumberAccessConditions{IfSequenceNumberEqualTo: to.Ptr(int64(6))}, true},
		{"eq 5", pageblob.SequenceNumberAccessConditions{IfSequenceNumberEqualTo: to.Ptr(int64(5))}, false},
	} {
		err := cond(c.c)
		t.Logf("Put Page if-sequence-number %s: %v", c.name, bloberrorCode(err))
		if (err != nil) != c.fail || (c.fail && !bloberror.HasCode(err, bloberror.SequenceNumberConditionNotMet)) {
			t.Errorf("%s: err %v, want failure=%v", c.name, err, c.fail)
		}
	}
}

func bloberrorCode(err error) string {
	if err == nil {
		return "ok"
	}
	for _, c := range []bloberror.Code{bloberror.SequenceNumberConditionNotMet, bloberror.ConditionNotMet} {
		if bloberror.HasCode(err, c) {
			return string(c)
		}
	}
	return err.Error()
}
