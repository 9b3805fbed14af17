// Package simhost is the logic of hvm-simhost, a stand-in for a Hyper-V host
// on Linux. A Daemon owns a directory of virtual machines whose disks are
// real VHDX (or fixed VHD) files. It takes guest writes (explicit ones and
// generated workloads), makes VM-wide checkpoints as AVHDX differencing
// disks and merges them back, records every guest write into MS-HRL change
// tracking logs while tracking is on, switches the logs of all disks of a VM
// at one instant, and records the SHA-256 of every disk at each switch so a
// test can later check what a replica built from the logs must hold.
//
// The package holds plain Go types and no gRPC; the server package adapts it
// to the wire, the client package is the typed caller.
//
// # Layout on disk
//
//	DIR/<vm-guid>/vm.json                  the VM's record (atomic rewrite)
//	DIR/<vm-guid>/switches/<n>.json        checksums and logs of switch n
//	DIR/<vm-guid>/<disk-guid>/disk.vhdx    the base disk (or disk.vhd)
//	DIR/<vm-guid>/<disk-guid>/disk_<checkpoint-guid>.avhdx
//	DIR/<vm-guid>/<disk-guid>/disk_<seq>.hrl
//
// # Concurrency and instants
//
// Each VM has one read-write lock. Guest writes hold it shared (and the
// disk's own mutex, so the disk and its log see one write order); switches,
// checkpoints, power changes and checksums hold it exclusively. A log switch
// therefore closes every disk's log at one instant: no guest write falls
// between two disks' switch points.
//
// # Checksums
//
// A disk's checksum is the SHA-256 of its whole virtual content. It is
// computed from the disk's extent map: allocated ranges are read, ranges the
// format knows to be zero are hashed from a zero buffer without reading the
// file, and the disks of a VM are hashed in parallel. Hashing runs at the
// SHA-256 speed of one core (about 1.5–2 GB/s with SHA extensions), so a
// switch of a 4 GiB disk holds the VM's writes for about two seconds.
// Config.ChecksumOnSwitch turns the automatic checksum off for very large
// disks.
//
// # Change tracking identity
//
// Every log's Vhd2DataWriteGuid is the DataWriteGuid of the tracked file
// (the current top of the chain) while the log takes writes. A disk's
// writer takes a new DataWriteGuid when it is opened (VM start, and a
// checkpoint or merge changing the top file); at that moment the open logs
// are closed and queued for the next switch and new ones start, so a log
// never spans two write sessions. A switch may therefore hand out more
// than one closed log per disk, oldest first. Fixed VHD disks have no
// DataWriteGuid; their logs carry zero.
//
// # Crashes
//
// A log that is open when the daemon dies stays unclosed (EOLLocation 0)
// and every reader rejects it. On the next start the daemon finds it, flags
// the VM as needing a resynchronisation (with the log named in the reason)
// and starts a fresh log chain; ClearResync lowers the flag once the caller
// has resynchronised. A graceful daemon stop closes the logs instead, and
// the next switch hands them out with the new ones.
//
// # Handed-out logs
//
// A switch's record keeps the logs it handed out, so a caller that lost
// the answer of SwitchLogs (it died during the call) gets it again from
// GetSwitch instead of switching again and losing those logs. Logs stay
// on disk until the caller releases them (ReleaseLogs) once it no longer
// needs them, or until tracking stops with its logs removed. ReleaseLogs
// deletes only closed logs of the VM's own disks that a switch handed out:
// the open log, logs closed but not yet handed out and any other file are
// refused before anything is deleted, and a log already gone counts as
// released.
package simhost
