package diskcmd

import (
	"context"
	"fmt"

	"hvmigrate/shared/vdisk"
)

// maxProblems bounds the problems a report keeps.
const maxProblems = 100

// Report is the result of Verify.
type Report struct {
	Path      string   `json:"path"`
	Size      int64    `json:"virtual_size"`
	DataBytes int64    `json:"data_bytes_read"`
	Warnings  []string `json:"warnings,omitempty"`
	Problems  []string `json:"problems,omitempty"`
	// Dropped counts problems beyond the ones kept.
	Dropped int `json:"problems_dropped,omitempty"`
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(format string, a ...any) {
	if len(r.Problems) == maxProblems {
		r.Dropped++
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
}

// Verify walks every extent of an opened disk (its chain was checked when
// it was opened), checks that they tile the disk, and reads every data
// byte. Read errors are collected, not fatal; an extent map error ends the
// walk.
func Verify(ctx context.Context, img vdisk.Image, o Options) Report {
	r := Report{Path: img.Describe().Path, Size: img.Size()}
	if w, ok := img.(warner); ok {
		r.Warnings = w.Warnings()
	}
	err := pump(ctx, img, o, nil, func(c *chunk) error {
		switch {
		case c.err != nil:
			r.add("%v", c.err)
		case c.kind == vdisk.KindData:
			r.DataBytes += c.n
		}
		return nil
	})
	if err != nil {
		r.add("%v", err)
	}
	return r
}
