//go:build unix

package main

import (
	"os"
	"syscall"
)

// peakRSSMiB returns a finished child's peak resident set size.
func peakRSSMiB(ps *os.ProcessState) float64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}
