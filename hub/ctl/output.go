package ctl

import (
	"encoding/json"
	"fmt"
	"hvmigrate/shared/cmdline"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// table prints rows under a header, aligned, or (for -o json) the values.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// emit writes v as indented JSON when the output is json, else the table.
func (o *options) emit(w io.Writer, v any, t *table) error {
	switch o.output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "table", "":
		return t.write(w)
	}
	return cmdline.Usage(fmt.Errorf("output %q: use table or json", o.output))
}

// when formats a unix time for people; 0 is "-".
func when(unix int64) string {
	if unix == 0 {
		return "-"
	}
	return time.Unix(unix, 0).UTC().Format("2006-01-02 15:04:05Z")
}

// timeOrNil converts a unix time for JSON; 0 is null.
func timeOrNil(unix int64) *time.Time {
	if unix == 0 {
		return nil
	}
	t := time.Unix(unix, 0).UTC()
	return &t
}

// parseValidity accepts Go durations plus a "d" (day) suffix: 5d, 36h.
func parseValidity(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != days {
			return 0, cmdline.Usage(fmt.Errorf("validity %q: use e.g. 5d or 36h", s))
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, cmdline.Usage(fmt.Errorf("validity %q: use e.g. 5d or 36h", s))
	}
	return d, nil
}
