package simhost

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"
)

// RunWorkload runs generated guest writes on a running VM until the spec's
// duration or byte count is reached, ctx ends, or the VM stops. progress,
// if not nil, is called every Config.ProgressEvery and once at the end.
// Stopping the VM ends the workload with ErrNotRunning.
func (d *Daemon) RunWorkload(ctx context.Context, spec WorkloadSpec, progress func(WorkloadProgress)) (WorkloadProgress, error) {
	v, err := d.lookup(spec.VMID)
	if err != nil {
		return WorkloadProgress{}, err
	}
	spec, err = spec.normalize(v)
	if err != nil {
		return WorkloadProgress{}, err
	}
	run, err := v.joinRun()
	if err != nil {
		return WorkloadProgress{}, err
	}
	defer run.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(run.ctx, cancel)
	defer stop()
	if progress == nil {
		progress = func(WorkloadProgress) {}
	}
	g := newGenerator(spec, v)
	p, err := g.run(ctx, v, d.cfg.ProgressEvery, progress)
	if run.ctx.Err() != nil && err != nil {
		err = fmt.Errorf("workload on vm %s: %w: the vm was stopped", v.rec.ID, ErrNotRunning)
	}
	p.Done = true
	progress(p)
	return p, err
}

// joinRun registers a workload with the running VM.
func (v *vm) joinRun() (*runState, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.rec.Power != PowerRunning || v.run == nil {
		return nil, fmt.Errorf("workload on vm %s: %w (power %s): start it first", v.rec.ID, ErrNotRunning, v.rec.Power)
	}
	v.run.wg.Add(1)
	return v.run, nil
}

// generator produces a workload's writes.
type generator struct {
	spec    WorkloadSpec
	rng     *rand.Rand
	data    *rand.ChaCha8
	buf     []byte
	sizes   []int64 // one entry per weight unit
	cursor  []int64 // next offset per disk (sequential)
	history [][]span
	next    int
}

type span struct{ off, n int64 }

const historyLen = 8192

func newGenerator(spec WorkloadSpec, v *vm) *generator {
	var seed [32]byte
	for i := range 8 {
		seed[i] = byte(spec.Seed >> (8 * i))
	}
	g := &generator{
		spec: spec, rng: rand.New(rand.NewPCG(spec.Seed, 0x5eed)), data: rand.NewChaCha8(seed),
		cursor: make([]int64, len(v.disks)), history: make([][]span, len(v.disks)),
	}
	var maxSize int64
	for _, s := range spec.Sizes {
		for range s.Weight {
			g.sizes = append(g.sizes, s.Bytes)
		}
		maxSize = max(maxSize, s.Bytes)
	}
	g.buf = make([]byte, maxSize)
	return g
}

// run writes until a limit is reached.
func (g *generator) run(ctx context.Context, v *vm, every time.Duration, progress func(WorkloadProgress)) (WorkloadProgress, error) {
	lim := g.limiter()
	start := time.Now()
	last := start
	var p WorkloadProgress
	for {
		p.Elapsed = time.Since(start)
		if (g.spec.Duration > 0 && p.Elapsed >= g.spec.Duration) || (g.spec.TotalBytes > 0 && p.Bytes >= g.spec.TotalBytes) {
			return p, nil
		}
		disk, off, n := g.nextWrite(v, g.spec.TotalBytes-p.Bytes)
		if err := lim.WaitN(ctx, int(n)); err != nil {
			return p, g.endErr(ctx, err)
		}
		g.data.Read(g.buf[:n])
		if err := v.write(disk, g.buf[:n], off); err != nil {
			return p, err
		}
		p.Writes++
		p.Bytes += n
		if now := time.Now(); now.Sub(last) >= every {
			last = now
			p.Elapsed = now.Sub(start)
			progress(p)
		}
	}
}

// endErr tells a deadline from a cancellation.
func (g *generator) endErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// limiter paces the workload; unthrottled when no rate is set.
func (g *generator) limiter() *rate.Limiter {
	if g.spec.RateBytesPerSec <= 0 {
		return rate.NewLimiter(rate.Inf, len(g.buf))
	}
	burst := max(int64(len(g.buf)), g.spec.RateBytesPerSec/20)
	return rate.NewLimiter(rate.Limit(g.spec.RateBytesPerSec), int(burst))
}

// nextWrite picks the disk, offset and length of the next write.
func (g *generator) nextWrite(v *vm, left int64) (int, int64, int64) {
	disk := g.spec.Disks[g.next%len(g.spec.Disks)]
	g.next++
	r := v.disks[disk].rec
	ss := int64(r.LogicalSectorSize)
	n := g.sizes[g.rng.IntN(len(g.sizes))]
	if g.spec.TotalBytes > 0 && left < n {
		n = max(ss, (left+ss-1)/ss*ss)
	}
	var off int64
	h := g.history[disk]
	switch {
	case len(h) > 0 && g.rng.Float64() < g.spec.OverwriteRatio:
		prev := h[g.rng.IntN(len(h))]
		k := prev.n / ss / 2 // shift by up to half the earlier write
		off = prev.off + (g.rng.Int64N(2*k+1)-k)*ss
	case g.spec.Pattern == PatternSequential:
		off = g.cursor[disk]
		if off+n > r.Size {
			off = 0
		}
		g.cursor[disk] = off + n
	default:
		off = g.rng.Int64N((r.Size-n)/ss+1) * ss
	}
	off = min(max(off, 0), r.Size-n)
	g.remember(disk, span{off, n})
	return disk, off, n
}

// remember keeps the last historyLen writes of a disk.
func (g *generator) remember(disk int, s span) {
	h := g.history[disk]
	if len(h) < historyLen {
		g.history[disk] = append(h, s)
		return
	}
	h[g.rng.IntN(historyLen)] = s
}
