package vhdx

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns for a bad file wraps one
// of them, so callers can tell classes apart with errors.Is.
var (
	// ErrCorrupt marks a structure that violates [MS-VHDX].
	ErrCorrupt = errors.New("vhdx: corrupt file")
	// ErrBadChecksum marks a header, region table or log entry whose
	// CRC-32C does not match.
	ErrBadChecksum = errors.New("vhdx: bad checksum")
	// ErrUnsupported marks a valid file using a feature this package does
	// not implement (unknown required region or metadata item, a log larger
	// than the replay limit, ...).
	ErrUnsupported = errors.New("vhdx: unsupported")
	// ErrLogReplay marks a log that has an active sequence but cannot be
	// replayed.
	ErrLogReplay = errors.New("vhdx: log cannot be replayed")
	// ErrParentMismatch marks a differencing disk whose parent cannot be
	// found or is not the disk it was created from.
	ErrParentMismatch = errors.New("vhdx: parent mismatch")
	// ErrParentNotFound marks a differencing disk none of whose parent
	// locator paths names an existing file.
	ErrParentNotFound = errors.New("vhdx: parent not found")
	// ErrChain marks a parent chain that is too deep or loops.
	ErrChain = errors.New("vhdx: bad parent chain")
	// ErrClosed is returned by operations on a closed Disk or Writer.
	ErrClosed = errors.New("vhdx: closed")
	// ErrAlignment marks a write not aligned to the logical sector size.
	ErrAlignment = errors.New("vhdx: unaligned write")
)

// Error is a problem with a VHDX file: the file, the structure and field at
// fault, and the sentinel class it belongs to.
type Error struct {
	Path string // file name, empty inside structure parsers
	Msg  string // "region table 1: entry 3: offset 0x1234 not 1 MiB aligned"
	Err  error  // one of the sentinels above
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "vhdx: " + e.Msg
	}
	return "vhdx: " + e.Path + ": " + e.Msg
}

// Unwrap returns the sentinel class.
func (e *Error) Unwrap() error { return e.Err }

// errf builds an *Error without a path.
func errf(class error, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Err: class}
}

// withPath sets the path on err (if it is an *Error without one) or wraps it.
func withPath(path string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Path == "" {
		return &Error{Path: path, Msg: e.Msg, Err: e.Err}
	}
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("vhdx: %s: %w", path, err)
}

// within prefixes the message of an *Error with a structure name.
func within(what string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Path: e.Path, Msg: what + ": " + e.Msg, Err: e.Err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// sprintf is fmt.Sprintf, named short for structure paths.
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
