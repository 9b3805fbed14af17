package transfer

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/hashicorp/go-hclog"

	"hvmigrate/agent/internal/jobs"
	"hvmigrate/agent/internal/jobstore"
	"hvmigrate/agent/internal/throttle"
	"hvmigrate/agent/internal/upload"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/hrl"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/testenv"
	"hvmigrate/shared/vhd"
	"hvmigrate/shared/vhdx"
)

// env is Azurite with a container, a runner and a place for state, with
// every log line the runner writes captured for the secrets check.
type env struct {
	srv     *azurite.Server
	runner  *Runner
	store   *jobstore.Store
	logs    *testenv.Buffer
	sigs    []string
	tmp     string
	ctx     context.Context
	limiter *throttle.Limiter
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := azurite.Start(t)
	ctx := context.Background()
	if err := srv.CreateContainer(ctx, "replicas"); err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, logs: &testenv.Buffer{}, tmp: t.TempDir(), ctx: ctx}
	var err error
	if e.store, err = jobstore.Open(filepath.Join(e.tmp, "state", "agent.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	if e.limiter, err = throttle.New(throttle.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.limiter.Close)
	cfg := DefaultConfig()
	cfg.Endpoint, cfg.RootCAs = srv.Endpoint, srv.RootCAs
	log := hclog.New(&hclog.LoggerOptions{Output: e.logs, Level: hclog.Trace})
	e.runner = New(cfg, e.limiter, func(n int) int { return max(n, 4) }, log)
	t.Cleanup(func() { e.checkNoSecrets(t) })
	return e
}

// sas returns a blob SAS URL and remembers its signature for the log scan.
func (e *env) sas(t *testing.T, name string, perms sas.BlobPermissions) secret.String {
	t.Helper()
	u, err := e.srv.BlobSAS("replicas", name, perms)
	if err != nil {
		t.Fatal(err)
	}
	if _, q, ok := strings.Cut(u, "sig="); ok {
		sig, _, _ := strings.Cut(q, "&")
		e.sigs = append(e.sigs, sig)
	}
	return secret.New(u)
}

func (e *env) checkNoSecrets(t *testing.T) {
	logs := e.logs.String()
	for _, sig := range e.sigs {
		if strings.Contains(logs, sig) {
			t.Errorf("a SAS signature appears in the logs")
		}
	}
	if key := e.srv.Key.Reveal(); strings.Contains(logs, key) {
		t.Errorf("the account key appears in the logs")
	}
}

func (e *env) download(t *testing.T, name string) []byte {
	t.Helper()
	c, err := e.srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.DownloadStream(e.ctx, "replicas", name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// makeVHDX writes random data at random sector-aligned places of a new
// dynamic VHDX and returns the oracle: the same writes on a plain buffer.
func makeVHDX(t *testing.T, path string, size int64, sector int, seed uint64) []byte {
	t.Helper()
	w, err := vhdx.Create(path, vhdx.CreateOptions{Size: size, BlockSize: 1 << 20, LogicalSectorSize: sector})
	if err != nil {
		t.Fatal(err)
	}
	oracle := make([]byte, size)
	rng := mrand.New(mrand.NewPCG(seed, 1))
	for i := 0; i < 40; i++ {
		n := int64(sector * (1 + rng.IntN(600)))
		off := int64(rng.IntN(int(size-n)/sector)) * int64(sector)
		buf := make([]byte, n)
		rand.Read(buf)
		if rng.IntN(4) == 0 {
			clear(buf[:n/2]) // allocated but zero: the zero scan must skip it
		}
		if _, err := w.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
		copy(oracle[off:], buf)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return oracle
}

// checkReplica compares a downloaded replica with the source bytes: data,
// zero padding to a whole MiB, and a fixed-VHD footer that our reader and
// qemu-img both accept, giving the same bytes.
func checkReplica(t *testing.T, replica, oracle []byte, dir string) {
	t.Helper()
	dataSize := vhd.ReplicaSize(int64(len(oracle)))
	if int64(len(replica)) != dataSize+512 {
		t.Fatalf("replica is %d bytes, want %d", len(replica), dataSize+512)
	}
	if !bytes.Equal(replica[:len(oracle)], oracle) {
		t.Fatal("replica data differs from the source")
	}
	if !bytes.Equal(replica[len(oracle):dataSize], make([]byte, dataSize-int64(len(oracle)))) {
		t.Fatal("replica padding is not zero")
	}
	path := filepath.Join(dir, "replica.vhd")
	if err := os.WriteFile(path, replica, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := vhd.Open(path)
	if err != nil {
		t.Fatalf("our reader refuses the replica: %v", err)
	}
	got := make([]byte, d.Size())
	if _, err := d.ReadAt(got, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	d.Close()
	if !bytes.Equal(got, replica[:dataSize]) {
		t.Fatal("our VHD reader reads other bytes from the replica")
	}
	qemu := testenv.LookTool(t, "qemu-img")
	raw := filepath.Join(dir, "replica.raw")
	if out, err := exec.Command(qemu, "convert", "-f", "vpc", "-O", "raw", path, raw).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, out)
	}
	q, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(q, replica[:dataSize]) {
		t.Fatalf("qemu-img reads %d other bytes from the replica", len(q))
	}
}

func TestRunner_InitialCopy_toAzurite(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		size   int64
		sector int
		kind   string
	}{
		{name: "dynamic vhdx, size not whole MiB", size: 40<<20 + 64<<10, sector: 512, kind: "vhdx"},
		{name: "4k-sector vhdx", size: 24 << 20, sector: 4096, kind: "vhdx"},
		{name: "fixed vhd", size: 16 << 20, sector: 512, kind: "vhd"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var src string
			var oracle []byte
			switch tt.kind {
			case "vhdx":
				src = filepath.Join(dir, "disk.vhdx")
				oracle = makeVHDX(t, src, tt.size, tt.sector, uint64(i))
			case "vhd":
				src = filepath.Join(dir, "disk.vhd")
				oracle = makeFixedVHD(t, src, tt.size)
			}
			name := "disk" + string(rune('a'+i)) + ".vhd"
			spec := jobs.InitialCopy{VMID: "vm", DiskID: "d", DiskPath: src, Target: e.sas(t, name, sas.BlobPermissions{Create: true, Write: true})}
			p := &upload.Progress{}
			if err := e.runner.RunInitialCopy(e.ctx, spec, e.store.Journal("copy-"+name), p); err != nil {
				t.Fatal(err)
			}
			checkReplica(t, e.download(t, name), oracle, dir)
			if s := p.Snapshot(time.Now()); s.Sent >= s.Total {
				t.Errorf("sent %d of %d bytes: zero ranges were not skipped", s.Sent, s.Total)
			}
		})
	}
}

// makeFixedVHD writes a fixed VHD of size bytes (a whole MiB) whose second
// quarter is random data and the rest zeros.
func makeFixedVHD(t *testing.T, path string, size int64) []byte {
	t.Helper()
	oracle := make([]byte, size)
	rand.Read(oracle[size/4 : size/2])
	footer, err := vhd.AzureFixedFooter(size, [16]byte{1, 2, 3}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(append([]byte(nil), oracle...), footer...), 0o600); err != nil {
		t.Fatal(err)
	}
	return oracle
}

// writeLog writes a closed HRL log of random overlapping writes, applying
// them to model as well.
func writeLog(t *testing.T, path string, prev hrl.GUID, model []byte, rng *mrand.Rand) hrl.GUID {
	t.Helper()
	opts := hrl.DefaultWriterOptions()
	opts.PreviousUniqueID = prev
	w, err := hrl.Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		n := 512 * (1 + rng.IntN(64))
		off := int64(rng.IntN((len(model)-n)/512)) * 512
		buf := make([]byte, n)
		if rng.IntN(3) > 0 {
			for j := range buf {
				buf[j] = byte(rng.IntN(4)) // compressible
			}
		} else {
			rand.Read(buf)
		}
		if _, err := w.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
		copy(model[off:], buf)
	}
	id := w.UniqueID()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return id
}

// applyDelta applies a downloaded delta object to base, as the hub will.
func applyDelta(t *testing.T, obj, base []byte) {
	t.Helper()
	if err := delta.Verify(bytes.NewReader(obj), int64(len(obj))); err != nil {
		t.Fatalf("delta object fails verification: %v", err)
	}
	r, err := delta.NewReader(bytes.NewReader(obj), int64(len(obj)))
	if err != nil {
		t.Fatal(err)
	}
	it := r.Extents()
	defer it.Close()
	for {
		e, err := it.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == delta.Zero {
			clear(base[e.Offset:e.End()])
			continue
		}
		b, err := it.Data()
		if err != nil {
			t.Fatal(err)
		}
		copy(base[e.Offset:], b)
	}
}

func TestRunner_CycleUpload_toAzurite(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	rng := mrand.New(mrand.NewPCG(11, 12))
	const size = 8 << 20
	base := [2][]byte{make([]byte, size), make([]byte, size)}
	model := [2][]byte{make([]byte, size), make([]byte, size)}
	rand.Read(base[0])
	copy(model[0], base[0])
	spec := jobs.CycleUpload{VMID: "0f8fad5b-d9cb-469f-a165-70867728950e", Cycle: 3, Previous: 2}
	for d := range 2 {
		var logs []string
		var prev hrl.GUID
		for k := range 3 { // a chain of three logs for this cycle
			path := filepath.Join(dir, fmt.Sprintf("disk%d-%d.hrl", d, k))
			prev = writeLog(t, path, prev, model[d], rng)
			logs = append(logs, path)
		}
		name := fmt.Sprintf("vm/cycle-3/disk-%d.delta", d)
		spec.Disks = append(spec.Disks, jobs.CycleDisk{
			DiskID: fmt.Sprintf("7c9e6679-7425-40de-944b-e07fc1f9050%d", d), Logs: logs, VirtualSize: size,
			Target: e.sas(t, name, sas.BlobPermissions{Create: true, Write: true}),
		})
	}
	p := &upload.Progress{}
	if err := e.runner.RunCycleUpload(e.ctx, spec, e.store.Journal("cycle-3"), p); err != nil {
		t.Fatal(err)
	}
	for d := range 2 {
		applyDelta(t, e.download(t, fmt.Sprintf("vm/cycle-3/disk-%d.delta", d)), base[d])
		if !bytes.Equal(base[d], model[d]) {
			t.Fatalf("disk %d: base plus the delta object differs from the disk after the cycle", d)
		}
	}
	s := p.Snapshot(time.Now())
	if s.SavedCoalescing <= 0 || s.SavedCompression <= 0 {
		t.Errorf("nothing saved by coalescing (%d) or compression (%d) on overlapping compressible writes", s.SavedCoalescing, s.SavedCompression)
	}
	// Repeating the job after success changes nothing and sends nothing.
	p2 := &upload.Progress{}
	if err := e.runner.RunCycleUpload(e.ctx, spec, e.store.Journal("cycle-3"), p2); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	if p2.Sent.Load() != 0 {
		t.Fatalf("repeat sent %d bytes", p2.Sent.Load())
	}
}
