package delta

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"
)

// assemble builds an object from a header, table entries and payload with
// every checksum correct, bypassing the Writer's checks.
func assemble(hdr Header, count int64, entries []entry, payload []byte, dataBytes int64) []byte {
	obj := marshalHeader(&hdr, count)
	obj = append(obj, payload...)
	var table []byte
	for i := range entries {
		table = appendEntry(table, &entries[i])
	}
	ft := footer{tableOff: int64(len(obj)), count: count, dataBytes: dataBytes, tableCRC: checksum(table)}
	obj = append(obj, table...)
	obj = append(obj, marshalFooter(&ft)...)
	return binary.LittleEndian.AppendUint64(obj, checksum(obj))
}

// resealHeader recomputes the header CRC and the object CRC after an edit.
func resealHeader(obj []byte) {
	le := binary.LittleEndian
	le.PutUint64(obj[hdrCRC:], checksum(obj[:hdrCRC]))
	le.PutUint64(obj[len(obj)-8:], checksum(obj[:len(obj)-8]))
}

// smallObject returns a small valid object with a raw, a zstd and a zero
// extent.
func smallObject(t testing.TB) []byte {
	r := rand.New(rand.NewPCG(9, 9))
	tc := testCase{hdr: testHeader(64 << 10), plan: []Extent{
		{Offset: 0, Length: 1024, Kind: Data},
		{Offset: 4096, Length: 2048, Kind: Data},
		{Offset: 8192, Length: 8192, Kind: Zero},
	}}
	tc.data = [][]byte{fillData(r, 1024, false), fillData(r, 2048, true), nil}
	obj := tc.write(t)
	if err := Verify(bytes.NewReader(obj), int64(len(obj))); err != nil {
		t.Fatalf("Verify of the valid object: %v", err)
	}
	return obj
}

// allocDuring returns the bytes allocated while f runs.
func allocDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
