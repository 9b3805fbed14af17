package simhost

// isSyncUnsupported reports a file system that cannot sync directories:
// Windows cannot sync a directory handle at all.
func isSyncUnsupported(error) bool { return true }
