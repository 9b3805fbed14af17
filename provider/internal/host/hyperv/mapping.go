package hyperv

import (
	"context"
	"fmt"
	"strings"

	"hvmigrate/provider/internal/host"
)

// maxChainDepth bounds the walk from a disk's current file to its base.
const maxChainDepth = 64

// diskInfo is a host.Disk and the base file of its chain.
type diskInfo struct {
	host.Disk
	Base string
}

// disk describes the disk whose current file is path. Its ID is the
// VirtualDiskId of the chain's base file, so it survives checkpoints.
func (b *Backend) disk(ctx context.Context, path string) (diskInfo, error) {
	d, base, err := b.diskOf(ctx, path)
	return diskInfo{Disk: d, Base: base}, err
}

func (b *Backend) diskOf(ctx context.Context, path string) (host.Disk, string, error) {
	top, err := b.vhd(ctx, path)
	if err != nil {
		return host.Disk{}, "", err
	}
	base, err := b.chainBase(ctx, top)
	if err != nil {
		return host.Disk{}, "", err
	}
	d := host.Disk{
		ID:                canonicalGUID(base.VirtualDiskID),
		Path:              top.Path,
		VirtualSize:       top.MaxInternalSize,
		LogicalSectorSize: top.LogicalSectorSize,
	}
	switch top.Format {
	case formatVHDX:
		d.Format = "vhdx"
		d.DataWriteGUID = b.dataWriteGUID(ctx, path)
	case formatVHD:
		d.Format = "vhd"
	default:
		return host.Disk{}, "", fmt.Errorf("disk %s: format %d: %w", path, top.Format, host.ErrUnsupported)
	}
	if d.ID == "" {
		return host.Disk{}, "", fmt.Errorf("disk %s: no virtual disk id: %w", base.Path, host.ErrUnsupported)
	}
	return d, base.Path, nil
}

// dataWriteGUID reads a VHDX's DataWriteGuid. It is best effort: a file
// the backend cannot open (Hyper-V may hold it) yields "" and a warning,
// rather than hiding the VM.
func (b *Backend) dataWriteGUID(ctx context.Context, path string) string {
	g, err := b.w.dataWriteGUID(ctx, path)
	if err != nil {
		b.log.Warn("cannot read vhdx data write guid", "path", path, "error", err)
		return ""
	}
	return canonicalGUID(g)
}

func (b *Backend) vhd(ctx context.Context, path string) (vhdRecord, error) {
	return query(ctx, b, "disk settings of "+path, func() (vhdRecord, error) { return b.w.vhdSettings(ctx, path) })
}

// chainBase follows ParentPath from top to the file with no parent.
func (b *Backend) chainBase(ctx context.Context, top vhdRecord) (vhdRecord, error) {
	cur := top
	seen := map[string]bool{samePathKey(cur.Path): true}
	for range maxChainDepth {
		if cur.ParentPath == "" {
			return cur, nil
		}
		if seen[samePathKey(cur.ParentPath)] {
			return vhdRecord{}, fmt.Errorf("disk %s: parent chain loops at %s: %w", top.Path, cur.ParentPath, host.ErrUnsupported)
		}
		seen[samePathKey(cur.ParentPath)] = true
		next, err := b.vhd(ctx, cur.ParentPath)
		if err != nil {
			return vhdRecord{}, err
		}
		cur = next
	}
	return vhdRecord{}, fmt.Errorf("disk %s: parent chain deeper than %d: %w", top.Path, maxChainDepth, host.ErrUnsupported)
}

// canonicalGUID renders a GUID as lowercase 8-4-4-4-12 without braces.
func canonicalGUID(s string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(s), "{}"))
}

// samePathKey folds a Windows path for comparison: case-insensitive, one
// separator style.
func samePathKey(p string) string {
	return strings.ToLower(strings.ReplaceAll(p, "/", `\`))
}

// generation reads the VM generation from VirtualSystemSubType.
func generation(subType string) int {
	switch {
	case strings.HasSuffix(subType, ":2"):
		return 2
	case strings.HasSuffix(subType, ":1"):
		return 1
	}
	return 0
}

// power maps EnabledState to the provider's three power states.
func power(enabled uint16) host.PowerState {
	switch enabled {
	case stateEnabled:
		return host.PowerRunning
	case stateDisabled:
		return host.PowerOff
	}
	return host.PowerOther
}

// trackingOn reports whether Hyper-V Replica is tracking writes for a VM
// that is a replication primary: replication has been started (Ready
// means enabled but not started, so no log yet).
func trackingOn(r replicationRecord) bool {
	switch r.State {
	case replWaitingInitial, replReplicating, replSyncedComplete,
		replSuspended, replCritical, replWaitingResync, replResynchronizing, replResyncSuspended:
		return r.Mode == 1
	}
	return false
}

// resyncReason says why the host lost track of writes, or "" if it did not.
func resyncReason(r replicationRecord) string {
	switch {
	case r.State == replWaitingResync:
		return "hyper-v replica requires resynchronization"
	case r.State == replCritical && r.Health == replHealthCritical:
		return "hyper-v replica is in critical state"
	}
	return ""
}

// nics maps network adapters, formatting MAC addresses as 00:15:5D:...
func nics(recs []nicRecord) []host.NIC {
	var out []host.NIC
	for _, n := range recs {
		out = append(out, host.NIC{Name: n.Name, MACAddress: formatMAC(n.Address), SwitchName: n.SwitchName})
	}
	return out
}

func formatMAC(a string) string {
	a = strings.ToUpper(strings.NewReplacer("-", "", ":", "").Replace(a))
	if len(a) != 12 {
		return a
	}
	parts := make([]string, 6)
	for i := range parts {
		parts[i] = a[2*i : 2*i+2]
	}
	return strings.Join(parts, ":")
}

// logDir is the folder Hyper-V Replica keeps a disk's logs in, and stem the
// file-name prefix of that disk's logs: the base file's name without
// extension. Paths are the host's (Windows) paths, so this does not use
// path/filepath, whose rules follow the build platform.
func (b *Backend) logDir(basePath string) (dir, stem string) {
	parent, name, sep := "", basePath, `\`
	if i := strings.LastIndexAny(basePath, `\/`); i >= 0 {
		parent, name, sep = basePath[:i], basePath[i+1:], basePath[i:i+1]
	}
	if j := strings.LastIndex(name, "."); j > 0 {
		name = name[:j]
	}
	return parent + sep + b.cfg.LogFolderName, name
}
