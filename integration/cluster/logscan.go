package cluster

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Lines returns the lines of the program's log, over every life, that
// contain every one of substrs.
func (p *Proc) Lines(substrs ...string) []string {
	f, err := os.Open(p.LogPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
next:
	for sc.Scan() {
		line := sc.Text()
		for _, s := range substrs {
			if !strings.Contains(line, s) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}

// LogField returns the value of key=value in a log line, unquoted, or ""
// if the line has no such field.
func LogField(line, key string) string {
	re := regexp.MustCompile(`(?:^|\s)` + regexp.QuoteMeta(key) + `=("(?:[^"\\]|\\.)*"|\S*)`)
	m := re.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	if v, err := strconv.Unquote(m[1]); err == nil {
		return v
	}
	return m[1]
}

// LogInt returns the integer value of key=value in a log line, or -1.
func LogInt(line, key string) int64 {
	n, err := strconv.ParseInt(LogField(line, key), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
