package vhdx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// openChain opens the parents of l, checking each link, up to maxChainDepth
// files, refusing loops by canonical path, by file identity and by
// DataWriteGuid.
func openChain(top *layer) error {
	seen := []*layer{top}
	for l := top; l.p.hasParent; l = l.parent {
		if len(seen) >= maxChainDepth {
			return withPath(top.path, errf(ErrChain, "parent chain deeper than %d files", maxChainDepth))
		}
		parent, err := openParent(l, seen)
		if err != nil {
			return err
		}
		l.parent = parent
		seen = append(seen, parent)
	}
	return nil
}

// openParent finds, opens and checks the parent of child.
func openParent(child *layer, seen []*layer) (*layer, error) {
	var errs []error
	for _, cand := range parentCandidates(child) {
		if _, err := os.Stat(cand); err != nil {
			continue
		}
		p, err := openLayer(cand, os.O_RDONLY)
		if err == nil {
			err = checkLink(child, p, seen)
			if err != nil {
				p.close()
			}
		}
		if err == nil {
			return p, nil
		}
		errs = append(errs, err)
		if errors.Is(err, ErrChain) {
			break
		}
	}
	if len(errs) == 0 {
		return nil, withPath(child.path, errf(ErrParentNotFound, "parent locator: no parent file found (tried %q)", parentCandidates(child)))
	}
	return nil, errors.Join(errs...)
}

// checkLink checks that p is the parent child was created from and that it
// does not close a loop.
func checkLink(child, p *layer, seen []*layer) error {
	for _, s := range seen {
		if sameFile(s, p) || s.hdr.dataWrite == p.hdr.dataWrite {
			return withPath(child.path, errf(ErrChain, "parent %s loops back to %s", p.path, s.path))
		}
	}
	match := false
	for _, g := range child.loc.linkages() {
		match = match || g == p.hdr.dataWrite
	}
	switch {
	case !match:
		return withPath(child.path, errf(ErrParentMismatch, "parent locator: %s %s does not match the DataWriteGuid %s of parent %s",
			keyLinkage, child.loc.kv[keyLinkage], p.hdr.dataWrite, p.path))
	case p.p.size != child.p.size:
		return withPath(child.path, errf(ErrParentMismatch, "parent %s: virtual size %d differs from %d", p.path, p.p.size, child.p.size))
	case p.p.logical != child.p.logical:
		return withPath(child.path, errf(ErrParentMismatch, "parent %s: logical sector size %d differs from %d", p.path, p.p.logical, child.p.logical))
	}
	return nil
}

// sameFile compares two layers by canonical path and by file identity.
func sameFile(a, b *layer) bool {
	if canonical(a.path) == canonical(b.path) {
		return true
	}
	if a.src.f == nil || b.src.f == nil {
		return false
	}
	sa, err1 := a.src.f.Stat()
	sb, err2 := b.src.f.Stat()
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// canonical is an absolute, symlink-free form of path (best effort).
func canonical(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	if p, err := filepath.Abs(path); err == nil {
		path = p
	}
	return path
}

// parentCandidates lists the files to try as the parent, in order:
// relative_path from the child's directory; volume_path and
// absolute_win32_path as local paths; then, for those two, the base name in
// the child's directory.
func parentCandidates(child *layer) []string {
	dir := filepath.Dir(child.path)
	var out []string
	add := func(p string) {
		for _, o := range out {
			if o == p {
				return
			}
		}
		out = append(out, p)
	}
	if rel := child.loc.kv[keyRelative]; rel != "" {
		add(filepath.Join(dir, localPath(rel)))
	}
	for _, k := range []string{keyVolume, keyAbsolute} {
		if v := child.loc.kv[k]; v != "" {
			add(localPath(v))
			add(filepath.Join(dir, filepath.Base(localPath(v))))
		}
	}
	return out
}

// localPath maps a Windows path from a locator to this system: the `\\?\`
// prefix is dropped and backslashes become separators. A drive-letter or
// volume path keeps its prefix and so normally does not exist here.
func localPath(p string) string {
	p = strings.TrimPrefix(p, `\\?\`)
	return filepath.FromSlash(strings.ReplaceAll(p, `\`, "/"))
}
