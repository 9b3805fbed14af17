//go:build windows

package main

import "os"

// peakRSSMiB is not measured on Windows.
func peakRSSMiB(*os.ProcessState) float64 { return 0 }
