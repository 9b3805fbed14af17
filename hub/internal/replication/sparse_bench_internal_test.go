package replication

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/integration/azurite"
)

// BenchmarkDiffChunks_azurite hashes a snapshot of a 4 GiB replica holding
// 64 MiB of data the way migration verification does, against the
// emulator: every chunk read in full (the comparison without page ranges)
// and through the page ranges.
//
//	go test -run '^$' -bench DiffChunks_azurite -benchtime 1x ./hub/internal/replication/
func BenchmarkDiffChunks_azurite(b *testing.B) {
	const size, chunk, piece = 4 << 30, 4 << 20, 4 << 20
	ctx := context.Background()
	srv := azurite.Start(b)
	cfg := azure.DefaultConfig()
	cfg.Endpoint, cfg.Credential, cfg.RootCAs = srv.Endpoint, azure.SharedKey(srv.Account, srv.Key), srv.RootCAs
	st, err := azure.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := srv.CreateContainer(ctx, "rep"); err != nil {
		b.Fatal(err)
	}
	pd := state.PointDisk{Blob: "rep/vm/disk0.vhd"}
	if err := st.CreatePageBlob(ctx, pd.Blob, size+storage.PageSize); err != nil {
		b.Fatal(err)
	}
	h := DiskHashes{Cycle: 1, ChunkBytes: chunk, SHA256: make([]string, size/chunk)}
	for i := range 16 { // 16 pieces of 4 MiB, one every 256 MiB, half a chunk off
		off := int64(i)*(256<<20) + chunk/2
		data := bytes.Repeat([]byte{byte(i + 1)}, piece)
		if err := st.PutPages(ctx, pd.Blob, off, data, storage.CRC64(data), storage.Cond{}); err != nil {
			b.Fatal(err)
		}
		half := make([]byte, chunk/2)
		h.SHA256[off/chunk] = sha(append(slices.Clone(half), data[:chunk/2]...))
		h.SHA256[off/chunk+1] = sha(append(data[chunk/2:], half...))
	}
	if pd.Snapshot, err = st.CreateSnapshot(ctx, pd.Blob, nil); err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name string
		diff func(*Service) ([]chunkRun, error)
	}{
		{"fullRead", func(s *Service) ([]chunkRun, error) { return fullReadDiff(ctx, s, pd, size, h) }},
		{"pageRanges", func(s *Service) ([]chunkRun, error) { return s.diffChunks(ctx, pd, size, h) }},
	} {
		b.Run(m.name, func(b *testing.B) {
			cs := &countingStore{Store: st}
			s := &Service{blobs: cs}
			for b.Loop() {
				runs, err := m.diff(s)
				if err != nil || len(runs) != 0 {
					b.Fatalf("runs %+v, %v; want none", runs, err)
				}
			}
			b.ReportMetric(float64(cs.readBytes)/float64(b.N)/(1<<20), "MiB-read/op")
			b.ReportMetric(float64(cs.listings)/float64(b.N), "listings/op")
		})
	}
}

// fullReadDiff is diffChunks as it was before page ranges: every byte of
// every chunk read and hashed.
func fullReadDiff(ctx context.Context, s *Service, pd state.PointDisk, size int64, h DiskHashes) ([]chunkRun, error) {
	var out []chunkRun
	buf := make([]byte, min(h.ChunkBytes, verifyBuf))
	for i, want := range h.SHA256 {
		off := int64(i) * h.ChunkBytes
		n := min(h.ChunkBytes, size-off)
		sum := sha256.New()
		zero, err := s.hashRange(ctx, pd, sum, off, n, buf)
		if err != nil {
			return nil, err
		}
		if hex.EncodeToString(sum.Sum(nil)) == want || (want == "" && zero) {
			continue
		}
		out = append(out, chunkRun{Start: off, End: off + n, Zero: want == ""})
	}
	return out, nil
}
