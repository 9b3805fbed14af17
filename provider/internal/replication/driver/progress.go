package driver

import (
	"context"

	"hvmigrate/provider/internal/replication"
)

// ProgressOf is the hub's view of a state.
func ProgressOf(s replication.State) Progress {
	p := Progress{VMID: s.VMID, Phase: s.Phase, LastCycle: s.LastCycle, LastRPO: s.LastRPO}
	for _, d := range s.Disks {
		p.Disks = append(p.Disks, DiskProgress{DiskID: d.ID, Done: d.BytesDone, Total: d.BytesTotal})
		p.PendingLogBytes += d.PendingLogBytes
	}
	return p
}

// reportProgress sends the VM's progress to the hub in the background.
func (l *vmLoop) reportProgress(s replication.State) {
	p, actx := ProgressOf(s), l.actx
	l.d.wg.Add(1)
	go func() {
		defer l.d.wg.Done()
		ctx, cancel := context.WithTimeout(actx, l.d.cfg.CallTimeout)
		defer cancel()
		if err := l.d.deps.Hub.ReportProgress(ctx, p); err != nil {
			l.log.Debug("progress report lost", "error", err)
		}
	}()
}
