package storagetest

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

func testSnapshots(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	name := ctr + "/vm/disk0.vhd"
	mustCreate(t, s, name, 1<<20)
	v1 := pattern(20, 4096)
	mustPut(t, s, name, 0, v1)
	if err := s.SetSequenceNumber(ctx, name, 3); err != nil {
		t.Fatalf("SetSequenceNumber: %v", err)
	}
	id, err := s.CreateSnapshot(ctx, name, map[string]string{"hvm_cycle": "3"})
	if err != nil || id == "" {
		t.Fatalf("CreateSnapshot: %q, %v", id, err)
	}
	mustPut(t, s, name, 0, pattern(21, 4096))
	snap := readAll(t, s, name, id)
	wantBytes(t, "snapshot", snap[:4096], v1)
	p, err := s.Properties(ctx, name, id)
	if err != nil || p.SequenceNumber != 3 || p.Metadata["hvm_cycle"] != "3" {
		t.Fatalf("snapshot Properties = %+v, %v; want sequence 3 and metadata", p, err)
	}
	id2, err := s.CreateSnapshot(ctx, name, nil)
	if err != nil {
		t.Fatalf("second CreateSnapshot: %v", err)
	}
	list, err := s.ListSnapshots(ctx, name)
	if err != nil || len(list) != 2 || list[0].ID != id || list[1].ID != id2 || list[0].Metadata["hvm_cycle"] != "3" {
		t.Fatalf("ListSnapshots = %+v, %v; want [%s (hvm_cycle=3), %s]", list, err, id, id2)
	}
	if err := s.DeleteSnapshot(ctx, name, id); err != nil {
		t.Fatalf("DeleteSnapshot: %v", err)
	}
	wantErr(t, "delete the snapshot again", s.DeleteSnapshot(ctx, name, id), storeerr.ErrNotFound)
	wantErr(t, "delete without an id", s.DeleteSnapshot(ctx, name, ""), storeerr.ErrInvalid)
	list, err = s.ListSnapshots(ctx, name)
	if err != nil || len(list) != 1 || list[0].ID != id2 {
		t.Fatalf("ListSnapshots after delete = %+v, %v; want [%s]", list, err, id2)
	}
	if _, err := s.Properties(ctx, name, ""); err != nil {
		t.Fatalf("base blob after snapshot delete: %v", err)
	}
}

func testCopy(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	name, dst := ctr+"/src.vhd", ctr+"/copy/dst.vhd"
	mustCreate(t, s, name, 2<<20)
	v1 := pattern(30, 1<<20)
	mustPut(t, s, name, 1<<20, v1)
	id, err := s.CreateSnapshot(ctx, name, nil)
	if err != nil {
		t.Fatalf("CreateSnapshot: %v", err)
	}
	mustPut(t, s, name, 0, pattern(31, 4096))
	if err := s.CopySnapshot(ctx, name, id, dst); err != nil {
		t.Fatalf("CopySnapshot: %v", err)
	}
	wantBytes(t, "copy", readAll(t, s, dst, ""), readAll(t, s, name, id))
	wantErr(t, "copy onto an existing blob", s.CopySnapshot(ctx, name, id, dst), storeerr.ErrExists)
}

func testList(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	for _, n := range []string{"vm1/a", "vm1/b", "vm2/a"} {
		mustCreate(t, s, ctr+"/"+n, 512)
	}
	if err := s.Upload(ctx, ctr+"/vm1/delta", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	got, err := s.List(ctx, ctr+"/vm1/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []storage.BlobInfo{
		{Name: ctr + "/vm1/a", Kind: storage.KindPage, Size: 512},
		{Name: ctr + "/vm1/b", Kind: storage.KindPage, Size: 512},
		{Name: ctr + "/vm1/delta", Kind: storage.KindBlock, Size: 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %+v, want %+v", got, want)
	}
	all, err := s.List(ctx, ctr+"/")
	if err != nil || len(all) != 4 {
		t.Fatalf("List(container) = %d entries, %v; want 4", len(all), err)
	}
	_, err = s.List(ctx, "x")
	wantErr(t, "List without a container", err, storeerr.ErrInvalid)
}

func testMissing(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	name := ctr + "/missing"
	_, err := s.Properties(ctx, name, "")
	wantErr(t, "Properties", err, storeerr.ErrNotFound)
	_, err = s.ReadAt(ctx, name, "", make([]byte, 10), 0)
	wantErr(t, "ReadAt", err, storeerr.ErrNotFound)
	data := make([]byte, 512)
	wantErr(t, "PutPages", s.PutPages(ctx, name, 0, data, storage.CRC64(data), storage.Cond{}), storeerr.ErrNotFound)
	wantErr(t, "SetSequenceNumber", s.SetSequenceNumber(ctx, name, 1), storeerr.ErrNotFound)
	_, err = s.CreateSnapshot(ctx, name, nil)
	wantErr(t, "CreateSnapshot", err, storeerr.ErrNotFound)
	_, err = s.Properties(ctx, "nocontainer/x", "")
	wantErr(t, "Properties in a missing container", err, storeerr.ErrNotFound)
	_, err = s.Properties(ctx, "bad", "")
	wantErr(t, "Properties of a name without container", err, storeerr.ErrInvalid)
}

func testUpload(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	name := ctr + "/deltas/vm/1"
	data := pattern(40, 5<<20+123)
	if err := s.Upload(ctx, name, bytes.NewReader(data)); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	wantErr(t, "Upload again", s.Upload(ctx, name, bytes.NewReader(data)), storeerr.ErrExists)
	o, err := storage.Open(ctx, s, name, "")
	if err != nil || o.Size() != int64(len(data)) {
		t.Fatalf("Open: %v (size %d)", err, o.Size())
	}
	buf := make([]byte, 4<<20)
	if n, err := o.ReadAt(buf, 1<<20+7); n != len(buf) || err != nil {
		t.Fatalf("ReadAt middle: %d, %v", n, err)
	}
	wantBytes(t, "middle range", buf, data[1<<20+7:5<<20+7])
	n, err := o.ReadAt(buf, int64(len(data))-100)
	if n != 100 || err != io.EOF {
		t.Fatalf("ReadAt tail: %d, %v; want 100, io.EOF", n, err)
	}
	if n, err := o.ReadAt(buf[:10], int64(len(data))); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end: %d, %v; want 0, io.EOF", n, err)
	}
	for _, r := range []struct{ off, n int64 }{{0, int64(len(data))}, {3<<20 + 1, 2 << 20}, {int64(len(data)) - 10, 100}} {
		rc, err := s.OpenRange(ctx, name, "", r.off, r.n)
		if err != nil {
			t.Fatalf("OpenRange(%d, %d): %v", r.off, r.n, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read range %d+%d: %v", r.off, r.n, err)
		}
		wantBytes(t, "range", got, data[r.off:min(r.off+r.n, int64(len(data)))])
	}
	_, err = s.OpenRange(ctx, ctr+"/none", "", 0, 10)
	wantErr(t, "OpenRange of a missing blob", err, storeerr.ErrNotFound)
}
