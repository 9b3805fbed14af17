package simhost

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// offlineVM is a VM record with disks of the given sizes, enough for the
// generator to pick writes without any file.
func offlineVM(sizes ...int64) *vm {
	v := &vm{rec: &vmRecord{}}
	for i, s := range sizes {
		r := &diskRecord{Size: s, LogicalSectorSize: 512}
		v.rec.Disks = append(v.rec.Disks, r)
		v.disks = append(v.disks, &disk{index: i, rec: r})
	}
	return v
}

func TestGenerator_overwriteRatio(t *testing.T) {
	for _, ratio := range []float64{0, 0.5, 0.9} {
		t.Run(fmt.Sprint(ratio), func(t *testing.T) {
			// A disk large enough that fresh writes rarely overlap by chance.
			v := offlineVM(64 << 30)
			spec, err := WorkloadSpec{TotalBytes: 1, OverwriteRatio: ratio, Seed: 3}.normalize(v)
			if err != nil {
				t.Fatal(err)
			}
			g := newGenerator(spec, v)
			var seen []span
			overlapping := 0
			const n = 2000
			for range n {
				_, off, size := g.nextWrite(v, 1<<40)
				if off < 0 || off+size > 64<<30 || off%512 != 0 {
					t.Fatalf("write [%d, +%d) outside the disk or unaligned", off, size)
				}
				for _, s := range seen {
					if off < s.off+s.n && s.off < off+size {
						overlapping++
						break
					}
				}
				seen = append(seen, span{off, size})
			}
			got := float64(overlapping) / n
			if got < ratio-0.08 || got > ratio+0.08 {
				t.Fatalf("%.2f of writes overlap earlier ones, want about %.2f", got, ratio)
			}
		})
	}
}

func TestGenerator_sequentialWrapsAround(t *testing.T) {
	v := offlineVM(1<<20, 1<<20)
	spec, err := WorkloadSpec{TotalBytes: 1, Pattern: PatternSequential, Sizes: []IOSize{{Bytes: 256 << 10, Weight: 1}}}.normalize(v)
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(spec, v)
	want := []int64{0, 0, 256 << 10, 256 << 10, 512 << 10, 512 << 10, 768 << 10, 768 << 10, 0, 0}
	for i, w := range want {
		disk, off, _ := g.nextWrite(v, 1<<40)
		if disk != i%2 || off != w {
			t.Fatalf("write %d: disk %d offset %d, want disk %d offset %d", i, disk, off, i%2, w)
		}
	}
}

func TestRunWorkload_rateIsAnUpperBound(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 64 << 20})
	const rate = 8e6
	p, err := d.RunWorkload(context.Background(), WorkloadSpec{VMID: vm.ID, RateBytesPerSec: rate, Duration: 600 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if limit := rate*p.Elapsed.Seconds() + rate/20 + 64<<10; float64(p.Bytes) > limit {
		t.Fatalf("%d bytes in %v at %v B/s: more than the %f the rate allows", p.Bytes, p.Elapsed, rate, limit)
	}
	if p.Bytes == 0 || !p.Done {
		t.Fatalf("progress %+v", p)
	}
}
