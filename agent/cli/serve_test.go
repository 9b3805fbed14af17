package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"hvmigrate/shared/delta"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/hrl"
	"hvmigrate/shared/ipc"
)

func dialAgent(t *testing.T, sock string) agentv1.AgentServiceClient {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///agent",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ipc.Dial(ctx, sock) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return agentv1.NewAgentServiceClient(conn)
}

// writeLogs writes a chain of closed logs of random incompressible writes
// and returns the disk after them.
func writeLogs(t *testing.T, dir string, size int64, n int, perLog int64) ([]string, []byte) {
	t.Helper()
	model := make([]byte, size)
	rng := mrand.New(mrand.NewPCG(21, 22))
	var paths []string
	var prev hrl.GUID
	for k := range n {
		opts := hrl.DefaultWriterOptions()
		opts.PreviousUniqueID = prev
		path := filepath.Join(dir, fmt.Sprintf("d0-%d.hrl", k))
		w, err := hrl.Create(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		for written := int64(0); written < perLog; {
			buf := make([]byte, 64<<10*(1+rng.IntN(4)))
			rand.Read(buf)
			off := int64(rng.IntN(int((size-int64(len(buf)))/512))) * 512
			if _, err := w.WriteAt(buf, off); err != nil {
				t.Fatal(err)
			}
			copy(model[off:], buf)
			written += int64(len(buf))
		}
		prev = w.UniqueID()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths, model
}

func applyObject(t *testing.T, obj []byte, disk []byte) {
	t.Helper()
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
		b, err := it.Data()
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == delta.Zero {
			clear(disk[e.Offset:e.End()])
		} else {
			copy(disk[e.Offset:], b)
		}
	}
}

// TestServe_cycleUploadSurvivesSIGKILL starts a cycle upload on the agent
// service, kills the agent at random points and starts it again: the job
// resumes by itself, the committed object rebuilds the disk exactly, the
// throttle set over the wire survives the restarts, and no SAS signature
// reaches the agent's log.
func TestServe_cycleUploadSurvivesSIGKILL(t *testing.T) {
	st := newStorage(t)
	proxy := newCountingProxy(t, st.srv.Host)
	dir, err := os.MkdirTemp("", "hvmagent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	const size = 64 << 20
	logs, model := writeLogs(t, dir, size, 3, 8<<20)
	sock := filepath.Join(dir, "run", "agent.sock")
	args := []string{"serve", "--listen", sock, "--state-dir", filepath.Join(dir, "state"),
		"--storage-endpoint", "https://" + proxy.addr() + "/devstoreaccount1", "--storage-ca", st.caFile}
	url, sig := st.sasVia(t, "vm1/c5/d0.delta", proxy.addr())

	agent := startAgent(t, args...)
	agent.waitFor(t, "agent serving")
	c := dialAgent(t, sock)
	ctx := context.Background()
	limit := &agentv1.BandwidthLimit{BitsPerSecond: 80_000_000}
	if _, err := c.SetThrottle(ctx, &agentv1.SetThrottleRequest{Settings: &agentv1.ThrottleSettings{
		WorkHours: limit, NonWorkHours: limit, WorkStart: "08:00", WorkEnd: "18:00", ThreadsPerVm: 2,
	}}); err != nil {
		t.Fatal(err)
	}
	req := &agentv1.StartCycleUploadRequest{JobId: "vm1-c5", VmId: "0f8fad5b-d9cb-469f-a165-70867728950e", Cycle: 5, PreviousCycle: 4,
		Disks: []*agentv1.CycleDisk{{DiskId: "7c9e6679-7425-40de-944b-e07fc1f90500", LogPaths: logs, VirtualSize: size, TargetUrl: url}}}
	if _, err := c.StartCycleUpload(ctx, req); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rng := mrand.New(mrand.NewPCG(3, 4))
	kills := 0
	for ; kills < 3; kills++ {
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		if st := jobState(t, c, "vm1-c5"); st == agentv1.JobState_JOB_STATE_SUCCEEDED {
			break
		}
		agent.kill()
		out.WriteString(agent.out.String())
		agent = startAgent(t, args...)
		agent.waitFor(t, "agent serving")
		c = dialAgent(t, sock)
	}
	if kills == 0 {
		t.Fatal("the upload finished before any kill")
	}
	waitJob(t, c, "vm1-c5")
	out.WriteString(agent.out.String())

	th, err := c.GetThrottle(ctx, &agentv1.GetThrottleRequest{})
	if err != nil || th.GetSettings().GetWorkHours().GetBitsPerSecond() != 80_000_000 {
		t.Fatalf("throttle after restarts: %v, %v", th, err)
	}
	base := make([]byte, size)
	applyObject(t, st.download(t, "vm1/c5/d0.delta"), base)
	if !bytes.Equal(base, model) {
		t.Fatal("the uploaded delta object does not rebuild the disk")
	}
	// Two threads of 8 MiB blocks are in flight at most when a kill lands.
	bound := int64(24<<20)*105/100 + int64(kills)*2*8<<20 + 1<<20
	t.Logf("%d kills; %d bytes sent for 24 MiB logged (bound %d)", kills, proxy.sent.Load(), bound)
	if proxy.sent.Load() > bound {
		t.Fatalf("sent %d bytes, above %d", proxy.sent.Load(), bound)
	}
	if strings.Contains(out.String(), sig) {
		t.Fatal("the SAS signature appears in the agent's log")
	}
}

func jobState(t *testing.T, c agentv1.AgentServiceClient, id string) agentv1.JobState {
	t.Helper()
	resp, err := c.ListJobs(context.Background(), &agentv1.ListJobsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range resp.GetJobs() {
		if j.GetJobId() == id {
			return j.GetState()
		}
	}
	t.Fatalf("job %s not listed", id)
	return 0
}

// waitJob watches the job until it ends and fails unless it succeeded.
func waitJob(t *testing.T, c agentv1.AgentServiceClient, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := c.WatchJob(ctx, &agentv1.WatchJobRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	var last *agentv1.JobProgress
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		last = resp.GetJob()
	}
	if last.GetState() != agentv1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job ended %v: %s", last.GetState(), last.GetError())
	}
}

// TestThrottleCommand sets and shows the limits on a running agent, and
// refuses a limit out of range with a message that says the range.
func TestThrottleCommand(t *testing.T) {
	dir, err := os.MkdirTemp("", "hvmagent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "run", "agent.sock")
	agent := startAgent(t, "serve", "--listen", sock, "--state-dir", filepath.Join(dir, "state"))
	agent.waitFor(t, "agent serving")

	set := startAgent(t, "throttle", "set", "--agent", sock, "--work-hours", "50Mbps", "--non-work-hours", "unlimited",
		"--work-days", "Mon-Fri", "--start", "07:30", "--end", "19:00", "--time-zone", "Europe/Berlin", "--threads-per-vm", "8")
	if code := set.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("throttle set exited %d:\n%s", code, set.out.String())
	}
	show := startAgent(t, "throttle", "show", "--agent", sock)
	show.wait(t, 20*time.Second)
	for _, want := range []string{"work hours:      50Mbps, Mon,Tue,Wed,Thu,Fri 07:30-19:00 (Europe/Berlin)", "non-work hours:  unlimited", "threads per VM:  8"} {
		if !strings.Contains(show.out.String(), want) {
			t.Errorf("throttle show lacks %q:\n%s", want, show.out.String())
		}
	}
	bad := startAgent(t, "throttle", "set", "--agent", sock, "--work-hours", "100Kbps")
	if code := bad.wait(t, 20*time.Second); code == 0 || !strings.Contains(bad.out.String(), "512Kbps and 1023Mbps") {
		t.Fatalf("an out-of-range limit: exit %d:\n%s", code, bad.out.String())
	}
}

// TestServe_hashDisk asks a running agent for the chunk hashes of a VHDX
// and checks them against the disk's bytes: SHA-256 for chunks with data,
// "" for chunks that hold none.
func TestServe_hashDisk(t *testing.T) {
	dir, err := os.MkdirTemp("", "hvmagent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	const size, chunk = 48 << 20, 1 << 20
	oracle := makeDisk(t, filepath.Join(dir, "d.vhdx"), size, 6<<20, 5)
	sock := filepath.Join(dir, "run", "agent.sock")
	agent := startAgent(t, "serve", "--listen", sock, "--state-dir", filepath.Join(dir, "state"))
	agent.waitFor(t, "agent serving")
	c := dialAgent(t, sock)
	stream, err := c.HashDisk(context.Background(), &agentv1.HashDiskRequest{DiskPath: filepath.Join(dir, "d.vhdx"), ChunkBytes: chunk})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.GetSha256()...)
	}
	if len(got) != size/chunk {
		t.Fatalf("%d hashes, want %d", len(got), size/chunk)
	}
	empty := 0
	for i, h := range got {
		part := oracle[i*chunk : (i+1)*chunk]
		sum := sha256.Sum256(part)
		switch {
		case h == "":
			empty++
			if !bytes.Equal(part, make([]byte, chunk)) {
				t.Fatalf("chunk %d marked empty but holds data", i)
			}
		case h != hex.EncodeToString(sum[:]):
			t.Fatalf("chunk %d: hash differs from the disk's bytes", i)
		}
	}
	if empty == 0 || empty == len(got) {
		t.Fatalf("%d of %d chunks empty: the test disk should have both kinds", empty, len(got))
	}
	// Errors of a server stream arrive with the first Recv.
	bad, err := c.HashDisk(context.Background(), &agentv1.HashDiskRequest{DiskPath: filepath.Join(dir, "d.vhdx"), ChunkBytes: 1000})
	if err == nil {
		_, err = bad.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a chunk size of 1000 bytes: err = %v, want InvalidArgument", err)
	}
}
