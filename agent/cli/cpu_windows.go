package cli

import (
	"time"

	"golang.org/x/sys/windows"
)

// cpuTime is the user and kernel CPU time this process has used.
func cpuTime() time.Duration {
	var creation, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &user); err != nil {
		return 0
	}
	return hundredNanos(kernel) + hundredNanos(user)
}

// hundredNanos reads a FILETIME that holds a duration in 100 ns units.
func hundredNanos(ft windows.Filetime) time.Duration {
	return time.Duration(int64(ft.HighDateTime)<<32|int64(ft.LowDateTime)) * 100
}

// peakRSS is not reported on Windows (x/sys has no binding for
// GetProcessMemoryInfo); the summary shows 0.
func peakRSS() int64 { return 0 }
