package layout

import (
	"os"
	"path/filepath"
)

const exeSuffix = ".exe"

func defaults() Layout {
	programFiles := envOr("ProgramFiles", `C:\Program Files`)
	programData := envOr("ProgramData", `C:\ProgramData`)
	base := filepath.Join(programFiles, "hvmigrate")
	state := filepath.Join(programData, "hvmigrate")
	return Layout{
		Base:          base,
		BinDir:        filepath.Join(base, "bin"),
		ConfigDir:     filepath.Join(state, "config"),
		StateDir:      state,
		AgentState:    filepath.Join(state, "agent"),
		ProviderDir:   filepath.Join(state, "provider"),
		IdentityDir:   filepath.Join(state, "provider", "identity"),
		ProviderState: filepath.Join(state, "provider", "state.db"),
		AgentEndpoint: `\\.\pipe\hvmigrate-agent`,
		Manifest:      filepath.Join(base, "install.json"),
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
