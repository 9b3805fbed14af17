package vhd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

const (
	// maxDynamicSize is the largest virtual size of a dynamic or
	// differencing disk: BAT entries are 32-bit sector numbers, so no file
	// can hold more than 2 TiB of blocks.
	maxDynamicSize = 2 << 40
	// maxFixedSize bounds fixed disks (the largest VHDX, 64 TiB): fixed VHD
	// replicas in Azure can exceed the classic 2 TiB VHD limit.
	maxFixedSize = 64 << 40
)

// layer is one file of a chain: a fixed, dynamic or differencing VHD.
type layer struct {
	f         *os.File
	path      string
	fileSize  int64
	footer    Footer
	footerLen int64 // 512, or 511 for pre-2004 footers
	hdr       *Header
	bat       []uint32 // one entry per block of the virtual size
	blockSize int64
	bitmapLen int64
	warnings  []string
}

// openLayer opens and validates one VHD file. It does not follow parents.
func openLayer(path string) (*layer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vhd: %w", err)
	}
	l := &layer{f: f, path: path}
	if err := l.load(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// load reads and validates the footer, and for dynamic and differencing
// disks the header and BAT.
func (l *layer) load() error {
	size, err := l.f.Seek(0, io.SeekEnd) // also sizes block devices
	if err != nil {
		return fmt.Errorf("vhd: %s: size: %w", l.path, err)
	}
	l.fileSize = size
	if err := l.readFooter(); err != nil {
		return err
	}
	if err := l.validateFooter(); err != nil {
		return err
	}
	if l.footer.DiskType == TypeFixed {
		return nil
	}
	if err := l.readHeader(); err != nil {
		return err
	}
	return l.readBAT()
}

// dataEnd is the end of the area blocks may occupy: the tail footer.
func (l *layer) dataEnd() int64 { return l.fileSize - l.footerLen }

// pread reads exactly len(p) bytes at off of the file.
func (l *layer) pread(p []byte, off int64, structure string) error {
	n, err := l.f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &FormatError{Path: l.path, Structure: structure,
		Msg: fmt.Sprintf("read %d bytes at %d: %v", len(p), off, err), Err: err}
}

// readFooter finds the authoritative footer: at the end of the file (512
// bytes, else an old 511-byte one), or for dynamic and differencing disks
// whose tail footer is damaged, the copy at offset 0.
func (l *layer) readFooter() error {
	if l.fileSize < FooterSize-1 {
		return ferr(l.path, "footer", ErrNotVHD, fmt.Sprintf("file size %d is smaller than a footer", l.fileSize))
	}
	tail, err := l.readTailFooter()
	if err == nil {
		l.footer = tail
		l.checkHeadCopy()
		return nil
	}
	if !errors.Is(err, ErrBadChecksum) {
		return err
	}
	head, herr := l.readFooterAt(0, FooterSize)
	if herr != nil || (head.DiskType != TypeDynamic && head.DiskType != TypeDifferencing) {
		return err
	}
	l.footer = head
	l.warnf("footer: tail footer is damaged (%v); using the copy at offset 0", err)
	return nil
}

// readTailFooter reads the footer at size-512, or a 511-byte one at size-511.
func (l *layer) readTailFooter() (Footer, error) {
	l.footerLen = FooterSize
	if l.fileSize >= FooterSize {
		f, err := l.readFooterAt(l.fileSize-FooterSize, FooterSize)
		if !errors.Is(err, ErrNotVHD) {
			return f, err
		}
	}
	f, err := l.readFooterAt(l.fileSize-(FooterSize-1), FooterSize-1)
	if err == nil {
		l.footerLen = FooterSize - 1
	}
	return f, err
}

func (l *layer) readFooterAt(off, n int64) (Footer, error) {
	b := make([]byte, n)
	if err := l.pread(b, off, "footer"); err != nil {
		return Footer{}, err
	}
	return decodeFooter(l.path, b)
}

// checkHeadCopy warns when a dynamic disk's footer copy at offset 0 differs
// from the tail footer.
func (l *layer) checkHeadCopy() {
	if l.footer.DiskType == TypeFixed || l.fileSize < 2*FooterSize {
		return
	}
	head := make([]byte, l.footerLen)
	tail := make([]byte, l.footerLen)
	if l.pread(head, 0, "footer") != nil || l.pread(tail, l.fileSize-l.footerLen, "footer") != nil {
		return
	}
	if !bytes.Equal(head, tail) {
		l.warnf("footer: the copy at offset 0 differs from the footer at the end of the file")
	}
}

func (l *layer) warnf(format string, a ...any) {
	l.warnings = append(l.warnings, l.path+": "+fmt.Sprintf(format, a...))
}
