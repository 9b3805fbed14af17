//go:build !windows

package cmdline

import "context"

// runAsService reports false: only Windows has a service control manager
// to answer (systemd needs nothing beyond SIGTERM).
func runAsService(string, func(context.Context) int) (int, bool) { return 0, false }
