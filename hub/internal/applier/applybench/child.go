package main

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"hvmigrate/hub/internal/applier"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/secret"
)

// secretOf wraps the key.
func secretOf(key string) secret.String { return secret.New(key) }

// rootsOf parses the emulator's CA.
func rootsOf(pem []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		return nil, errors.New("no certificate in the CA file")
	}
	return p, nil
}

// childMain runs one side and prints its childResult as JSON.
func childMain(mode string) int {
	var s spec
	if err := json.Unmarshal([]byte(os.Getenv(childSpec)), &s); err != nil {
		fmt.Fprintln(os.Stderr, "child spec:", err)
		return 1
	}
	st, err := connectStore(s, os.Getenv(childKey))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child store:", err)
		return 1
	}
	var phases applier.Result
	work := func(ctx context.Context) error { return applyOnce(ctx, st, s, &phases) }
	switch mode {
	case "bare":
		work = func(ctx context.Context) error { return bareLoop(ctx, st, s) }
	case "get":
		work = func(ctx context.Context) error { return bareGet(ctx, st, s) }
	case "overlap":
		work = func(ctx context.Context) error { return bareOverlap(ctx, st, s) }
	}
	res, err := measure(work)
	res.Download, res.Verify, res.Write = phases.Download.Seconds(), phases.Verify.Seconds(), phases.Write.Seconds()
	if err != nil {
		fmt.Fprintln(os.Stderr, mode+":", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// measure times work and samples the heap while it runs.
func measure(work func(context.Context) error) (childResult, error) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, peak := sampleHeap()
	start := time.Now()
	err := work(context.Background())
	elapsed := time.Since(start)
	heapSys := stop()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return childResult{Seconds: elapsed.Seconds(), HeapSysMiB: float64(max(heapSys, *peak)) / (1 << 20),
		AllocMiB: float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)}, err
}

// sampleHeap records the peak HeapSys every 20 ms until stopped.
func sampleHeap() (stop func() uint64, peak *uint64) {
	var mu sync.Mutex
	var p uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mu.Lock()
			p = max(p, ms.HeapSys)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return p }, &p
}

// applyOnce applies cycle 1 to this run's replica.
func applyOnce(ctx context.Context, st storage.Store, s spec, out *applier.Result) error {
	ap := applier.New(st, applier.Config{InFlight: s.InFlight, SpoolDir: s.Spool,
		FetchStreams: s.FetchStreams, FetchChunk: s.FetchChunk})
	res, err := ap.Apply(ctx, applier.VMCycle{VMID: delta.ID(s.VMID), Cycle: 1, Disks: []applier.DiskCycle{{
		DiskID: delta.ID(s.DiskID), ReplicaBlob: s.replica(s.Run), DeltaBlob: s.deltaBlob(), VirtualSize: s.virtualSize()}}})
	*out = res
	return err
}

// bareGet reads the delta object as the applier's spool copy does, with
// the same streams and ranges, into nothing: what reading it costs.
func bareGet(ctx context.Context, st storage.Store, s spec) error {
	d := applier.DefaultConfig()
	streams, chunk := cmp.Or(s.FetchStreams, d.FetchStreams), cmp.Or(s.FetchChunk, d.FetchChunk)
	p, err := st.Properties(ctx, s.deltaBlob(), "")
	if err != nil {
		return err
	}
	next := make(chan int64, p.Size/chunk+1)
	for off := int64(0); off < p.Size; off += chunk {
		next <- off
	}
	close(next)
	errs := make(chan error, streams)
	for range streams {
		go func() {
			buf := make([]byte, 1<<20)
			for off := range next {
				rc, err := st.OpenRange(ctx, s.deltaBlob(), "", off, chunk)
				if err != nil {
					errs <- err
					return
				}
				_, err = io.CopyBuffer(io.Discard, rc, buf)
				rc.Close()
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range streams {
		first = cmp.Or(first, <-errs)
	}
	return first
}

// bareLoop writes the same bytes with InFlight goroutines of 4 MiB Put
// Page calls, each reusing one buffer and its CRC: the ceiling.
func bareLoop(ctx context.Context, st storage.Store, s spec) error {
	next := make(chan int64, s.Size/delta.MaxChunk+1)
	for off := int64(0); off < s.Size; off += delta.MaxChunk {
		next <- off
	}
	close(next)
	errs := make(chan error, s.InFlight)
	for range s.InFlight {
		go func() {
			buf := make([]byte, delta.MaxChunk)
			fill(buf, 0)
			crc := storage.CRC64(buf)
			for off := range next {
				if err := st.PutPages(ctx, s.bareBlob(s.Run), off, buf, crc, storage.Cond{}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range s.InFlight {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// bareOverlap runs bareGet and bareLoop at once: the ceiling of an applier
// that reads the object once while it writes.
func bareOverlap(ctx context.Context, st storage.Store, s spec) error {
	errs := make(chan error, 2)
	go func() { errs <- bareGet(ctx, st, s) }()
	go func() { errs <- bareLoop(ctx, st, s) }()
	return cmp.Or(<-errs, <-errs)
}
