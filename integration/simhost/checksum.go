package simhost

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"hvmigrate/shared/vdisk"
)

// ChecksumDisks returns the SHA-256 of every disk's virtual content, all
// taken at one instant (guest writes wait meanwhile).
func (d *Daemon) ChecksumDisks(id string) ([]DiskChecksum, error) {
	v, err := d.lookup(id)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checksums()
}

// checksums hashes every disk in parallel; v.mu must be held exclusively.
func (v *vm) checksums() ([]DiskChecksum, error) {
	out := make([]DiskChecksum, len(v.disks))
	errs := make([]error, len(v.disks))
	var wg sync.WaitGroup
	for i, dk := range v.disks {
		wg.Go(func() {
			out[i] = DiskChecksum{Index: i, DiskID: dk.rec.ID, Size: dk.rec.Size}
			img, done, err := v.image(dk)
			if err != nil {
				errs[i] = fmt.Errorf("checksum disk %d: %w", i, err)
				return
			}
			defer done()
			if out[i].SHA256, err = HashImage(img); err != nil {
				errs[i] = fmt.Errorf("checksum disk %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// zeroChunk is the buffer zero extents are hashed from.
const hashChunk = 1 << 20

// HashImage returns the hex SHA-256 of img's whole virtual content. Zero
// extents are hashed from a zero buffer without reading the file.
func HashImage(img vdisk.Image) (string, error) {
	var exts []vdisk.Extent
	for e, err := range img.Extents() {
		if err != nil {
			return "", err
		}
		exts = append(exts, e)
	}
	h := sha256.New()
	zeros, buf := make([]byte, hashChunk), make([]byte, 4*hashChunk)
	var pos int64
	for _, e := range exts {
		if e.Offset != pos {
			return "", fmt.Errorf("extent at %d, want %d: extent map has a gap", e.Offset, pos)
		}
		for done := int64(0); done < e.Length; {
			n := min(e.Length-done, int64(len(buf)))
			if e.Kind == vdisk.KindZero {
				n = min(n, hashChunk)
				h.Write(zeros[:n])
			} else if _, err := readFull(img, buf[:n], e.Offset+done); err != nil {
				return "", err
			} else {
				h.Write(buf[:n])
			}
			done += n
		}
		pos = e.End()
	}
	if pos != img.Size() {
		return "", fmt.Errorf("extent map ends at %d, disk size %d", pos, img.Size())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readFull fills p from r at off.
func readFull(r io.ReaderAt, p []byte, off int64) (int, error) {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return n, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, fmt.Errorf("read at %d: %w", off, err)
}
