package blob

import (
	"context"

	"hvmigrate/shared/storeerr"
)

// CheckPageWrite validates a Put Page range before it is sent.
func CheckPageWrite(name string, off, n int64) error {
	const op = "write pages"
	switch {
	case off < 0 || off%PageSize != 0:
		return storeerr.Invalid(op, name, "offset %d is not a non-negative multiple of %d", off, PageSize)
	case n <= 0 || n%PageSize != 0:
		return storeerr.Invalid(op, name, "length %d is not a positive multiple of %d", n, PageSize)
	case n > MaxPutPage:
		return storeerr.Invalid(op, name, "length %d exceeds %d", n, MaxPutPage)
	}
	return nil
}

// CheckClear validates a Clear Pages range.
func CheckClear(name string, off, n int64) error {
	if off < 0 || off%PageSize != 0 || n <= 0 || n%PageSize != 0 {
		return storeerr.Invalid("clear pages", name, "range %d+%d is not page aligned", off, n)
	}
	return nil
}

// CheckPageBlobSize validates the size of a new page blob.
func CheckPageBlobSize(name string, size int64) error {
	if size < 0 || size%PageSize != 0 {
		return storeerr.Invalid("create page blob", name, "size %d is not a multiple of %d", size, PageSize)
	}
	return nil
}

// CheckBlockID validates a block ID.
func CheckBlockID(name, id string) error {
	if id == "" || len(id) > MaxBlockIDLen {
		return storeerr.Invalid("stage block", name, "block id length %d not in 1..%d", len(id), MaxBlockIDLen)
	}
	return nil
}

// CheckName validates a blob name: not empty, at most 1024 bytes, no
// control characters, no trailing dot or slash.
func CheckName(op, name string) error {
	if name == "" || len(name) > 1024 {
		return storeerr.Invalid(op, name, "blob name length %d not in 1..1024", len(name))
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return storeerr.Invalid(op, name, "blob name has a forbidden character %q", r)
		}
	}
	if last := name[len(name)-1]; last == '.' || last == '/' {
		return storeerr.Invalid(op, name, "blob name ends with %q", last)
	}
	return nil
}

// attemptKey carries the try number of a retried call through a context.
type attemptKey struct{}

// WithAttempt records that the call under ctx is try n (1 is the first).
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// Attempt returns the try number recorded in ctx, or 1.
func Attempt(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}
