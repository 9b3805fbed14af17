package vhdx

import (
	"bytes"

	"hvmigrate/shared/vdisk"
)

// header is the VHDX header (2.2.2).
type header struct {
	seq        uint64
	fileWrite  vdisk.GUID
	dataWrite  vdisk.GUID
	logGUID    vdisk.GUID
	logVersion uint16
	version    uint16
	logLength  uint32
	logOffset  uint64
}

// parseHeader decodes and checks one 4 KiB header copy.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < int(headerSize) {
		return h, errf(ErrCorrupt, "short header")
	}
	b = b[:headerSize]
	if string(b[0:4]) != sigHeader {
		return h, errf(ErrCorrupt, "signature %q not %q", b[0:4], sigHeader)
	}
	if !checkCRC(b, 4) {
		return h, errf(ErrBadChecksum, "checksum 0x%08x does not match", u32(b[4:]))
	}
	h = header{
		seq:        u64(b[8:]),
		fileWrite:  getGUID(b[16:]),
		dataWrite:  getGUID(b[32:]),
		logGUID:    getGUID(b[48:]),
		logVersion: u16(b[64:]),
		version:    u16(b[66:]),
		logLength:  u32(b[68:]),
		logOffset:  u64(b[72:]),
	}
	if h.version != 1 {
		return h, errf(ErrUnsupported, "version %d not 1", h.version)
	}
	return h, nil
}

// encode renders the header with its checksum.
func (h header) encode() []byte {
	b := make([]byte, headerSize)
	copy(b, sigHeader)
	put64(b[8:], h.seq)
	putGUID(b[16:], h.fileWrite)
	putGUID(b[32:], h.dataWrite)
	putGUID(b[48:], h.logGUID)
	put16(b[64:], h.logVersion)
	put16(b[66:], h.version)
	put32(b[68:], h.logLength)
	put64(b[72:], h.logOffset)
	putCRC(b, 4)
	return b
}

// pickHeader chooses the current header from the two copies and returns it
// with its slot (0 or 1).
func pickHeader(b1, b2 []byte) (header, int, error) {
	h1, err1 := parseHeader(b1)
	h2, err2 := parseHeader(b2)
	switch {
	case err1 != nil && err2 != nil:
		return header{}, 0, within("header 1", err1)
	case err1 != nil:
		return h2, 1, nil
	case err2 != nil:
		return h1, 0, nil
	case h1.seq > h2.seq:
		return h1, 0, nil
	case h2.seq > h1.seq:
		return h2, 1, nil
	case !bytes.Equal(b1[:headerSize], b2[:headerSize]):
		return header{}, 0, errf(ErrCorrupt, "headers 1 and 2: equal sequence number %d with different content", h1.seq)
	default:
		return h1, 0, nil
	}
}

// checkLogPlacement validates the log fields of the current header against
// the file size.
func (h header) checkLogPlacement(fileSize int64) error {
	if h.logVersion != 0 {
		return errf(ErrUnsupported, "header: log version %d not 0", h.logVersion)
	}
	off, n := int64(h.logOffset), int64(h.logLength)
	switch {
	case h.logOffset%uint64(miB) != 0:
		return errf(ErrCorrupt, "header: log offset 0x%x not 1 MiB aligned", h.logOffset)
	case n%miB != 0:
		return errf(ErrCorrupt, "header: log length 0x%x not a multiple of 1 MiB", n)
	case h.logOffset < uint64(headerSection):
		return errf(ErrCorrupt, "header: log offset 0x%x inside the header section", h.logOffset)
	case h.logOffset > uint64(fileSize) || n > fileSize-off:
		return errf(ErrCorrupt, "header: log [0x%x, +0x%x) beyond end of file 0x%x", h.logOffset, n, fileSize)
	case n == 0 && !h.logGUID.IsZero():
		return errf(ErrCorrupt, "header: log GUID set with an empty log")
	}
	return nil
}
