package jobs

import (
	"encoding/json"
	"fmt"

	"hvmigrate/shared/secret"
)

// Kind is what a job does.
type Kind string

// Job kinds.
const (
	KindInitialCopy Kind = "initial_copy"
	KindCycleUpload Kind = "cycle_upload"
)

// State is where a job stands.
type State string

// Job states. Succeeded, Failed and Cancelled are final until the job is
// started again.
const (
	StateQueued    State = "queued"
	StateRunning   State = "running"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// Final reports whether the job has stopped.
func (s State) Final() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCancelled
}

// InitialCopy copies one frozen disk into its replica page blob.
type InitialCopy struct {
	VMID     string
	DiskID   string
	DiskPath string
	// Target is the page blob URL with its SAS.
	Target  secret.String
	Threads int
}

// CycleUpload uploads one cycle's delta objects, one per disk.
type CycleUpload struct {
	VMID     string
	Cycle    uint64
	Previous uint64
	Disks    []CycleDisk
	Threads  int
}

// CycleDisk is one disk's share of a cycle.
type CycleDisk struct {
	DiskID      string
	Logs        []string
	VirtualSize int64
	// Target is the delta object's block blob URL with its SAS.
	Target secret.String
}

// The stored forms keep the SAS in plain text: secret.String refuses to
// serialise its value, and the state file is private to the agent.
type storedCopy struct {
	VMID, DiskID, DiskPath, Target string
	Threads                        int
}

type storedCycleDisk struct {
	DiskID      string
	Logs        []string
	VirtualSize int64
	Target      string
}

type storedCycle struct {
	VMID            string
	Cycle, Previous uint64
	Disks           []storedCycleDisk
	Threads         int
}

func (c InitialCopy) encode() (json.RawMessage, error) {
	return json.Marshal(storedCopy{c.VMID, c.DiskID, c.DiskPath, c.Target.Reveal(), c.Threads})
}

func decodeCopy(b []byte) (InitialCopy, error) {
	var s storedCopy
	if err := json.Unmarshal(b, &s); err != nil {
		return InitialCopy{}, fmt.Errorf("decode initial copy: %w", err)
	}
	return InitialCopy{s.VMID, s.DiskID, s.DiskPath, secret.New(s.Target), s.Threads}, nil
}

func (c CycleUpload) encode() (json.RawMessage, error) {
	s := storedCycle{VMID: c.VMID, Cycle: c.Cycle, Previous: c.Previous, Threads: c.Threads}
	for _, d := range c.Disks {
		s.Disks = append(s.Disks, storedCycleDisk{d.DiskID, d.Logs, d.VirtualSize, d.Target.Reveal()})
	}
	return json.Marshal(s)
}

func decodeCycle(b []byte) (CycleUpload, error) {
	var s storedCycle
	if err := json.Unmarshal(b, &s); err != nil {
		return CycleUpload{}, fmt.Errorf("decode cycle upload: %w", err)
	}
	c := CycleUpload{VMID: s.VMID, Cycle: s.Cycle, Previous: s.Previous, Threads: s.Threads}
	for _, d := range s.Disks {
		c.Disks = append(c.Disks, CycleDisk{d.DiskID, d.Logs, d.VirtualSize, secret.New(d.Target)})
	}
	return c, nil
}

// sameWork reports whether two stored specs describe the same work,
// ignoring the SAS query, which the hub renews.
func sameWork(kind Kind, a, b json.RawMessage) bool {
	if kind == KindResyncUpload {
		return sameResync(a, b)
	}
	strip := func(raw json.RawMessage) string {
		switch kind {
		case KindInitialCopy:
			c, err := decodeCopy(raw)
			if err != nil {
				return "!" + string(raw)
			}
			c.Target = secret.New(withoutQuery(c.Target.Reveal()))
			out, _ := c.encode()
			return string(out)
		default:
			c, err := decodeCycle(raw)
			if err != nil {
				return "!" + string(raw)
			}
			for i := range c.Disks {
				c.Disks[i].Target = secret.New(withoutQuery(c.Disks[i].Target.Reveal()))
			}
			out, _ := c.encode()
			return string(out)
		}
	}
	return strip(a) == strip(b)
}

func withoutQuery(u string) string {
	for i := 0; i < len(u); i++ {
		if u[i] == '?' {
			return u[:i]
		}
	}
	return u
}
