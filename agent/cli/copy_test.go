package cli_test

import (
	"bytes"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hvmigrate/shared/vhd"
)

// TestCopy_SIGKILL_resumesWithBoundedResend kills `hvm-agent copy` at
// random points and runs it again until it finishes: the replica equals the
// disk, and all the runs together send at most the data plus one in-flight
// window per kill.
func TestCopy_SIGKILL_resumesWithBoundedResend(t *testing.T) {
	st := newStorage(t)
	proxy := newCountingProxy(t, st.srv.Host)
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.vhdx")
	const size, data = 64<<20 + 512<<10, 32 << 20
	oracle := makeDisk(t, disk, size, data, 1)
	url, sig := st.sasVia(t, "disk.vhd", proxy.addr())
	args := []string{"copy", "--threads", "4", "--limit", "100Mbps", "--state", filepath.Join(dir, "copy.db"),
		"--storage-ca", st.caFile, "--quiet", disk, url}

	rng := mrand.New(mrand.NewPCG(7, 7))
	kills := 0
	var out strings.Builder
	for {
		p := startAgent(t, args...)
		if kills < 4 {
			select {
			case <-p.done:
			case <-time.After(time.Duration(300+rng.IntN(900)) * time.Millisecond):
				p.kill()
				kills++
				out.WriteString(p.out.String())
				continue
			}
		}
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("copy exited %d:\n%s", code, p.out.String())
		}
		out.WriteString(p.out.String())
		break
	}
	if kills == 0 {
		t.Fatal("the copy finished before any kill: make the disk bigger or the limit lower")
	}
	replica := st.download(t, "disk.vhd")
	dataSize := vhd.ReplicaSize(size)
	if int64(len(replica)) != dataSize+512 || !bytes.Equal(replica[:size], oracle) {
		t.Fatalf("replica (%d bytes) differs from the disk", len(replica))
	}
	// One in-flight window is 4 threads of 4 MiB; TLS and HTTP add a little.
	limit := int64(data)*105/100 + int64(kills)*4*4<<20 + 1<<20
	t.Logf("%d kills; %d bytes sent through the proxy for %d bytes of data (limit %d)", kills, proxy.sent.Load(), data, limit)
	if proxy.sent.Load() > limit {
		t.Fatalf("sent %d bytes, more than the data plus %d in-flight windows (%d)", proxy.sent.Load(), kills, limit)
	}
	if strings.Contains(out.String(), sig) {
		t.Fatal("the SAS signature appears in the copy's output")
	}
}
