package installer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/manifest"
	"hvmigrate/setup/internal/system"
)

// binaryNames are the payload's files, as named on this OS.
func binaryNames() []string {
	return []string{layout.BinaryFile(layout.Provider), layout.BinaryFile(layout.Agent)}
}

// dir is a directory of the installation, its mode and who owns it.
type dir struct {
	path  string
	mode  fs.FileMode
	owner ownership
}

type ownership int

const (
	ownerRoot    ownership = iota // root:root
	ownerGroup                    // root:hvmigrate
	ownerAccount                  // hvmigrate:hvmigrate
)

// dirs are the installation's directories, outermost first.
func (in *Installer) dirs() []dir {
	l := in.l
	return []dir{
		{l.Base, 0o755, ownerRoot},
		{l.BinDir, 0o755, ownerRoot},
		{l.ConfigDir, 0o750, ownerGroup},
		{l.StateDir, 0o700, ownerAccount},
		{l.AgentState, 0o700, ownerAccount},
		{l.ProviderDir, 0o700, ownerAccount},
		{l.IdentityDir, 0o700, ownerAccount},
	}
}

// makeDirs creates the directories (their parents as 0755) and sets their
// modes and owners, also when they existed.
func (in *Installer) makeDirs(a system.Account) ([]string, error) {
	var made []string
	for _, d := range in.dirs() {
		p := in.l.At(d.path)
		if err := os.MkdirAll(p, d.mode); err != nil {
			return nil, fmt.Errorf("create %s: %w", d.path, err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return nil, fmt.Errorf("set mode of %s: %w", d.path, err)
		}
		if d.owner != ownerRoot {
			if err := in.cfg.Platform.Own(p, a, d.owner == ownerGroup); err != nil {
				return nil, err
			}
		}
		made = append(made, d.path)
	}
	return made, nil
}

// installBinaries writes every payload binary into the bin directory,
// each replaced in one rename, and returns their hashes.
func (in *Installer) installBinaries() ([]manifest.File, error) {
	var files []manifest.File
	for _, name := range binaryNames() {
		live := filepath.Join(in.l.BinDir, name)
		sum, err := in.installBinary(name, in.l.At(live))
		if err != nil {
			return nil, err
		}
		files = append(files, manifest.File{Path: live, SHA256: sum})
	}
	return files, nil
}

func (in *Installer) installBinary(name, dst string) (string, error) {
	src, err := in.cfg.Payload.Open(name)
	if err != nil {
		return "", err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+name+".*")
	if err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), src); err != nil {
		tmp.Close()
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fileSum is the SHA-256 of a file, or "" when it cannot be read.
func fileSum(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// copyConfigFile copies src to the live path dst: root-owned, readable by
// the account's group.
func (in *Installer) copyConfigFile(src, dst string, a system.Account) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	if err := manifest.WriteAtomic(in.l.At(dst), b, 0o640); err != nil {
		return err
	}
	return in.cfg.Platform.Own(in.l.At(dst), a, true)
}

// ownTree gives a directory and everything in it to the account.
func (in *Installer) ownTree(root string, a system.Account) error {
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		return in.cfg.Platform.Own(p, a, false)
	})
}

// saveManifest stamps and writes the manifest.
func (in *Installer) saveManifest(m manifest.Manifest) error {
	m.Release, m.UpdatedAt = in.cfg.Release, in.cfg.Now().UTC()
	return manifest.Save(in.l.At(in.l.Manifest), m)
}
