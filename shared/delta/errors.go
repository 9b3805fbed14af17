package delta

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them with %w, with a message naming the structure, the field and the object
// offset involved.
var (
	// ErrBadMagic means the header or footer does not start with its magic.
	ErrBadMagic = errors.New("bad magic")
	// ErrUnsupportedVersion means the header declares a format version this
	// package does not implement.
	ErrUnsupportedVersion = errors.New("unsupported format version")
	// ErrUnsupported means a value is reserved for a future algorithm or kind
	// (an unknown compression id, extent kind or encoding).
	ErrUnsupported = errors.New("unsupported value")
	// ErrChecksum means a stored CRC-64 does not match the bytes it covers.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrCorrupt means a field is out of range or inconsistent with another
	// field, or the object is truncated.
	ErrCorrupt = errors.New("corrupt object")
	// ErrTooLarge means a declared count or size exceeds a hard limit of the
	// format or what the object's size can hold.
	ErrTooLarge = errors.New("declared size too large")
	// ErrInvalid means a caller handed the Writer an invalid header, extent
	// list or amount of data.
	ErrInvalid = errors.New("invalid argument")
)
