package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// Event is one report a host sent, kept to recognise a repeated id.
type Event struct {
	HostID     string
	ID         string
	Kind       string
	Payload    []byte
	ReceivedAt time.Time
}

// VM is one virtual machine of a host's inventory. Generation, VCPUs and
// MemoryBytes are 0 when the host did not report them.
type VM struct {
	ID          string
	HostID      string
	Name        string
	PowerState  string
	Generation  uint32
	VCPUs       uint32
	MemoryBytes uint64
	NICs        []NIC
	Disks       []Disk
	UpdatedAt   time.Time
}

// NIC is one network adapter of a VM, in the host's order.
type NIC struct {
	Name       string
	SwitchName string
	MACAddress string
}

// Disk is one virtual disk of a VM.
type Disk struct {
	ID        string
	Name      string
	SizeBytes uint64
}

// RecordEvent stores ev once. When inventory is not nil it replaces the
// host's inventory in the same transaction; a VM another host owns makes
// the whole event fail with ErrForbidden. It reports whether the id was
// already stored, in which case nothing changes.
func (s *Store) RecordEvent(ctx context.Context, ev Event, inventory []VM) (bool, error) {
	dup := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE host_id = ? AND id = ?`, ev.HostID, ev.ID).Scan(&n); err != nil {
			return fmt.Errorf("check event %s: %w", ev.ID, err)
		}
		if dup = n > 0; dup {
			return nil
		}
		if inventory != nil {
			if err := replaceInventory(ctx, tx, ev.HostID, inventory, ev.ReceivedAt); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (host_id, id, kind, payload, received_at) VALUES (?, ?, ?, ?, ?)`,
			ev.HostID, ev.ID, ev.Kind, ev.Payload, unix(ev.ReceivedAt))
		if err != nil {
			return fmt.Errorf("insert event %s: %w", ev.ID, err)
		}
		return nil
	})
	return dup, err
}

