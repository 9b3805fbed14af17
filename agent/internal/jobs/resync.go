package jobs

import (
	"encoding/json"
	"fmt"

	"hvmigrate/agent/internal/jobstore"
	"hvmigrate/shared/secret"
)

// KindResyncUpload reads the differing ranges of a frozen disk and uploads
// them as the disk's resync delta object.
const KindResyncUpload Kind = "resync_upload"

// Range is a range of a virtual disk a resync sends; Zero ranges read as
// zeros on the source and are sent without reading them.
type Range struct {
	Offset, Length int64
	Zero           bool
}

// ResyncUpload uploads one disk's resync delta object: the ranges where
// the replica at Previous differs from the frozen disk.
type ResyncUpload struct {
	VMID, DiskID string
	DiskPath     string
	Cycle        uint64
	Previous     uint64
	Ranges       []Range
	// Target is the delta object's block blob URL with its SAS.
	Target  secret.String
	Threads int
}

// storedResync keeps the SAS in plain text, like the other stored forms.
type storedResync struct {
	VMID, DiskID, DiskPath string
	Cycle, Previous        uint64
	Ranges                 []Range
	Target                 string
	Threads                int
}

func (r ResyncUpload) encode() (json.RawMessage, error) {
	return json.Marshal(storedResync{r.VMID, r.DiskID, r.DiskPath, r.Cycle, r.Previous, r.Ranges, r.Target.Reveal(), r.Threads})
}

func decodeResync(b []byte) (ResyncUpload, error) {
	var s storedResync
	if err := json.Unmarshal(b, &s); err != nil {
		return ResyncUpload{}, fmt.Errorf("decode resync upload: %w", err)
	}
	return ResyncUpload{s.VMID, s.DiskID, s.DiskPath, s.Cycle, s.Previous, s.Ranges, secret.New(s.Target), s.Threads}, nil
}

// validate checks what the job can check before it runs: ranges sorted,
// non-overlapping, positive and sector aligned.
func (r ResyncUpload) validate() error {
	if r.DiskPath == "" || r.Target.IsZero() || r.Cycle == 0 || r.Previous >= r.Cycle {
		return fmt.Errorf("%w: resync upload needs a disk path, a target URL and cycle %d above previous %d", ErrInvalid, r.Cycle, r.Previous)
	}
	var end int64
	for i, g := range r.Ranges {
		if g.Offset < end || g.Length <= 0 || g.Offset%512 != 0 || g.Length%512 != 0 {
			return fmt.Errorf("%w: resync range %d (offset %d, length %d) is not a sorted, positive, 512-byte aligned range", ErrInvalid, i, g.Offset, g.Length)
		}
		end = g.Offset + g.Length
	}
	return nil
}

// StartResyncUpload starts a resync upload, or returns the job already
// known by id.
func (m *Manager) StartResyncUpload(id string, spec ResyncUpload) (Info, error) {
	if err := spec.validate(); err != nil {
		return Info{}, err
	}
	params, err := spec.encode()
	if err != nil {
		return Info{}, err
	}
	return m.start(jobstore.Job{ID: id, Kind: string(KindResyncUpload), VMID: spec.VMID, Cycle: spec.Cycle, Params: params})
}

// sameResync compares two stored resync specs without their SAS queries.
func sameResync(a, b json.RawMessage) bool {
	strip := func(raw json.RawMessage) string {
		r, err := decodeResync(raw)
		if err != nil {
			return "!" + string(raw)
		}
		r.Target = secret.New(withoutQuery(r.Target.Reveal()))
		out, _ := r.encode()
		return string(out)
	}
	return strip(a) == strip(b)
}
