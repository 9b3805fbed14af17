package delta

import (
	"bytes"
	"hash/crc64"
	"math/rand/v2"
	"testing"

	"hvmigrate/shared/azcrc"
)

func TestWriter_RoundTrip_randomExtents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		n      int
		maxLen int64
	}{
		{"many small", 400, 8 << 10},
		{"medium", 40, 1 << 20},
		{"large split into chunks", 3, 16 << 20},
		{"single sector", 1, SectorSize},
		{"empty plan", 0, SectorSize},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 42))
			tc := randomCase(r, tt.n, tt.maxLen)
			obj := tc.write(t)
			if err := Verify(bytes.NewReader(obj), int64(len(obj))); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := apply(obj)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if !bytes.Equal(got, tc.model()) {
				t.Fatal("applied object differs from the model")
			}
		})
	}
}

func TestReader_Header_roundTrip(t *testing.T) {
	tc := randomCase(rand.New(rand.NewPCG(1, 1)), 3, 4096)
	tc.hdr.Kind, tc.hdr.LogIDs = KindResync, []ID{{1}, {2}, {3}}
	obj := tc.write(t)
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if h.Kind != KindResync || h.VMID != tc.hdr.VMID || h.DiskID != tc.hdr.DiskID || h.Cycle != 7 ||
		h.PrevCycle != 6 || h.VirtualSize != tc.hdr.VirtualSize || len(h.LogIDs) != 3 || h.LogIDs[2] != (ID{3}) {
		t.Fatalf("header = %+v, want %+v", h, tc.hdr)
	}
	if h.Compression != CompressionZstd || r.ExtentCount() != 3 {
		t.Fatalf("compression %d, count %d", h.Compression, r.ExtentCount())
	}
}

func TestWriter_Store_compressionDecision(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 3))
	tests := []struct {
		name         string
		compressible bool
		comp         Compression
		wantZstd     int64
	}{
		{"random stays raw", false, CompressionZstd, 0},
		{"text is compressed", true, CompressionZstd, 2},
		{"text stays raw without zstd", true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fillData(r, 2*MaxChunk, tt.compressible)
			var buf bytes.Buffer
			hdr := testHeader(16 << 20)
			hdr.Compression = tt.comp
			w, err := NewWriter(&buf, hdr, []Extent{{Offset: 0, Length: int64(len(d)), Kind: Data}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.ReadFrom(bytes.NewReader(d)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			s := w.Stats()
			if s.Compressed != tt.wantZstd || s.Extents != 2 || s.BytesIn != int64(len(d)) {
				t.Fatalf("stats = %+v", s)
			}
			obj := buf.Bytes()
			if err := Verify(bytes.NewReader(obj), int64(len(obj))); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestCRC_Combine_matchesConcatenation(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 7, 512, 4096, 100003} {
		a, b := fillData(r, int64(r.IntN(3000)), false), fillData(r, int64(n), false)
		want := checksum(append(append([]byte(nil), a...), b...))
		if got := crcCombine(checksum(a), checksum(b), int64(n)); got != want {
			t.Fatalf("len(b)=%d: combine = %#x, want %#x", n, got, want)
		}
	}
}

func TestCRC_Checksum_matchesStandardLibrary(t *testing.T) {
	// The standard library with Azure's polynomial is what Azure's own SDK
	// computes for transactional CRC-64 headers.
	table := crc64.MakeTable(azcrc.Poly)
	r := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int64{0, 1, 7, 8, 9, 63, 64, 2047, 2048, 4096, 100003} {
		p := fillData(r, n, false)
		if got, want := checksum(p), crc64.Checksum(p, table); got != want {
			t.Fatalf("len %d: checksum %#x, standard library %#x", n, got, want)
		}
		if got, want := crcUpdate(checksum(p[:n/3]), p[n/3:]), crc64.Checksum(p, table); got != want {
			t.Fatalf("len %d split: %#x, want %#x", n, got, want)
		}
	}
}

func TestCRC_Checksum_publishedCheckValue(t *testing.T) {
	if got := checksum([]byte("123456789")); got != 0xAE8B14860A799888 {
		t.Fatalf("checksum = %#x, want 0xae8b14860a799888", got)
	}
}
