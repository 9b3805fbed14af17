package hrl

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Writer appends writes to a new HRL file. The header is written first with
// EOLLocation = 0 ("open"); data and metadata blocks are appended behind it;
// Close writes the final header. Until Close returns, readers reject the
// file with ErrNotClosed. A Writer is not safe for concurrent use.
//
// Durability: with Sync set, sealing a block (EntriesPerBlock or
// MaxBlockData reached, or Flush) writes the buffered data and the block
// and then fsyncs; Close fsyncs, writes the header with the real
// EOLLocation and fsyncs again. Nothing else waits for the disk. A crash
// before the final header is durable leaves EOLLocation = 0, or a torn
// header whose checksum fails, so no reader can take a half-written log for
// a complete one.
type Writer struct {
	dst     io.WriterAt
	file    *os.File // set by Create, closed by Close
	opts    WriterOptions
	hdr     Header
	buf     []byte // pending bytes that belong at bufOff
	bufOff  int64
	end     int64 // file length once buf is written
	pending []Record
	pendLen int64
	lastM   int64 // offset of the last sealed block, -1 for none
	total   uint64
	err     error
}

// Create creates the file at path (it must not exist) and returns a Writer
// that owns it.
func Create(path string, opts WriterOptions) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create hrl: %w", err)
	}
	w, err := NewWriter(f, opts)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	w.file = f
	return w, nil
}

// NewWriter starts a log in dst, which must be empty. If dst has a
// Sync() error method it is used for durability. Close does not close dst.
func NewWriter(dst io.WriterAt, opts WriterOptions) (*Writer, error) {
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	w := &Writer{dst: dst, opts: o, lastM: -1, buf: make([]byte, 0, o.BufferSize)}
	w.hdr = w.openHeader()
	if err := w.writeRaw(w.hdr.Marshal(), 0); err != nil {
		return nil, err
	}
	w.bufOff, w.end = HeaderSize, HeaderSize
	if o.LeadingEmptyBlock {
		if err := w.Flush(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *Writer) openHeader() Header {
	now := TimeStamp(w.opts.Now())
	return Header{
		Cookie:             [8]byte{'m', 's', 'c', 't', 'l', 'o', 'g', 0},
		LogFormatVersion:   Version2,
		TimeStamp:          now,
		CreatorApplication: w.opts.CreatorApplication,
		CreatorVersion:     w.opts.CreatorVersion,
		OriginalSize:       HeaderSize,
		CurrentSize:        HeaderSize,
		MetadataSize:       w.opts.MetadataSize,
		UniqueID:           w.opts.UniqueID,
		PreviousUniqueID:   w.opts.PreviousUniqueID,
		Vhd2DataWriteGUID:  w.opts.DataWriteGUID,
		ReservedZero:       true,
	}
}

// UniqueID is the log's UniqueId, the PreviousUniqueID of the next log.
func (w *Writer) UniqueID() GUID { return w.hdr.UniqueID }

// Size is the number of bytes the log occupies so far.
func (w *Writer) Size() int64 { return w.end }

// WriteAt records a write of p at disk offset off. It implements
// io.WriterAt, so a Writer can sit behind a tee of guest writes. An empty p
// records nothing.
func (w *Writer) WriteAt(p []byte, off int64) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if off < 0 || uint64(len(p)) > math.MaxUint32 || off > math.MaxInt64-int64(len(p)) {
		return 0, fmt.Errorf("log write of %d bytes at disk offset %d: %w", len(p), off, ErrInvalidWrite)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := w.appendData(p); err != nil {
		return 0, w.fail(err)
	}
	w.pending = append(w.pending, w.record(p, off))
	w.pendLen += int64(len(p))
	if len(w.pending) >= w.opts.EntriesPerBlock || (w.opts.MaxBlockData > 0 && w.pendLen >= w.opts.MaxBlockData) {
		if err := w.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *Writer) record(p []byte, off int64) Record {
	r := Record{ByteOffset: uint64(off), DataLength: uint32(len(p)), MetaOperation: OpWrite,
		TimeStamp: TimeStamp(w.opts.Now())}
	if !w.opts.OmitDataChecksum {
		r.DataChecksum = Checksum(p, -1)
	}
	return r
}

// Flush seals the pending entries into a metadata block (an empty block if
// none are pending) and, with Sync, makes everything so far durable.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	m := w.end
	block := make([]byte, w.opts.MetadataSize)
	mh := MetadataHeader{ValidMetadataEntries: uint32(len(w.pending))}
	if w.lastM >= 0 {
		mh.PreviousMetadataLocation = uint64(m - w.lastM)
	}
	mh.put(block)
	for i, r := range w.pending {
		r.put(block[MetadataHeaderSize+i*EntrySize:])
	}
	if err := w.appendData(block); err != nil {
		return w.fail(err)
	}
	if err := w.flushBuffer(); err != nil {
		return w.fail(err)
	}
	w.total += uint64(len(w.pending))
	w.lastM, w.pending, w.pendLen = m, w.pending[:0], 0
	return w.fail(w.sync())
}

// Close seals pending entries, writes the final header (EOLLocation, sizes,
// totals, close time) and, for a Writer from Create, closes the file.
func (w *Writer) Close() error {
	err := w.finish()
	if w.file != nil {
		err = errors.Join(err, w.file.Close())
		w.file = nil
	}
	if w.err == nil {
		w.err = fmt.Errorf("write after close: %w", ErrWriterClosed)
	}
	return err
}

func (w *Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	if len(w.pending) > 0 || w.lastM < 0 {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	h := w.hdr
	h.EOLLocation = uint64(w.lastM) + uint64(w.opts.MetadataSize)
	h.CurrentSize = uint64(w.end)
	h.TotalMetadataEntries = w.total
	h.LastModifiedTimeStamp = TimeStamp(w.opts.Now())
	if err := w.writeRaw(h.Marshal(), 0); err != nil {
		return w.fail(err)
	}
	w.hdr = h
	return w.fail(w.sync())
}

// fail makes err sticky: after a failed write the log can only be
// abandoned, and its header still says "not closed".
func (w *Writer) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}
