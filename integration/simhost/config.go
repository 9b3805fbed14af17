package simhost

import (
	"time"

	"github.com/hashicorp/go-hclog"
)

// Config says where the daemon keeps its VMs and how it behaves.
type Config struct {
	// Dir holds one sub-directory per VM.
	Dir string
	// Logger receives the daemon's logs; nil means no logs.
	Logger hclog.Logger
	// ChecksumOnSwitch records every disk's SHA-256 at each log switch.
	ChecksumOnSwitch bool
	// SyncLogs makes every sealed HRL block durable with fsync.
	SyncLogs bool
	// BlockSize is the VHDX block size of new dynamic disks.
	BlockSize int64
	// MaxWriteChunk splits long pattern writes into guest writes of at most
	// this many bytes.
	MaxWriteChunk int64
	// ProgressEvery is how often a workload reports progress.
	ProgressEvery time.Duration
	// KeepThrough, when not 0, keeps under the VM's keep folder a raw copy
	// of the frozen disks of a checkpoint made before switch KeepThrough
	// and copies of the logs each switch 1..KeepThrough hands out: tests
	// replay them to tell which bytes of a replica differ from its source.
	KeepThrough uint64
}

// DefaultConfig holds every default of a daemon serving dir.
func DefaultConfig(dir string) Config {
	return Config{
		Dir:              dir,
		ChecksumOnSwitch: true,
		SyncLogs:         true,
		BlockSize:        32 << 20,
		MaxWriteChunk:    4 << 20,
		ProgressEvery:    500 * time.Millisecond,
	}
}
