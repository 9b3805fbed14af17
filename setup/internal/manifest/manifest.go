// Package manifest records what hvm-setup installed, so that upgrade,
// uninstall and status know what is theirs.
package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Format is the manifest's format version.
const Format = 1

// ErrNotInstalled means no manifest exists: hvm-setup installed nothing
// there.
var ErrNotInstalled = errors.New("no hvm-setup installation found")

// Manifest is what one installation holds. Paths are live paths.
type Manifest struct {
	Format      int       `json:"format"`
	Release     string    `json:"release"`
	InstalledAt time.Time `json:"installed_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Offline is true when the installation went under a root directory and
	// the running system was not touched: the user was not created and no
	// service manager was told.
	Offline bool `json:"offline"`
	// User is the service account; UserCreated says whether hvm-setup made
	// it (false when it existed, or when offline).
	User        string `json:"user"`
	UserCreated bool   `json:"user_created"`

	Binaries []File    `json:"binaries"`
	Services []Service `json:"services"`
	// Config are the configuration files, kept on upgrade and uninstall.
	Config []string `json:"config"`
	// Dirs are the directories made, outermost first.
	Dirs []string `json:"dirs"`
}

// File is an installed file and its SHA-256.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Service is an installed service and the files that define it.
type Service struct {
	Name  string   `json:"name"`
	Files []string `json:"files,omitempty"`
}

// Load reads the manifest at path; ErrNotInstalled when it is absent.
func Load(path string) (Manifest, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%w (%s is missing)", ErrNotInstalled, path)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("manifest %s: %w", path, err)
	}
	if m.Format != Format {
		return Manifest{}, fmt.Errorf("manifest %s: format %d, this hvm-setup reads %d", path, m.Format, Format)
	}
	return m, nil
}

// Save writes m to path atomically, readable by everyone (it holds no
// secret).
func Save(path string, m Manifest) error {
	m.Format = Format
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return WriteAtomic(path, append(b, '\n'), 0o644)
}

// WriteAtomic writes data to a temporary file beside path and renames it
// over path, so that a reader, or a running service's binary, sees the old
// file or the new one, never a half-written one.
func WriteAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("set mode of %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}
