// Package payload holds the binaries hvm-setup carries and installs: the
// provider and the agent, built for the installer's own OS.
package payload

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrMissing means the installer was built without a binary it must install.
var ErrMissing = errors.New("installer carries no payload")

// Dir is the directory inside the embedded file system that holds the
// binaries.
const Dir = "files"

// Payload is a set of binaries, read from a file system rooted at their
// directory.
type Payload struct {
	fsys fs.FS
}

// New returns the payload whose binaries are the files at the top of fsys.
func New(fsys fs.FS) Payload { return Payload{fsys: fsys} }

// Embedded returns the payload compiled into this binary.
func Embedded() Payload {
	sub, err := fs.Sub(embedded, Dir)
	if err != nil {
		// fs.Sub fails only for an invalid name; Dir is a constant.
		panic(fmt.Sprintf("payload: %v", err))
	}
	return New(sub)
}

// Check returns ErrMissing, naming every absent binary, unless all of names
// are present as non-empty regular files.
func (p Payload) Check(names ...string) error {
	var missing []string
	for _, n := range names {
		fi, err := fs.Stat(p.fsys, n)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %v not embedded; build it with `make setup`, which puts the provider and agent binaries in setup/internal/payload/files first", ErrMissing, missing)
	}
	return nil
}

// Open opens the binary called name.
func (p Payload) Open(name string) (fs.File, error) {
	f, err := p.fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open payload %s: %w", name, err)
	}
	return f, nil
}
