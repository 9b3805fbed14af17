package azure

import (
	"errors"
	"io"

	"hvmigrate/agent/internal/blob"
)

// body presents the first Size bytes of a payload as the request body. The
// SDK seeks to the end to learn the length and rewinds before each try.
type body struct {
	r    io.ReadSeeker
	size int64
	pos  int64
}

func newBody(p blob.Payload) *body {
	return &body{r: p.Body, size: p.Size}
}

func (b *body) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	if rest := b.size - b.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.pos += int64(n)
	if err == io.EOF && b.pos < b.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *body) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += b.pos
	case io.SeekEnd:
		off += b.size
	}
	if off < 0 || off > b.size {
		return b.pos, errors.New("seek outside the payload")
	}
	if _, err := b.r.Seek(off, io.SeekStart); err != nil {
		return b.pos, err
	}
	b.pos = off
	return off, nil
}

// Close does not close the caller's reader.
func (b *body) Close() error { return nil }
