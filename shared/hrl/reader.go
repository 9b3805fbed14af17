package hrl

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Log is a validated, closed HRL file opened for reading. NewReader checks
// every structure (header, the whole metadata chain, every entry and the
// contiguity of the data); Verify additionally reads the data and checks
// the data checksums. A Log is safe for concurrent use when its ReaderAt is.
type Log struct {
	r        io.ReaderAt
	closer   io.Closer
	size     int64
	opts     Options
	hdr      Header
	blocks   []blockRef
	entries  int64
	logged   int64
	warnings []Warning
	dropped  int
}

// blockRef locates one metadata block; its data starts at dataStart.
type blockRef struct {
	off   int64
	count uint32
}

// Open opens and validates the log at path. Close releases the file.
func Open(path string, opts Options) (*Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open hrl: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open hrl: %w", err)
	}
	if opts.Name == "" {
		opts.Name = path
	}
	l, err := NewReader(f, st.Size(), opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	l.closer = f
	return l, nil
}

// NewReader validates the log held in the first size bytes of r.
func NewReader(r io.ReaderAt, size int64, opts Options) (*Log, error) {
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	l := &Log{r: r, size: size, opts: o}
	if err := l.load(); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Name, err)
	}
	return l, nil
}

func (l *Log) load() error {
	if err := l.loadHeader(); err != nil {
		return err
	}
	if err := l.walkChain(); err != nil {
		return err
	}
	if err := l.scanEntries(); err != nil {
		return err
	}
	l.checkTotals()
	return nil
}

// Close closes the file if Open opened it.
func (l *Log) Close() error {
	if l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

// Name is the file name used in messages.
func (l *Log) Name() string { return l.opts.Name }

// Header returns the decoded header.
func (l *Log) Header() Header { return l.hdr }

// EntryCount is the number of valid entries in the log.
func (l *Log) EntryCount() int64 { return l.entries }

// BytesLogged is the sum of DataLength over all entries.
func (l *Log) BytesLogged() int64 { return l.logged }

// Warnings returns the non-fatal findings, at most Options.MaxWarnings of
// them, and how many more were dropped.
func (l *Log) Warnings() ([]Warning, int) { return append([]Warning(nil), l.warnings...), l.dropped }

func (l *Log) warn(check, format string, args ...any) {
	if len(l.warnings) >= l.opts.MaxWarnings {
		l.dropped++
		return
	}
	l.warnings = append(l.warnings, Warning{Check: check, Message: fmt.Sprintf(format, args...)})
}

// readFull reads len(b) bytes at off, mapping a short file to ErrTruncated.
func (l *Log) readFull(b []byte, off int64, structure string) error {
	if off < 0 || off > l.size || int64(len(b)) > l.size-off {
		return fmt.Errorf("%s at offset %d: need %d bytes, file has %d: %w", structure, off, len(b), l.size, ErrTruncated)
	}
	n, err := l.r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = ErrTruncated
	}
	return fmt.Errorf("read %s at offset %d: %w", structure, off, err)
}
