package vhdx

import (
	"unicode/utf16"

	"hvmigrate/shared/vdisk"
)

// Parent locator keys of the VHDX locator type (2.6.2.6.3).
const (
	keyLinkage  = "parent_linkage"
	keyLinkage2 = "parent_linkage2"
	keyRelative = "relative_path"
	keyVolume   = "volume_path"
	keyAbsolute = "absolute_win32_path"
)

// locator is a decoded parent locator item.
type locator struct {
	typ vdisk.GUID
	kv  map[string]string
}

// parseLocator decodes and checks a parent locator item.
func parseLocator(b []byte) (locator, error) {
	var l locator
	if len(b) < 20 {
		return l, errf(ErrCorrupt, "parent locator: length %d below 20", len(b))
	}
	l.typ = getGUID(b)
	if l.typ.String() != guidVHDXLocator {
		return l, errf(ErrUnsupported, "parent locator: type %s not the VHDX locator", l.typ)
	}
	count := int(u16(b[18:]))
	if 20+12*count > len(b) {
		return l, errf(ErrCorrupt, "parent locator: %d entries do not fit in %d bytes", count, len(b))
	}
	l.kv = make(map[string]string, count)
	for i := range count {
		k, v, err := locatorEntry(b, b[20+12*i:])
		if err != nil {
			return l, within(sprintf("parent locator: entry %d", i), err)
		}
		if _, dup := l.kv[k]; dup {
			return l, errf(ErrCorrupt, "parent locator: entry %d: key %q repeats", i, k)
		}
		l.kv[k] = v
	}
	return l, l.check()
}

// locatorEntry decodes the key and value of one entry.
func locatorEntry(item, e []byte) (string, string, error) {
	ko, vo := int64(u32(e)), int64(u32(e[4:]))
	kl, vl := int64(u16(e[8:])), int64(u16(e[10:]))
	key, err := utf16At(item, ko, kl, "key")
	if err != nil {
		return "", "", err
	}
	val, err := utf16At(item, vo, vl, "value")
	return key, val, err
}

// utf16At decodes n bytes of UTF-16LE at off in item.
func utf16At(item []byte, off, n int64, what string) (string, error) {
	switch {
	case off == 0 || n == 0:
		return "", errf(ErrCorrupt, "%s offset %d or length %d is zero", what, off, n)
	case n%2 != 0:
		return "", errf(ErrCorrupt, "%s length %d is odd", what, n)
	case off+n > int64(len(item)):
		return "", errf(ErrCorrupt, "%s [%d, +%d) beyond item length %d", what, off, n, len(item))
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = u16(item[off+2*int64(i):])
	}
	return string(utf16.Decode(u)), nil
}

// check requires a linkage and at least one path.
func (l locator) check() error {
	if _, ok := l.kv[keyLinkage]; !ok {
		return errf(ErrCorrupt, "parent locator: %s missing", keyLinkage)
	}
	for _, k := range []string{keyLinkage, keyLinkage2} {
		if v, ok := l.kv[k]; ok {
			if _, err := parseGUIDText(v); err != nil {
				return errf(ErrCorrupt, "parent locator: %s: %v", k, err)
			}
		}
	}
	for _, k := range []string{keyRelative, keyVolume, keyAbsolute} {
		if l.kv[k] != "" {
			return nil
		}
	}
	return errf(ErrCorrupt, "parent locator: no parent path")
}

// linkages returns the parent identities the child accepts.
func (l locator) linkages() []vdisk.GUID {
	var gs []vdisk.GUID
	for _, k := range []string{keyLinkage, keyLinkage2} {
		if g, err := parseGUIDText(l.kv[k]); err == nil {
			gs = append(gs, g)
		}
	}
	return gs
}

// encodeLocator renders a VHDX parent locator with the given pairs in order.
func encodeLocator(pairs [][2]string) []byte {
	enc := func(s string) []byte {
		u := utf16.Encode([]rune(s))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			put16(b[2*i:], c)
		}
		return b
	}
	b := make([]byte, 20+12*len(pairs))
	putGUID(b, mustGUID(guidVHDXLocator))
	put16(b[18:], uint16(len(pairs)))
	for i, kv := range pairs {
		k, v := enc(kv[0]), enc(kv[1])
		e := b[20+12*i:]
		put32(e, uint32(len(b)))
		put32(e[4:], uint32(len(b)+len(k)))
		put16(e[8:], uint16(len(k)))
		put16(e[10:], uint16(len(v)))
		b = append(append(b, k...), v...)
	}
	return b
}
