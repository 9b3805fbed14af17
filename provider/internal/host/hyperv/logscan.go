package hyperv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"hvmigrate/shared/hrl"
	"hvmigrate/shared/vhdx"
)

// Host file access that is not WMI: the logs Hyper-V Replica writes and
// the VHDX headers. These are plain files on the host, so the code is the
// same on every platform and is tested with real files.

// scanLogs reads the header of every .hrl file in dir whose name starts
// with stem, sorted by name. A missing folder means no logs. It is the
// file half of wmiHost.listLogs, shared by every implementation that sees
// the logs as local files.
func scanLogs(dir, stem string) ([]logFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list logs in %s: %w", dir, err)
	}
	var out []logFile
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.EqualFold(filepath.Ext(name), ".hrl") || !hasPrefixFold(name, stem) {
			continue
		}
		out = append(out, readLogHeader(filepath.Join(dir, name)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// readLogHeader reads and checks one log's 4096-byte header. A file that
// cannot be opened or is shorter than a header is Busy (the log being
// written may be held exclusively, or be just created); a log whose EOLLocation is 0 is open, not closed.
func readLogHeader(path string) logFile {
	lf := logFile{Path: path}
	f, err := os.Open(path)
	if err != nil {
		lf.Busy = true
		return lf
	}
	defer f.Close()
	buf := make([]byte, hrl.HeaderSize)
	if _, err := io.ReadFull(f, buf); err != nil {
		// Shorter than a header: a log still being created.
		lf.Busy = true
		return lf
	}
	h, err := hrl.ParseHeader(buf)
	switch {
	case errors.Is(err, hrl.ErrNotClosed):
	case err != nil:
		lf.Err = err
		return lf
	default:
		lf.Closed = true
	}
	lf.ID = guidText(h.UniqueID)
	lf.Prev = guidText(h.PreviousUniqueID)
	return lf
}

func guidText(g hrl.GUID) string {
	if g.IsZero() {
		return ""
	}
	return g.String()
}

// readDataWriteGUID opens a VHDX file (and its parents) read-only and
// returns the DataWriteGuid of its header.
func readDataWriteGUID(path string) (string, error) {
	d, err := vhdx.Open(path)
	if err != nil {
		return "", fmt.Errorf("read vhdx header of %s: %w", path, err)
	}
	defer d.Close()
	return d.Identity().DataWriteGUID.String(), nil
}
