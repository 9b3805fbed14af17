// Package layout says where an hvmigrate installation puts its files on
// each OS, and maps those paths under an install root for tests and
// package staging.
package layout

import (
	"path/filepath"
)

// Names shared by every OS.
const (
	// User is the account both services run as.
	User = "hvmigrate"
	// Agent and Provider are the service (and binary) names.
	Agent    = "hvm-agent"
	Provider = "hvm-provider"
)

// Layout is where an installation's files go. Every path field is the path
// the services see on the running system; At maps one under Root, where the
// files are written.
type Layout struct {
	// Root is where files are written: empty for the live system.
	Root string

	Base          string // the installation's own directory (binaries, manifest)
	BinDir        string // the binaries
	ConfigDir     string // the services' configuration
	StateDir      string // every service's durable state
	AgentState    string // hvm-agent serve --state-dir
	ProviderDir   string // the provider's state and identity
	IdentityDir   string // hvm-provider register --dir, run --identity
	ProviderState string // hvm-provider run --state
	AgentEndpoint string // the local wire: socket path or pipe name
	UnitDir       string // systemd units (empty on Windows)
	Manifest      string // what hvm-setup installed
}

// New returns the layout of this OS with files written under root; an
// empty root, or the root of a file system, is the live system.
func New(root string) Layout {
	l := defaults()
	if root != "" {
		root = filepath.Clean(root)
		if filepath.Dir(root) != root {
			l.Root = root
		}
	}
	return l
}

// Live reports whether files go to the running system.
func (l Layout) Live() bool { return l.Root == "" }

// At is where the live path p is written.
func (l Layout) At(p string) string {
	if l.Live() {
		return p
	}
	return filepath.Join(l.Root, p[len(filepath.VolumeName(p)):])
}

// Binary is the live path of the named binary.
func (l Layout) Binary(name string) string { return filepath.Join(l.BinDir, name+exeSuffix) }

// BinaryFile is the file name of the named binary on this OS.
func BinaryFile(name string) string { return name + exeSuffix }
