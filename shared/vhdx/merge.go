package vhdx

import (
	"fmt"
	"os"
	"path/filepath"

	"hvmigrate/shared/vdisk"
)

// Merge merges the differencing disk at childPath into its parent and
// removes the child: the checkpoint delete of a Hyper-V host. The protocol
// (see doc.go) makes an interrupted Merge safe to run again: the child
// first learns the DataWriteGuid the parent will carry (parent_linkage2),
// the parent is then updated block by block through its Writer, and the
// child is removed last. Until the removal the chain reads the same bytes.
// Children of childPath itself are not re-pointed.
func Merge(childPath string) error {
	c, err := Open(childPath)
	if err != nil {
		return err
	}
	if c.top.parent == nil {
		c.Close()
		return withPath(childPath, errf(ErrUnsupported, "merge: not a differencing disk"))
	}
	parentPath, current := c.top.parent.path, c.top.parent.hdr.dataWrite
	c.Close()
	next, err := newGUID()
	if err != nil {
		return err
	}
	if err := relink(childPath, current, next); err != nil {
		return err
	}
	if err := mergeData(childPath, parentPath, next); err != nil {
		return err
	}
	if err := os.Remove(childPath); err != nil {
		return fmt.Errorf("vhdx: merge: %w", err)
	}
	return syncDir(filepath.Dir(childPath))
}

// mergeData copies the child's own sectors into the parent.
func mergeData(childPath, parentPath string, next vdisk.GUID) error {
	pw, err := openWriter(parentPath, next)
	if err != nil {
		return err
	}
	c, err := Open(childPath)
	if err != nil {
		pw.Close()
		return err
	}
	err = copyOwn(c.top, pw)
	c.Close()
	if cerr := pw.Close(); err == nil {
		err = cerr
	}
	return err
}

// relink rewrites the child's parent locator so that it accepts the
// parent's DataWriteGuid now (keep) and after the merge's first write
// (next).
func relink(childPath string, keep, next vdisk.GUID) error {
	w, err := OpenWriter(childPath)
	if err != nil {
		return err
	}
	l := w.l
	pairs := [][2]string{{keyLinkage, braced(keep)}, {keyLinkage2, braced(next)}}
	for _, k := range []string{keyRelative, keyVolume, keyAbsolute} {
		if v := l.loc.kv[k]; v != "" {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	p := l.p
	p.locator = encodeLocator(pairs)
	region := metadataRegion(p)
	if int64(len(region)) > l.meta.length {
		w.Close()
		return withPath(childPath, errf(ErrUnsupported, "merge: new metadata does not fit the region"))
	}
	ch := changes{}
	for off := int64(0); off < int64(len(region)); off += logSector {
		sec := make([]byte, logSector)
		copy(sec, region[off:])
		ch[l.meta.off+off] = sec
	}
	w.mu.Lock()
	err = w.commit(ch)
	w.mu.Unlock()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return withPath(childPath, err)
}
