package vhd

import "errors"

// Sentinel errors. Every error returned by this package that concerns the
// content of a file wraps one of them, so callers can tell a damaged file from
// an unsupported one or a broken parent chain without matching strings.
var (
	// ErrBadChecksum means a footer or dynamic header checksum does not match.
	ErrBadChecksum = errors.New("bad checksum")
	// ErrCorrupt means a field is out of range, overlaps another structure or
	// points outside the file.
	ErrCorrupt = errors.New("corrupt file")
	// ErrUnsupported means the file is well formed but uses a feature or a
	// size this package does not handle.
	ErrUnsupported = errors.New("unsupported")
	// ErrNotVHD means the file carries no VHD footer cookie.
	ErrNotVHD = errors.New("not a VHD file")
	// ErrParentNotFound means no parent locator of a differencing disk led to
	// an existing file.
	ErrParentNotFound = errors.New("parent not found")
	// ErrParentMismatch means a parent candidate exists but its identity,
	// timestamp or size differs from what the child records.
	ErrParentMismatch = errors.New("parent mismatch")
	// ErrChain means the parent chain is too deep or loops back on itself.
	ErrChain = errors.New("bad parent chain")
)

// FormatError reports a problem with one field or structure of a VHD file.
// Its text names the file, the structure and the field:
//
//	vhd: /x/d.vhd: dynamic header: BlockSize 3000 is not a power of two
type FormatError struct {
	Path      string // file the problem is in
	Structure string // "footer", "dynamic header", "BAT", "parent locator", ...
	Msg       string // what is wrong, naming the field
	Err       error  // one of the sentinels above, or an I/O error
}

// Error renders "vhd: PATH: STRUCTURE: MSG".
func (e *FormatError) Error() string {
	return "vhd: " + e.Path + ": " + e.Structure + ": " + e.Msg
}

// Unwrap returns the sentinel or underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// ferr builds a FormatError.
func ferr(path, structure string, sentinel error, msg string) error {
	return &FormatError{Path: path, Structure: structure, Msg: msg, Err: sentinel}
}
