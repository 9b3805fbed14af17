package hrlcmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"hvmigrate/shared/hrl"
)

// headerView is the header as printed: raw fields plus decoded text.
type headerView struct {
	hrl.Header
	Cookie             string `json:"cookie"`
	CreatorApplication string `json:"creator_application"`
	Created            string `json:"created"`
	LastModified       string `json:"last_modified"`
}

func viewHeader(h hrl.Header) headerView {
	return headerView{
		Header:             h,
		Cookie:             strings.TrimRight(string(h.Cookie[:]), "\x00"),
		CreatorApplication: strings.TrimRight(string(h.CreatorApplication[:]), "\x00"),
		Created:            hrl.Time(h.TimeStamp).Format("2006-01-02T15:04:05Z"),
		LastModified:       hrl.Time(h.LastModifiedTimeStamp).Format("2006-01-02T15:04:05Z"),
	}
}

// Dump writes one JSON object describing the log at path: its header,
// blocks, entries in replay order and warnings. Entries are streamed, one
// per line, so a large log is never held in memory.
func Dump(w io.Writer, path string, opts hrl.Options) (err error) {
	l, err := hrl.Open(path, opts)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, l.Close()) }()
	pw := &printer{w: w}
	pw.printf("{\n\"file\": %s,\n\"header\": %s,\n\"blocks\": %s,\n\"entries\": [", pw.json(path), pw.json(viewHeader(l.Header())), pw.json(l.Blocks()))
	sep := "\n"
	for e, ierr := range l.Entries() {
		if ierr != nil {
			return ierr
		}
		pw.printf("%s%s", sep, pw.json(e))
		sep = ",\n"
	}
	warnings, dropped := l.Warnings()
	pw.printf("\n],\n\"warnings\": %s,\n\"warnings_dropped\": %d\n}\n", pw.json(nonNil(warnings)), dropped)
	return pw.err
}

// Verify validates the log at path and its data checksums, and prints a
// one-line summary and any warnings. The error wraps the hrl sentinel.
func Verify(w io.Writer, path string, opts hrl.Options) (err error) {
	l, err := hrl.Open(path, opts)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, l.Close()) }()
	if err := l.Verify(); err != nil {
		return err
	}
	warnings, dropped := l.Warnings()
	pw := &printer{w: w}
	pw.printf("%s: ok: %d blocks, %d entries, %d bytes logged, %d warnings\n",
		path, len(l.Blocks()), l.EntryCount(), l.BytesLogged(), len(warnings)+dropped)
	for _, wn := range warnings {
		pw.printf("warning: %s\n", wn)
	}
	return pw.err
}

// extentsReport is what the extents subcommand prints.
type extentsReport struct {
	Logs    []string     `json:"logs"`
	Extents []hrl.Extent `json:"extents"`
	hrl.Stats
}

// Extents coalesces the logs at paths, in chain order, and writes the
// surviving extents and the byte counts as JSON.
func Extents(w io.Writer, paths []string, opts hrl.Options) (err error) {
	c := hrl.NewCoalescer()
	for _, p := range paths {
		o := opts
		o.Name = ""
		l, err := hrl.Open(p, o)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, l.Close()) }()
		if err := c.Add(l); err != nil {
			return err
		}
	}
	rep := extentsReport{Logs: paths, Extents: make([]hrl.Extent, 0, c.Len()), Stats: c.Stats()}
	for e := range c.Extents() {
		rep.Extents = append(rep.Extents, e)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// printer writes formatted output and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) json(v any) string {
	b, err := json.Marshal(v)
	if err != nil && p.err == nil {
		p.err = err
	}
	return string(b)
}
