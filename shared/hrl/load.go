package hrl

// loadHeader reads the header and runs the checks that need the file size
// and the caller's options (H1..H13).
func (l *Log) loadHeader() error {
	if l.size < HeaderSize {
		return fieldError(ErrTruncated, "header", 0, "Cookie", "file has %d bytes, need %d", l.size, HeaderSize)
	}
	b := make([]byte, HeaderSize)
	if err := l.readFull(b, 0, "header"); err != nil {
		return err
	}
	h, err := ParseHeader(b)
	if err != nil {
		return err
	}
	l.hdr = h
	if err := l.checkEOL(); err != nil {
		return err
	}
	if err := l.checkIdentity(); err != nil {
		return err
	}
	l.headerWarnings()
	return nil
}

// checkEOL enforces 4096 + MetadataSize <= EOLLocation <= file length (H9).
func (l *Log) checkEOL() error {
	eol, ms := l.hdr.EOLLocation, uint64(l.hdr.MetadataSize)
	if eol < HeaderSize+ms {
		return fieldError(ErrBadEOL, "header", offEOL, "EOLLocation",
			"%d is below %d (header plus one metadata block)", eol, HeaderSize+ms)
	}
	if eol > uint64(l.size) {
		return fieldError(ErrTruncated, "header", offEOL, "EOLLocation",
			"%d is past the end of the file (%d bytes)", eol, l.size)
	}
	return nil
}

// checkIdentity applies the ErrorCode (H12) and Vhd2DataWriteGuid (H13) policy.
func (l *Log) checkIdentity() error {
	h := l.hdr
	if h.ErrorCode != 0 && !l.opts.AllowErrorCode {
		return fieldError(ErrErrorCode, "header", offErrorCode, "ErrorCode", "is %d (%#08x)", h.ErrorCode, uint32(h.ErrorCode))
	}
	want := l.opts.ExpectedDataWriteGUID
	if want.IsZero() {
		return nil
	}
	if h.LogFormatVersion == Version1 {
		return fieldError(ErrDataWriteGUID, "header", offDataWriteGUID, "Vhd2DataWriteGuid",
			"a version 1 log has none, want %s", want)
	}
	if h.Vhd2DataWriteGUID != want {
		return fieldError(ErrDataWriteGUID, "header", offDataWriteGUID, "Vhd2DataWriteGuid",
			"have %s, want %s", h.Vhd2DataWriteGUID, want)
	}
	return nil
}

func (l *Log) headerWarnings() {
	h := l.hdr
	if h.CurrentSize != uint64(l.size) {
		l.warn("H10", "header field CurrentSize: %d differs from the file length %d", h.CurrentSize, l.size)
	}
	if h.MetadataSize%512 != 0 {
		l.warn("H8", "header field MetadataSize: %d is not a multiple of 512", h.MetadataSize)
	}
	if !h.ReservedZero {
		l.warn("H11", "header field Reserved: not all zero")
	}
	if h.ErrorCode != 0 {
		l.warn("H12", "header field ErrorCode: %d accepted by option", h.ErrorCode)
	}
}

// walkChain follows PreviousMetadataLocation back from the last block and
// records the blocks oldest first (pass 1; M1, M2, M4, M5).
func (l *Log) walkChain() error {
	ms := int64(l.hdr.MetadataSize)
	eol := int64(l.hdr.EOLLocation)
	maxSteps := (eol - HeaderSize) / ms
	var buf [MetadataHeaderSize]byte
	m := eol - ms
	for step := int64(0); ; step++ {
		if step >= maxSteps || len(l.blocks) >= l.opts.MaxBlocks {
			return l.chainLimit(m, step, maxSteps)
		}
		if err := l.readFull(buf[:], m, "metadata header"); err != nil {
			return err
		}
		mh, err := ParseMetadataHeader(buf[:], m)
		if err != nil {
			return err
		}
		l.blocks = append(l.blocks, blockRef{off: m, count: mh.ValidMetadataEntries})
		if mh.PreviousMetadataLocation == 0 {
			break
		}
		if m, err = l.previousBlock(m, mh.PreviousMetadataLocation); err != nil {
			return err
		}
	}
	reverse(l.blocks)
	return nil
}

// previousBlock checks one backward step (M1, M4) and returns its target.
func (l *Log) previousBlock(m int64, rel uint64) (int64, error) {
	ms := uint64(l.hdr.MetadataSize)
	if rel < ms || rel > uint64(m) || uint64(m)-rel < HeaderSize {
		return 0, fieldError(ErrBrokenChain, "metadata header", m, "PreviousMetadataLocation",
			"%d does not lead to a block at or after offset %d at least %d bytes back", rel, HeaderSize, ms)
	}
	return m - int64(rel), nil
}

func (l *Log) chainLimit(m, step, maxSteps int64) error {
	if step >= maxSteps {
		return fieldError(ErrBrokenChain, "metadata header", m, "PreviousMetadataLocation",
			"chain longer than the %d blocks the file can hold", maxSteps)
	}
	return fieldError(ErrLimit, "metadata header", m, "PreviousMetadataLocation",
		"more than %d blocks (Options.MaxBlocks)", l.opts.MaxBlocks)
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// scanEntries validates every entry of every block and the contiguity of
// the data (pass 2; M3, M6, M7, E1..E7, F2).
func (l *Log) scanEntries() error {
	buf := make([]byte, l.hdr.MetadataSize)
	for i := range l.blocks {
		err := l.scanBlock(i, buf, true, func(e Entry) bool {
			l.entries++
			l.logged += int64(e.DataLength)
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// checkTotals compares TotalMetadataEntries with the entries found (F1).
func (l *Log) checkTotals() {
	if l.hdr.TotalMetadataEntries != uint64(l.entries) {
		l.warn("F1", "header field TotalMetadataEntries: %d, but the blocks hold %d valid entries",
			l.hdr.TotalMetadataEntries, l.entries)
	}
}

// dataStart is where block i's data begins: after the header for the first
// block, after the previous block otherwise.
func (l *Log) dataStart(i int) int64 {
	if i == 0 {
		return HeaderSize
	}
	return l.blocks[i-1].off + int64(l.hdr.MetadataSize)
}

// readBlock reads block i whole into buf and checks its header (M2, M3, M7).
func (l *Log) readBlock(i int, buf []byte, warn bool) (MetadataHeader, error) {
	m := l.blocks[i].off
	if err := l.readFull(buf, m, "metadata block"); err != nil {
		return MetadataHeader{}, err
	}
	mh, err := ParseMetadataHeader(buf, m)
	if err != nil {
		return mh, err
	}
	if slots := l.hdr.Slots(); mh.ValidMetadataEntries > uint32(slots) {
		return mh, fieldError(ErrTooManyEntries, "metadata header", m, "ValidMetadataEntries",
			"%d exceeds the %d slots of a %d-byte block", mh.ValidMetadataEntries, slots, l.hdr.MetadataSize)
	}
	if warn && mh.Reserved != [16]byte{} {
		l.warn("M7", "metadata header at offset %d field Reserved: not all zero", m)
	}
	return mh, nil
}