func replaceInventory(ctx context.Context, tx *sql.Tx, hostID string, vms []VM, now time.Time) error {
	for _, vm := range vms {
		if err := checkOwner(ctx, tx, hostID, vm.ID, true); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM disks WHERE vm_id IN (SELECT id FROM vms WHERE host_id = ?)`, hostID); err != nil {
		return fmt.Errorf("clear disks of %s: %w", hostID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM vm_nics WHERE vm_id IN (SELECT id FROM vms WHERE host_id = ?)`, hostID); err != nil {
		return fmt.Errorf("clear nics of %s: %w", hostID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM vms WHERE host_id = ?`, hostID); err != nil {
		return fmt.Errorf("clear vms of %s: %w", hostID, err)
	}
	for _, vm := range vms {
		if err := insertVM(ctx, tx, hostID, vm, now); err != nil {
			return err
		}
	}
	return nil
}

func insertVM(ctx context.Context, tx *sql.Tx, hostID string, vm VM, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO vms (id, host_id, name, power_state, generation, vcpus, memory_bytes, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		vm.ID, hostID, vm.Name, vm.PowerState, int64(vm.Generation), int64(vm.VCPUs), int64(min(vm.MemoryBytes, math.MaxInt64)), unix(now))
	if err != nil {
		return fmt.Errorf("insert vm %s: %w", vm.ID, err)
	}
	for i, n := range vm.NICs {
		_, err := tx.ExecContext(ctx, `INSERT INTO vm_nics (vm_id, position, name, switch_name, mac_address) VALUES (?, ?, ?, ?, ?)`,
			vm.ID, i, n.Name, n.SwitchName, n.MACAddress)
		if err != nil {
			return fmt.Errorf("insert nic %d of vm %s: %w", i, vm.ID, err)
		}
	}
	for _, d := range vm.Disks {
		_, err := tx.ExecContext(ctx, `INSERT INTO disks (vm_id, id, name, size_bytes) VALUES (?, ?, ?, ?)`,
			vm.ID, d.ID, d.Name, int64(d.SizeBytes))
		if err != nil {
			return fmt.Errorf("insert disk %s of vm %s: %w", d.ID, vm.ID, err)
		}
	}
	return nil
}

// CheckVMOwner returns nil when hostID owns vmID, ErrForbidden when another
// host does, and ErrNotFound when no host reported it.
func (s *Store) CheckVMOwner(ctx context.Context, hostID, vmID string) error {
	return checkOwner(ctx, s.db, hostID, vmID, false)
}

func checkOwner(ctx context.Context, q querier, hostID, vmID string, allowNew bool) error {
	var owner string
	err := q.QueryRowContext(ctx, `SELECT host_id FROM vms WHERE id = ?`, vmID).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows) && allowNew:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("vm %q: %w", vmID, ErrNotFound)
	case err != nil:
		return fmt.Errorf("owner of vm %s: %w", vmID, err)
	case owner != hostID:
		return fmt.Errorf("vm %q: %w", vmID, ErrForbidden)
	}
	return nil
}

// VMs lists the inventory of one host (every host when hostID is empty).
func (s *Store) VMs(ctx context.Context, hostID string) ([]VM, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT v.id, v.host_id, v.name, v.power_state, v.generation, v.vcpus, v.memory_bytes,
		v.updated_at, d.id, d.name, d.size_bytes
		FROM vms v LEFT JOIN disks d ON d.vm_id = v.id
		WHERE ? = '' OR v.host_id = ? ORDER BY v.host_id, v.name, v.id, d.id`, hostID, hostID)
	if err != nil {
		return nil, fmt.Errorf("list vms: %w", err)
	}
	defer rows.Close()
	var out []VM
	for rows.Next() {
		var vm VM
		var gen, vcpus, mem int64
		var updated sql.NullInt64
		var did, dname sql.NullString
		var dsize sql.NullInt64
		if err := rows.Scan(&vm.ID, &vm.HostID, &vm.Name, &vm.PowerState, &gen, &vcpus, &mem, &updated, &did, &dname, &dsize); err != nil {
			return nil, fmt.Errorf("scan vm: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != vm.ID {
			vm.Generation, vm.VCPUs, vm.MemoryBytes = uint32(gen), uint32(vcpus), uint64(max(mem, 0))
			vm.UpdatedAt = fromUnix(updated)
			out = append(out, vm)
		}
		if did.Valid {
			last := &out[len(out)-1]
			last.Disks = append(last.Disks, Disk{ID: did.String, Name: dname.String, SizeBytes: uint64(dsize.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list vms: %w", err)
	}
	return out, s.addNICs(ctx, hostID, out)
}

// addNICs fills the NICs of vms, the inventory of hostID (every host when
// empty). It reads outside the query of the VMs, so a report stored in
// between may give a VM the NICs of that newer report; each report
// replaces the whole inventory, so a VM never gets a mix of two.
func (s *Store) addNICs(ctx context.Context, hostID string, vms []VM) error {
	rows, err := s.db.QueryContext(ctx, `SELECT n.vm_id, n.name, n.switch_name, n.mac_address
		FROM vm_nics n JOIN vms v ON v.id = n.vm_id
		WHERE ? = '' OR v.host_id = ? ORDER BY n.vm_id, n.position`, hostID, hostID)
	if err != nil {
		return fmt.Errorf("list nics: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]*VM, len(vms))
	for i := range vms {
		byID[vms[i].ID] = &vms[i]
	}
	for rows.Next() {
		var vmID string
		var n NIC
		if err := rows.Scan(&vmID, &n.Name, &n.SwitchName, &n.MACAddress); err != nil {
			return fmt.Errorf("scan nic: %w", err)
		}
		if vm := byID[vmID]; vm != nil {
			vm.NICs = append(vm.NICs, n)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list nics: %w", err)
	}
	return nil
}

// HasEvent reports whether the host's event id is already stored.
func (s *Store) HasEvent(ctx context.Context, hostID, id string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE host_id = ? AND id = ?`, hostID, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check event %s: %w", id, err)
	}
	return n > 0, nil
}
