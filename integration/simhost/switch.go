package simhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// switchRecord is the persisted outcome of one switch.
type switchRecord struct {
	Number    uint64         `json:"number"`
	Time      time.Time      `json:"time"`
	Checksums []DiskChecksum `json:"checksums,omitempty"`
	Disks     []SwitchedDisk `json:"disks"`
}

// SwitchLogs closes the open log of every disk of the VM at one instant
// (no guest write runs meanwhile), records the disks' checksums at that
// instant (Config.ChecksumOnSwitch), and opens new logs chained to the
// closed ones. It works whether the VM runs or not.
func (d *Daemon) SwitchLogs(id string) (SwitchResult, error) {
	v, err := d.lookup(id)
	if err != nil {
		return SwitchResult{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.rec.Tracking.Enabled {
		return SwitchResult{}, fmt.Errorf("switch logs of vm %s: %w: start tracking first", id, ErrTrackingOff)
	}
	res := SwitchResult{Number: v.rec.Tracking.LastSwitch + 1}
	v.closeAllForSwitch(res.Number)
	v.keepSwitch(res.Number)
	var sums []DiskChecksum
	if v.cfg.ChecksumOnSwitch {
		if sums, err = v.checksums(); err != nil {
			return SwitchResult{}, fmt.Errorf("switch logs of vm %s: %w", id, err)
		}
	}
	if res.Disks, err = v.openAfterSwitch(sums); err != nil {
		return SwitchResult{}, fmt.Errorf("switch logs of vm %s: %w", id, err)
	}
	v.rec.Tracking.LastSwitch = res.Number
	res.NeedsResync, res.ResyncReason = v.rec.NeedsResync, v.rec.ResyncReason
	if err := v.saveSwitch(res, sums); err != nil {
		return SwitchResult{}, err
	}
	v.log.Info("logs switched", "switch", res.Number)
	return res, v.persist()
}

// closeAllForSwitch closes every disk's log; a log that cannot be closed
// cleanly restarts the chain and flags the VM for resync.
func (v *vm) closeAllForSwitch(n uint64) {
	var broken []error
	for _, dk := range v.disks {
		if err := v.closeLogPending(dk); err != nil {
			broken = append(broken, err)
		}
	}
	if len(broken) > 0 {
		v.restartChain(fmt.Sprintf("switch %d: %v", n, errors.Join(broken...)))
	}
}

// openAfterSwitch hands out each disk's closed logs and opens its next log.
func (v *vm) openAfterSwitch(sums []DiskChecksum) ([]SwitchedDisk, error) {
	var out []SwitchedDisk
	for i, dk := range v.disks {
		sd := SwitchedDisk{Index: i, DiskID: dk.rec.ID}
		for _, p := range dk.rec.Log.Pending {
			sd.ClosedLogs = append(sd.ClosedLogs, v.path(p))
		}
		dk.rec.Log.Pending = nil
		if err := v.openLog(dk); err != nil {
			return nil, err
		}
		sd.NewLog = v.path(dk.rec.Log.Current)
		if sums != nil {
			sd.SHA256 = sums[i].SHA256
		}
		out = append(out, sd)
	}
	return out, nil
}

// saveSwitch persists the checksums and logs of a switch.
func (v *vm) saveSwitch(res SwitchResult, sums []DiskChecksum) error {
	if err := os.MkdirAll(filepath.Join(v.dir, switchesDir), 0o755); err != nil {
		return fmt.Errorf("record switch %d: %w", res.Number, err)
	}
	rec := switchRecord{Number: res.Number, Time: time.Now().UTC(), Checksums: sums, Disks: res.Disks}
	return writeJSONAtomic(switchPath(v.dir, res.Number), rec)
}

// GetSwitchChecksums returns the checksums recorded at switch n.
func (d *Daemon) GetSwitchChecksums(id string, n uint64) ([]DiskChecksum, error) {
	v, err := d.lookup(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(switchPath(v.dir, n))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("switch %d of vm %s: %w", n, id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var rec switchRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("switch %d of vm %s: %w", n, id, err)
	}
	if rec.Checksums == nil {
		return nil, fmt.Errorf("switch %d of vm %s: %w: checksums were off at that switch", n, id, ErrNotFound)
	}
	return rec.Checksums, nil
}

// GetSwitch returns what switch n of the VM handed out, from its record,
// for a caller that lost the answer of SwitchLogs; NeedsResync is the
// VM's flag now. ErrNotFound means the VM never made switch n.
func (d *Daemon) GetSwitch(id string, n uint64) (SwitchResult, error) {
	v, err := d.lookup(id)
	if err != nil {
		return SwitchResult{}, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	b, err := os.ReadFile(switchPath(v.dir, n))
	if errors.Is(err, os.ErrNotExist) {
		return SwitchResult{}, fmt.Errorf("switch %d of vm %s: %w", n, id, ErrNotFound)
	}
	if err != nil {
		return SwitchResult{}, err
	}
	var rec switchRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return SwitchResult{}, fmt.Errorf("switch %d of vm %s: %w", n, id, err)
	}
	return SwitchResult{Number: rec.Number, Disks: rec.Disks, NeedsResync: v.rec.NeedsResync, ResyncReason: v.rec.ResyncReason}, nil
}
