package delta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes to Verify and to the reading path the
// hub uses. Neither may panic, hang or allocate without bound, every error
// must wrap a sentinel, and the two must agree on valid objects.
func FuzzReader(f *testing.F) {
	obj := smallObject(f)
	f.Add(obj)
	f.Add(obj[:HeaderSize])
	f.Add([]byte{})
	f.Add(assemble(testHeader(1<<20), 0, nil, nil, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkObject(t, data)
		// Random edits rarely survive the checksums; fix them up so the
		// structural checks behind them are reached too.
		checkObject(t, reseal(bytes.Clone(data)))
	})
}

// checkObject runs Verify and the hub's reading path over data.
func checkObject(t *testing.T, data []byte) {
	verr := Verify(bytes.NewReader(data), int64(len(data)))
	if verr != nil && !isFormatError(verr) {
		t.Fatalf("Verify error wraps no sentinel: %v", verr)
	}
	rerr := readAll(data)
	if rerr != nil && !isFormatError(rerr) {
		t.Fatalf("reader error wraps no sentinel: %v", rerr)
	}
	if verr == nil && rerr != nil {
		t.Fatalf("Verify passed but reading failed: %v", rerr)
	}
}

// reseal recomputes the header, table, footer and object CRCs of obj in
// place, taking the table offset from the footer when it is in range.
func reseal(obj []byte) []byte {
	if len(obj) < minObjectSize {
		return obj
	}
	le := binary.LittleEndian
	le.PutUint64(obj[hdrCRC:], checksum(obj[:hdrCRC]))
	ft := obj[len(obj)-FooterSize:]
	if off := le.Uint64(ft[8:]); off >= HeaderSize && off <= uint64(len(obj)-FooterSize) {
		le.PutUint64(ft[32:], checksum(obj[off:len(obj)-FooterSize]))
	}
	le.PutUint64(ft[ftCRC:], checksum(ft[:ftCRC]))
	le.PutUint64(ft[ftObjectCRC:], checksum(obj[:len(obj)-8]))
	return obj
}

// readAll reads every extent of data as the hub would.
func readAll(data []byte) error {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	it := r.Extents()
	defer it.Close()
	for {
		e, err := it.Next()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		d, err := it.Data()
		if err != nil {
			return err
		}
		if e.Kind == Data && int64(len(d)) != e.Length {
			return errors.New("data length differs from the extent length")
		}
	}
}

func TestReseal_validObjectUnchanged(t *testing.T) {
	obj := smallObject(t)
	if !bytes.Equal(reseal(bytes.Clone(obj)), obj) {
		t.Fatal("reseal changed a valid object, so it computes some CRC differently")
	}
}
