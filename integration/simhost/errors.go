package simhost

import "errors"

// Error classes of the daemon. Every error it returns for a bad request or
// a state that forbids the request wraps exactly one of them; the server
// maps them to gRPC codes and the client maps them back.
var (
	// ErrNotFound: no VM (or disk, or switch record) has that id.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a request field is invalid; the message names it.
	ErrInvalid = errors.New("invalid request")
	// ErrOutOfRange: a write ends past the end of the disk.
	ErrOutOfRange = errors.New("out of range")
	// ErrNotRunning: the VM is not running, so it takes no writes.
	ErrNotRunning = errors.New("vm is not running")
	// ErrRunning: the VM must be stopped first.
	ErrRunning = errors.New("vm is running")
	// ErrCheckpointExists: the VM already has a checkpoint.
	ErrCheckpointExists = errors.New("checkpoint already exists")
	// ErrNoCheckpoint: the VM has no checkpoint.
	ErrNoCheckpoint = errors.New("vm has no checkpoint")
	// ErrTrackingOff: change tracking is not on for the VM.
	ErrTrackingOff = errors.New("change tracking is off")
	// ErrTrackingOn: change tracking is already on for the VM.
	ErrTrackingOn = errors.New("change tracking is already on")
	// ErrUnsupported: the request is valid but this disk format cannot do it.
	ErrUnsupported = errors.New("unsupported")
	// ErrClosed: the daemon is shutting down.
	ErrClosed = errors.New("daemon is shutting down")
)
