package cli

import (
	"os"
	"path/filepath"
)

func defaultIdentityDir() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "hvmigrate", "provider", "identity")
}
