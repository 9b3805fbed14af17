package azurite

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// DirVar names the environment variable that points at the folder whose
// node_modules holds Azurite; it overrides the search from the module root.
const DirVar = "HVM_AZURITE_DIR"

// ErrNotInstalled reports that node or the Azurite package is missing.
var ErrNotInstalled = errors.New("azurite is not installed")

// mainScript is the blob service entry point inside the npm package.
var mainScript = filepath.Join("node_modules", "azurite", "dist", "src", "blob", "main.js")

// Locate returns the path of the blob service script: under $HVM_AZURITE_DIR
// when set, else under tools/npm of the Go module that contains the working
// directory.
func Locate() (string, error) {
	dir := os.Getenv(DirVar)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "tools", "npm")
	}
	script := filepath.Join(dir, mainScript)
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("%w: %s (run make deps, or set %s)", ErrNotInstalled, script, DirVar)
	}
	return script, nil
}

// lookNode returns the node executable.
func lookNode() (string, error) {
	p, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("%w: node: %w", ErrNotInstalled, err)
	}
	return p, nil
}

// moduleRoot walks up from the working directory to the folder with go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no go.mod above the working directory", ErrNotInstalled)
		}
		dir = parent
	}
}
