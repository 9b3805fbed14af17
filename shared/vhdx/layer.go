package vhdx

import (
	"fmt"
	"io"
	"os"
)

// layer is one opened VHDX file of a chain, validated.
type layer struct {
	path   string
	src    *source
	hdr    header
	slot   int // slot of the current header (0 or 1)
	p      params
	geo    geometry
	bat    region
	meta   region
	log    span
	loc    locator
	parent *layer
}

// openLayer opens and validates one VHDX file with the given flags.
func openLayer(path string, flag int) (*layer, error) {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("vhdx: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vhdx: %w", err)
	}
	l, err := loadLayer(path, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	l.src.f = f
	return l, nil
}

// loadLayer reads and validates a VHDX held by r.
func loadLayer(path string, r io.ReaderAt, size int64) (*layer, error) {
	l := &layer{path: path, src: &source{r: r, phys: size}}
	if err := l.load(); err != nil {
		return nil, withPath(path, err)
	}
	return l, nil
}

// load reads and validates every structure of the file.
func (l *layer) load() error {
	steps := []func() error{l.loadHeader, l.loadLog, l.loadRegions, l.loadMetadata, l.checkBAT}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// loadHeader checks the file identifier and picks the current header.
func (l *layer) loadHeader() error {
	if l.src.phys < headerSection {
		return errf(ErrCorrupt, "file size %d below 1 MiB", l.src.phys)
	}
	b := make([]byte, region1Off)
	if _, err := l.src.r.ReadAt(b, 0); err != nil {
		return fmt.Errorf("read headers: %w", err)
	}
	if string(b[0:8]) != sigFile {
		return errf(ErrCorrupt, "file identifier: signature %q not %q", b[0:8], sigFile)
	}
	h, slot, err := pickHeader(b[header1Off:header1Off+headerSize], b[header2Off:header2Off+headerSize])
	if err != nil {
		return err
	}
	if err := h.checkLogPlacement(l.src.phys); err != nil {
		return err
	}
	l.hdr, l.slot = h, slot
	l.log = span{int64(h.logOffset), int64(h.logLength), "log"}
	return nil
}

// loadLog replays an active log sequence into the overlay.
func (l *layer) loadLog() error {
	if l.hdr.logGUID.IsZero() {
		return nil
	}
	if l.log.n > maxReplayLog {
		return errf(ErrUnsupported, "log: length 0x%x above the replay limit 0x%x", l.log.n, maxReplayLog)
	}
	buf := make([]byte, l.log.n)
	if _, err := l.src.r.ReadAt(buf, l.log.off); err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	seq, err := activeSequence(buf, l.hdr.logGUID)
	if seq == nil || err != nil {
		return err
	}
	ov, err := buildOverlay(seq, l.src.phys, l.log)
	if err != nil {
		return err
	}
	l.src.ov = ov
	return nil
}

// loadRegions reads region table 1, or table 2 if table 1 is bad.
func (l *layer) loadRegions() error {
	var first error
	for i, off := range []int64{region1Off, region2Off} {
		b, err := l.src.readN(off, regionSize)
		if err != nil {
			return err
		}
		rs, err := parseRegionTable(b)
		if err == nil {
			l.bat, l.meta, err = placeRegions(rs, l.src.size(), l.log)
		}
		if err == nil {
			return nil
		}
		if first == nil {
			first = within(sprintf("region table %d", i+1), err)
		}
	}
	return first
}

// loadMetadata reads the metadata table and the system items.
func (l *layer) loadMetadata() error {
	tb, err := l.src.readN(l.meta.off, metadataTableSize)
	if err != nil {
		return err
	}
	es, err := parseMetadataTable(tb, l.meta.length)
	if err != nil {
		return err
	}
	l.p, err = readParams(es, func(off, n int64) ([]byte, error) {
		return l.src.readN(l.meta.off+off, n)
	})
	if err != nil {
		return err
	}
	l.geo = newGeometry(l.p)
	if l.p.hasParent {
		if l.loc, err = parseLocator(l.p.locator); err != nil {
			return within("metadata", err)
		}
	}
	if need := l.geo.entries * 8; l.bat.length < need {
		return errf(ErrCorrupt, "BAT region: length 0x%x below 0x%x for %d entries", l.bat.length, need, l.geo.entries)
	}
	return nil
}

// close closes this layer and its parents.
func (l *layer) close() error {
	var err error
	for ; l != nil; l = l.parent {
		if l.src.f == nil {
			continue
		}
		if e := l.src.f.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}
