package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// watch follows the hub's status stream: on a terminal with a line per VM
// and a progress bar per disk still copying, elsewhere with a table per
// update.
func (s *session) watch(cmd *cobra.Command, vm string) error {
	ctx := cmd.Context()
	st, err := s.api.WatchStatus(ctx, &adminv1.WatchStatusRequest{Vm: vm})
	if err != nil {
		return s.explain(err, vm)
	}
	out := cmd.OutOrStdout()
	var show func([]*adminv1.VmStatus)
	if isTerminal(out) {
		v := newWatchView(ctx, out, time.Now)
		defer v.close()
		show = v.update
	} else {
		show = func(vms []*adminv1.VmStatus) {
			t := statusTable()
			for _, vs := range vms {
				addStatus(t, vs)
			}
			fmt.Fprintf(out, "-- %s\n", time.Now().UTC().Format(time.RFC3339))
			t.write(out)
		}
	}
	for {
		resp, err := st.Recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
				return nil
			}
			return s.explain(err, vm)
		}
		show(resp.GetVms())
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// watchView draws VM lines and disk bars with mpb.
type watchView struct {
	p    *mpb.Progress
	now  func() time.Time
	mu   sync.Mutex
	vms  map[string]*vmLine
	seen time.Time
}

// vmLine is one VM's summary line and its disks' bars.
type vmLine struct {
	mu    sync.Mutex
	last  *adminv1.VmStatus
	bar   *mpb.Bar
	disks map[string]*mpb.Bar
}

func newWatchView(ctx context.Context, out io.Writer, now func() time.Time) *watchView {
	p := mpb.NewWithContext(ctx, mpb.WithOutput(out), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond))
	return &watchView{p: p, now: now, vms: map[string]*vmLine{}, seen: now()}
}

// update takes one status snapshot.
func (v *watchView) update(vms []*adminv1.VmStatus) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	elapsed := max(now.Sub(v.seen), time.Millisecond)
	v.seen = now
	for _, vs := range vms {
		line := v.vms[vs.GetVmId()]
		if line == nil {
			line = &vmLine{disks: map[string]*mpb.Bar{}}
			line.bar = v.p.New(0, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(line.text)))
			v.vms[vs.GetVmId()] = line
		}
		line.set(vs)
		for i, d := range vs.GetDisks() {
			v.disk(line, i, d, elapsed)
		}
	}
}

// disk adds or moves a disk's copy bar.
func (v *watchView) disk(line *vmLine, i int, d *adminv1.DiskStatus, elapsed time.Duration) {
	if d.GetTotalBytes() == 0 {
		return
	}
	b := line.disks[d.GetId()]
	if b == nil {
		name := d.GetName()
		if name == "" {
			name = fmt.Sprintf("disk%d", i+1)
		}
		b = v.p.AddBar(int64(d.GetTotalBytes()),
			mpb.PrependDecorators(decor.Name("  "+name+" ", decor.WC{W: 12, C: decor.DindentRight}), decor.Percentage(decor.WC{W: 5})),
			mpb.AppendDecorators(decor.EwmaSpeed(decor.SizeB1024(0), " % .1f", 30), decor.Name(" ETA "), decor.EwmaETA(decor.ET_STYLE_GO, 30)))
		line.disks[d.GetId()] = b
	}
	cur := int64(min(d.GetDoneBytes(), d.GetTotalBytes()))
	if cur > b.Current() {
		b.EwmaSetCurrent(cur, elapsed)
	}
}

// close stops drawing after a last frame.
func (v *watchView) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, line := range v.vms {
		line.bar.Abort(false)
		for _, b := range line.disks {
			if !b.Completed() {
				b.Abort(false)
			}
		}
	}
	v.p.Wait()
}

func (l *vmLine) set(vs *adminv1.VmStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = vs
}

// text renders the VM's summary line.
func (l *vmLine) text(decor.Statistics) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.last
	return fmt.Sprintf("%s  %s  copy %s  cycle %d  rpo %s  pending %s  points %d  %s", v.GetName(), v.GetState(),
		copyPercent(v), v.GetAppliedCycle(), rpo(v), humanize.IBytes(uint64(max(v.GetPendingBytes(), 0))), v.GetRecoveryPoints(), health(v))
}
