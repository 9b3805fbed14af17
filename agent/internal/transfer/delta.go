package transfer

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"hvmigrate/agent/internal/jobs"
	"hvmigrate/agent/internal/upload"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/hrl"
)

// errSourceFormat marks a disk or log that failed to open or validate.
var errSourceFormat = errors.New("invalid source file")

// deltaSource turns one disk's closed logs into its delta object.
type deltaSource struct {
	vmID        string
	cycle, prev uint64
	disk        jobs.CycleDisk
	prog        *upload.Progress

	logs []*hrl.Log
	co   *hrl.Coalescer
	hdr  delta.Header
	plan []delta.Extent
}

// open validates every log of the disk (structure and data checksums),
// coalesces them in chain order, and plans the object.
func (s *deltaSource) open() error {
	vm, err := parseID(s.vmID)
	if err != nil {
		return fmt.Errorf("%w: VM id: %w", jobs.ErrInvalid, err)
	}
	disk, err := parseID(s.disk.DiskID)
	if err != nil {
		return fmt.Errorf("%w: disk id: %w", jobs.ErrInvalid, err)
	}
	s.hdr = delta.Header{Kind: delta.KindCycle, VMID: vm, DiskID: disk, Cycle: s.cycle, PrevCycle: s.prev,
		VirtualSize: s.disk.VirtualSize, Compression: delta.CompressionZstd}
	s.co = hrl.NewCoalescer()
	for _, path := range s.disk.Logs {
		l, err := hrl.Open(path, hrl.Options{DiskSize: s.disk.VirtualSize})
		if err != nil {
			s.close()
			return fmt.Errorf("%w: %w", errSourceFormat, err)
		}
		s.logs = append(s.logs, l)
		if err := l.Verify(); err != nil {
			s.close()
			return fmt.Errorf("%w: %w", errSourceFormat, err)
		}
		if err := s.co.Add(l); err != nil {
			s.close()
			return fmt.Errorf("%w: %w", errSourceFormat, err)
		}
		s.hdr.LogIDs = append(s.hdr.LogIDs, delta.ID(l.Header().UniqueID.Canonical()))
	}
	for e := range s.co.Extents() {
		s.plan = append(s.plan, delta.Extent{Offset: e.Offset, Length: e.Length, Kind: delta.Data})
	}
	return nil
}

// produce writes the object. It writes the same bytes every time it runs
// over the same logs, which lets an interrupted upload keep its blocks.
func (s *deltaSource) produce(w io.Writer) error {
	st := s.co.Stats()
	s.prog.Total.Store(st.BytesLogged)
	s.prog.SavedCoalescing.Store(st.BytesSaved)
	s.prog.Done.Store(st.BytesSaved)
	dw, err := delta.NewWriter(w, s.hdr, s.plan)
	if err != nil {
		return err
	}
	for e := range s.co.Extents() {
		n, err := dw.ReadFrom(s.co.Reader(e))
		if err != nil {
			return fmt.Errorf("%w: logged data at disk offset %d: %w", upload.ErrSource, e.Offset, err)
		}
		s.prog.Done.Add(n)
	}
	return closeDelta(dw, s.prog)
}

func (s *deltaSource) close() {
	for _, l := range s.logs {
		l.Close()
	}
	s.logs = nil
}

// parseID reads a 16-byte id written as 32 hex digits, dashes allowed.
func parseID(s string) (delta.ID, error) {
	var id delta.ID
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%q is not a 16-byte hex id", s)
	}
	copy(id[:], b)
	return id, nil
}

// closeDelta finishes a delta object and records what compression saved.
func closeDelta(dw *delta.Writer, prog *upload.Progress) error {
	if err := dw.Close(); err != nil {
		return err
	}
	ws := dw.Stats()
	prog.SavedCompression.Store(max(0, ws.BytesIn-ws.BytesOut))
	return nil
}
