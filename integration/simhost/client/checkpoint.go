package client

import (
	"context"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/internal/wire"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
)

// CreateCheckpoint freezes every disk of the VM at one instant.
func (c *Client) CreateCheckpoint(ctx context.Context, id string, spec simhost.CheckpointSpec) (simhost.CheckpointInfo, error) {
	r, err := c.api.CreateCheckpoint(ctx, &simhostv1.CreateCheckpointRequest{VmId: id, Name: spec.Name, StartTracking: spec.StartTracking})
	if err != nil {
		return simhost.CheckpointInfo{}, wire.FromStatus(err)
	}
	return wire.CheckpointFromProto(r.GetCheckpoint()), nil
}

// DeleteCheckpoint merges the checkpoint back into the disks.
func (c *Client) DeleteCheckpoint(ctx context.Context, id string) error {
	_, err := c.api.DeleteCheckpoint(ctx, &simhostv1.DeleteCheckpointRequest{VmId: id})
	return wire.FromStatus(err)
}

// GetFrozenDisks returns the read-only parents as of the checkpoint.
func (c *Client) GetFrozenDisks(ctx context.Context, id string) ([]simhost.FrozenDisk, error) {
	r, err := c.api.GetFrozenDisks(ctx, &simhostv1.GetFrozenDisksRequest{VmId: id})
	if err != nil {
		return nil, wire.FromStatus(err)
	}
	return wire.FrozenFromProto(r.GetDisks()), nil
}

// StartTracking starts change tracking.
func (c *Client) StartTracking(ctx context.Context, id string) (simhost.TrackingInfo, error) {
	r, err := c.api.StartTracking(ctx, &simhostv1.StartTrackingRequest{VmId: id})
	if err != nil {
		return simhost.TrackingInfo{}, wire.FromStatus(err)
	}
	return wire.TrackingFromProto(r.GetTracking()), nil
}

// StopTracking stops change tracking, deleting the logs with removeLogs.
func (c *Client) StopTracking(ctx context.Context, id string, removeLogs bool) error {
	_, err := c.api.StopTracking(ctx, &simhostv1.StopTrackingRequest{VmId: id, RemoveLogs: removeLogs})
	return wire.FromStatus(err)
}

// SwitchLogs switches the logs of every disk of the VM at one instant.
func (c *Client) SwitchLogs(ctx context.Context, id string) (simhost.SwitchResult, error) {
	r, err := c.api.SwitchLogs(ctx, &simhostv1.SwitchLogsRequest{VmId: id})
	if err != nil {
		return simhost.SwitchResult{}, wire.FromStatus(err)
	}
	return wire.SwitchFromProto(r), nil
}

// ChecksumDisks returns every disk's SHA-256 now.
func (c *Client) ChecksumDisks(ctx context.Context, id string) ([]simhost.DiskChecksum, error) {
	r, err := c.api.ChecksumDisks(ctx, &simhostv1.ChecksumDisksRequest{VmId: id})
	if err != nil {
		return nil, wire.FromStatus(err)
	}
	return wire.ChecksumsFromProto(r.GetChecksums()), nil
}

// GetSwitchChecksums returns the checksums recorded at switch n.
func (c *Client) GetSwitchChecksums(ctx context.Context, id string, n uint64) ([]simhost.DiskChecksum, error) {
	r, err := c.api.GetSwitchChecksums(ctx, &simhostv1.GetSwitchChecksumsRequest{VmId: id, SwitchNumber: n})
	if err != nil {
		return nil, wire.FromStatus(err)
	}
	return wire.ChecksumsFromProto(r.GetChecksums()), nil
}

// ClearResync lowers the VM's needs-resync flag.
func (c *Client) ClearResync(ctx context.Context, id string) error {
	_, err := c.api.ClearResync(ctx, &simhostv1.ClearResyncRequest{VmId: id})
	return wire.FromStatus(err)
}

// ReleaseLogs deletes closed logs a switch handed out and returns how
// many files were deleted (logs already gone are not counted).
func (c *Client) ReleaseLogs(ctx context.Context, id string, paths []string) (int, error) {
	r, err := c.api.ReleaseLogs(ctx, &simhostv1.ReleaseLogsRequest{VmId: id, Paths: paths})
	if err != nil {
		return 0, wire.FromStatus(err)
	}
	return int(r.GetDeleted()), nil
}

// GetSwitch returns what switch n of the VM handed out; ErrNotFound means
// the VM never made it.
func (c *Client) GetSwitch(ctx context.Context, id string, n uint64) (simhost.SwitchResult, error) {
	r, err := c.api.GetSwitch(ctx, &simhostv1.GetSwitchRequest{VmId: id, SwitchNumber: n})
	if err != nil {
		return simhost.SwitchResult{}, wire.FromStatus(err)
	}
	return wire.SwitchFromProto(r.GetSwitch()), nil
}
