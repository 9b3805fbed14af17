package azcrc

import (
	"hash/crc64"
	"math/rand/v2"
	"testing"
)

func TestChecksum_matchesStandardLibrary(t *testing.T) {
	tab := crc64.MakeTable(Poly)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 7, 8, 63, 511, 4095, 4096, 4097, 65537, 4 << 20, 4<<20 + 13} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		want := crc64.Checksum(b, tab)
		if got := Checksum(b); got != want {
			t.Fatalf("len %d: Checksum %x, want %x", n, got, want)
		}
		if n > 3 {
			if got := Update(Checksum(b[:n/3]), b[n/3:]); got != want {
				t.Fatalf("len %d: Update in two steps %x, want %x", n, got, want)
			}
			if got := Combine(Checksum(b[:n/3]), Checksum(b[n/3:]), int64(n-n/3)); got != want {
				t.Fatalf("len %d: Combine %x, want %x", n, got, want)
			}
		}
	}
}

// TestChecksum_checkValue is the published check value of this CRC
// (CRC-64/NVME) over "123456789".
func TestChecksum_checkValue(t *testing.T) {
	if got := Checksum([]byte("123456789")); got != 0xAE8B14860A799888 {
		t.Fatalf("check value %x", got)
	}
}

func benchmark(b *testing.B, f func([]byte) uint64) {
	buf := make([]byte, 4<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		f(buf)
	}
}

func BenchmarkChecksum_4MiB(b *testing.B) { benchmark(b, Checksum) }

// BenchmarkStandardLibrary_4MiB is the baseline: hash/crc64 with the same
// polynomial.
func BenchmarkStandardLibrary_4MiB(b *testing.B) {
	tab := crc64.MakeTable(Poly)
	benchmark(b, func(p []byte) uint64 { return crc64.Checksum(p, tab) })
}
