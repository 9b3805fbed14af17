package storage

import (
	"strings"

	"hvmigrate/shared/storeerr"
)

// maxNameLen bounds a blob name (container and path).
const maxNameLen = 1024 + 64

// SplitName splits "container/blob" after checking both parts: the
// container is 3 to 63 characters of [a-z0-9-], the blob is not empty, has
// no empty, "." or ".." segment, no backslash and no control character.
func SplitName(op, name string) (ctr, blob string, err error) {
	ctr, blob, ok := strings.Cut(name, "/")
	if !ok || blob == "" || len(name) > maxNameLen {
		return "", "", storeerr.Invalid(op, name, "name must be container/blob")
	}
	if err := checkContainer(op, name, ctr); err != nil {
		return "", "", err
	}
	for _, seg := range strings.Split(blob, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", "", storeerr.Invalid(op, name, "empty or dot segment in blob name")
		}
	}
	for _, r := range blob {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "", "", storeerr.Invalid(op, name, "control character or backslash in blob name")
		}
	}
	return ctr, blob, nil
}

// SplitPrefix splits a listing prefix "container/" or "container/path".
func SplitPrefix(op, prefix string) (ctr, rest string, err error) {
	ctr, rest, ok := strings.Cut(prefix, "/")
	if !ok {
		return "", "", storeerr.Invalid(op, prefix, "prefix must start with container/")
	}
	return ctr, rest, checkContainer(op, prefix, ctr)
}

// checkContainer checks a container name.
func checkContainer(op, name, ctr string) error {
	if len(ctr) < 3 || len(ctr) > 63 || ctr[0] == '-' || ctr[len(ctr)-1] == '-' {
		return storeerr.Invalid(op, name, "container name length or hyphen")
	}
	for _, r := range ctr {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return storeerr.Invalid(op, name, "container name character %q", r)
		}
	}
	return nil
}

// CheckPageBlobSize checks the size of a new page blob.
func CheckPageBlobSize(op, name string, size int64) error {
	if size <= 0 || size%PageSize != 0 {
		return storeerr.Invalid(op, name, "page blob size %d is not a positive multiple of %d", size, PageSize)
	}
	return nil
}

// CheckPut checks the range of one Put Page call.
func CheckPut(op, name string, off, n int64) error {
	switch {
	case off < 0 || off%PageSize != 0 || n%PageSize != 0 || n <= 0:
		return storeerr.Invalid(op, name, "range %d+%d is not page aligned", off, n)
	case n > MaxPutPage:
		return storeerr.Invalid(op, name, "range of %d bytes is above %d", n, MaxPutPage)
	}
	return nil
}

// CheckClear checks the range of one Clear Pages call.
func CheckClear(op, name string, off, n int64) error {
	if off < 0 || off%PageSize != 0 || n%PageSize != 0 || n <= 0 {
		return storeerr.Invalid(op, name, "range %d+%d is not page aligned", off, n)
	}
	return nil
}
