package preflight

import "errors"

// ErrSpaceUnknown means free space cannot be measured on this platform.
var ErrSpaceUnknown = errors.New("free space cannot be measured here")

// Volume is the file system a path lives on: an id that is the same for
// every path on it, and the bytes free to the caller.
type Volume struct {
	ID   string
	Free int64
}

// Space measures the volume of a path.
type Space interface {
	Volume(path string) (Volume, error)
}

// OSSpace measures volumes with the operating system's own call.
type OSSpace struct{}

var _ Space = OSSpace{}

// Volume returns the volume of path.
func (OSSpace) Volume(path string) (Volume, error) { return volumeOf(path) }
