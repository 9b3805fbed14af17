package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/vhd"
)

// Environment of a child: its mode, its spec and the emulator's key.
const (
	childMode = "APPLYBENCH_MODE"
	childSpec = "APPLYBENCH_SPEC"
	childKey  = "APPLYBENCH_KEY"
)

// bench is one run against one emulator.
type bench struct {
	srv   *azurite.Server
	store storage.Store
	spec  spec
	runs  int
}

// newBench starts the emulator and connects to it.
func newBench(ctx context.Context, dir string, size int64, inflight int) (*bench, error) {
	srv, err := azurite.Run(ctx, azurite.Options{DataDir: filepath.Join(dir, "azurite")})
	if err != nil {
		return nil, err
	}
	b := &bench{srv: srv}
	if err := b.connect(ctx, dir, size, inflight); err != nil {
		srv.Close()
		return nil, err
	}
	return b, nil
}

// connect writes the CA, creates the container and the store.
func (b *bench) connect(ctx context.Context, dir string, size int64, inflight int) error {
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, b.srv.CAPEM, 0o600); err != nil {
		return err
	}
	if err := os.MkdirAll(spoolDir(dir), 0o700); err != nil {
		return err
	}
	if err := b.srv.CreateContainer(ctx, "bench"); err != nil {
		return err
	}
	b.spec = spec{Endpoint: b.srv.Endpoint, Account: b.srv.Account, CAFile: ca, Spool: spoolDir(dir),
		Size: size, InFlight: inflight, VMID: [16]byte{1}, DiskID: [16]byte{2}}
	st, err := connectStore(b.spec, b.srv.Key.Reveal())
	b.store = st
	return err
}

// connectStore builds the storage client a child or the parent uses.
func connectStore(s spec, key string) (storage.Store, error) {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	cfg := azure.DefaultConfig()
	cfg.Endpoint = s.Endpoint
	cfg.Credential = azure.SharedKey(s.Account, secretOf(key))
	if cfg.RootCAs, err = rootsOf(pem); err != nil {
		return nil, err
	}
	return azure.New(cfg)
}

func (b *bench) close() { b.srv.Close() }

// prepare uploads the delta object: the whole disk rewritten in 4 MiB data
// extents of incompressible bytes, streamed from the Writer to the upload.
func (b *bench) prepare(ctx context.Context) error {
	hdr := delta.Header{Kind: delta.KindCycle, VMID: b.spec.VMID, DiskID: b.spec.DiskID, Cycle: 1, PrevCycle: 0,
		VirtualSize: b.spec.virtualSize()}
	plan := []delta.Extent{{Offset: 0, Length: b.spec.Size, Kind: delta.Data}}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeObject(pw, hdr, plan, b.spec.Size)) }()
	if err := b.store.Upload(ctx, b.spec.deltaBlob(), pr); err != nil {
		return fmt.Errorf("upload delta object: %w", err)
	}
	return nil
}

// writeObject streams the object.
func writeObject(w io.Writer, hdr delta.Header, plan []delta.Extent, size int64) error {
	dw, err := delta.NewWriter(w, hdr, plan)
	if err != nil {
		return err
	}
	buf := make([]byte, delta.MaxChunk)
	for off := int64(0); off < size; off += delta.MaxChunk {
		fill(buf, off)
		if _, err := dw.Write(buf[:min(delta.MaxChunk, size-off)]); err != nil {
			return err
		}
	}
	return dw.Close()
}

// fill writes the bytes of the disk at off (a 4 MiB chunk), reproducibly.
func fill(p []byte, off int64) {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(off))
	rand.NewChaCha8(seed).Read(p)
}

// replicaSize is the size of every page blob the sides write.
func (b *bench) replicaSize() int64 { return vhd.ReplicaSize(b.spec.virtualSize()) + vhd.FooterSize }

// child runs one side in a fresh process on fresh blobs.
func (b *bench) child(ctx context.Context, mode string, run int) (childResult, error) {
	s := b.spec
	s.Run = run
	name := s.replica(run)
	if mode == "bare" || mode == "overlap" {
		name = s.bareBlob(run)
	}
	if err := b.store.CreatePageBlob(ctx, name, b.replicaSize()); err != nil {
		return childResult{}, err
	}
	enc, err := s.encode()
	if err != nil {
		return childResult{}, err
	}
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), childMode+"="+mode, childSpec+"="+string(enc), childKey+"="+b.srv.Key.Reveal())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return childResult{}, fmt.Errorf("%s child: %w", mode, err)
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return childResult{}, fmt.Errorf("%s child output %q: %w", mode, out.String(), err)
	}
	res.RSSMiB = peakRSSMiB(cmd.ProcessState)
	res.CPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return res, nil
}

// spotCheck compares 16 random 4 MiB chunks of the last applied replica
// (and its last sector) with the source bytes.
func (b *bench) spotCheck(ctx context.Context, run int) error {
	name := b.spec.replica(run)
	want, got := make([]byte, delta.MaxChunk), make([]byte, delta.MaxChunk)
	chunks := b.spec.Size / delta.MaxChunk
	for i := range 16 {
		off := rand.Int64N(chunks) * delta.MaxChunk
		if i == 0 {
			off = (chunks - 1) * delta.MaxChunk
		}
		fill(want, off)
		if n, err := b.store.ReadAt(ctx, name, "", got, off); n != len(got) {
			return fmt.Errorf("spot check read at %d: %d bytes: %w", off, n, err)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("spot check: replica differs from the source in the chunk at %d", off)
		}
	}
	p, err := b.store.Properties(ctx, name, "")
	if err != nil || p.SequenceNumber != 1 {
		return fmt.Errorf("replica sequence number %d (%v), want 1", p.SequenceNumber, err)
	}
	return nil
}
