package vhd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxLocatorBytes bounds a locator's data: the longest Windows path (32767
// UTF-16 code units) in bytes.
const maxLocatorBytes = 65534

// parentCandidates lists, in the order they are tried, the paths where the
// parent of a differencing disk may be (see the package documentation).
func (l *layer) parentCandidates() ([]string, error) {
	dir := filepath.Dir(l.path)
	var rel, abs, byName []string
	for i, loc := range l.hdr.Locators {
		if loc.PlatformCode != PlatformW2ru && loc.PlatformCode != PlatformW2ku {
			continue
		}
		s, err := l.readLocator(i, loc)
		if err != nil {
			return nil, err
		}
		if s == "" {
			continue
		}
		p := localPath(s)
		switch {
		case filepath.IsAbs(p):
			abs = append(abs, p)
		case loc.PlatformCode == PlatformW2ru:
			rel = append(rel, filepath.Join(dir, p))
		}
		byName = append(byName, filepath.Join(dir, baseName(s)))
	}
	if n := baseName(l.hdr.ParentName); n != "" {
		byName = append(byName, filepath.Join(dir, n))
	}
	return dedupe(append(append(rel, abs...), byName...)), nil
}

// readLocator reads and decodes the UTF-16LE path of locator entry i.
func (l *layer) readLocator(i int, loc Locator) (string, error) {
	where := fmt.Sprintf("parent locator %d", i)
	if loc.PlatformDataLength > maxLocatorBytes || loc.PlatformDataLength%2 != 0 {
		return "", ferr(l.path, where, ErrCorrupt, fmt.Sprintf("PlatformDataLength %d is odd or above %d", loc.PlatformDataLength, maxLocatorBytes))
	}
	off := loc.PlatformDataOffset
	if off < FooterSize || off > uint64(l.dataEnd()) || uint64(l.dataEnd())-off < uint64(loc.PlatformDataLength) {
		return "", ferr(l.path, where, ErrCorrupt, fmt.Sprintf("PlatformDataOffset %d + PlatformDataLength %d is outside the data area of the %d-byte file", off, loc.PlatformDataLength, l.fileSize))
	}
	b := make([]byte, loc.PlatformDataLength)
	if err := l.pread(b, int64(off), where); err != nil {
		return "", err
	}
	return decodeUTF16(b, binary.LittleEndian), nil
}

// localPath maps a Windows path to this system's separators.
func localPath(s string) string {
	return filepath.FromSlash(strings.ReplaceAll(s, `\`, "/"))
}

// baseName is the last element of a Windows or slash-separated path, with
// any drive prefix ("C:name") removed.
func baseName(s string) string {
	s = s[strings.LastIndexAny(s, `\/`)+1:]
	if len(s) >= 2 && s[1] == ':' {
		s = s[2:]
	}
	if s == "." || s == ".." {
		return ""
	}
	return s
}

func dedupe(paths []string) []string {
	seen := make(map[string]bool, len(paths))
	out := paths[:0]
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// chainSeen records the files and identities already in a chain.
type chainSeen struct {
	paths map[string]bool
	ids   map[[16]byte]bool
}

// openParent finds, opens and checks the parent of the differencing layer l.
func (l *layer) openParent(seen chainSeen) (*layer, error) {
	cands, err := l.parentCandidates()
	if err != nil {
		return nil, err
	}
	var firstErr error
	for _, c := range cands {
		if !openable(c) {
			continue
		}
		if seen.paths[canonical(c)] { // a cycle, unless a later candidate is the parent
			if firstErr == nil {
				firstErr = ferr(l.path, "parent locator", ErrChain, fmt.Sprintf("parent %s is already in the chain (cycle)", c))
			}
			continue
		}
		p, err := l.tryParent(c, seen)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, ErrChain) || errors.Is(err, ErrParentMismatch) && !errors.Is(err, errWrongID) {
			return nil, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, ferr(l.path, "parent locator", ErrParentNotFound,
		fmt.Sprintf("no parent with UniqueId %s among %q", l.hdr.ParentUniqueID, cands))
}

// openable reports whether path is a regular file or a block device: a
// locator must never make the reader open a FIFO, a terminal or a directory.
func openable(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	m := fi.Mode()
	return m.IsRegular() || m&os.ModeDevice != 0 && m&os.ModeCharDevice == 0
}

// errWrongID marks a candidate that is a VHD but not the parent, so the
// search goes on.
var errWrongID = errors.New("different UniqueId")

// tryParent opens candidate c and checks it against l's header.
func (l *layer) tryParent(c string, seen chainSeen) (*layer, error) {
	p, err := openLayer(c)
	if err != nil {
		return nil, fmt.Errorf("vhd: %s: parent: %w", l.path, err)
	}
	check := func() error {
		f := &p.footer
		switch {
		case f.UniqueID != l.hdr.ParentUniqueID:
			return ferr(l.path, "dynamic header", fmt.Errorf("%w: %w", ErrParentMismatch, errWrongID),
				fmt.Sprintf("ParentUniqueId %s does not match UniqueId %s of %s", l.hdr.ParentUniqueID, f.UniqueID, c))
		case seen.ids[f.UniqueID]:
			return ferr(l.path, "dynamic header", ErrChain, fmt.Sprintf("parent %s has UniqueId %s, already in the chain (cycle)", c, f.UniqueID))
		case f.TimeStamp != l.hdr.ParentTimeStamp:
			return ferr(l.path, "dynamic header", ErrParentMismatch,
				fmt.Sprintf("ParentTimeStamp %d (%s) differs from TimeStamp %d (%s) of %s: the parent changed after the child was made",
					l.hdr.ParentTimeStamp, Time(l.hdr.ParentTimeStamp).Format("2006-01-02T15:04:05Z"), f.TimeStamp, Time(f.TimeStamp).Format("2006-01-02T15:04:05Z"), c))
		case f.CurrentSize != l.footer.CurrentSize:
			return ferr(l.path, "footer", ErrParentMismatch,
				fmt.Sprintf("CurrentSize %d differs from CurrentSize %d of parent %s", l.footer.CurrentSize, f.CurrentSize, c))
		}
		return nil
	}
	if err := check(); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// canonical is the absolute, symlink-free form of path, or its absolute
// form when it cannot be resolved.
func canonical(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

func (l *layer) close() error { return l.f.Close() }
