package applier_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"hvmigrate/hub/internal/applier"
	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/secret"
)

// The test binary plays the hub's applier as a child process when childEnv
// is set; the parent kills it with SIGKILL mid-apply.
const (
	childEnv     = "HVM_APPLY_CHILD"
	childRequest = "HVM_APPLY_REQUEST" // JSON of childSpec
	childKey     = "HVM_APPLY_KEY"     // the emulator's account key
)

// childSpec tells the child what to apply where.
type childSpec struct {
	Endpoint string
	Account  string
	CAFile   string
	Spool    string
	Request  applier.VMCycle
}

// lineProgress prints one line per completed write, so the parent can
// kill the child in the middle of a cycle.
type lineProgress struct{}

func (lineProgress) Applied(_, _ delta.ID, _ uint64, n int64) { fmt.Printf("applied %d\n", n) }

// childMain applies one cycle and exits 0, or exits 1 on error.
func childMain() int {
	var spec childSpec
	if err := json.Unmarshal([]byte(os.Getenv(childRequest)), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child: bad spec:", err)
		return 1
	}
	pem, err := os.ReadFile(spec.CAFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cfg := azure.DefaultConfig()
	cfg.Endpoint, cfg.RootCAs = spec.Endpoint, roots
	cfg.Credential = azure.SharedKey(spec.Account, secret.New(os.Getenv(childKey)))
	st, err := azure.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	ap := applier.New(st, applier.Config{InFlight: 4, SpoolDir: spec.Spool, Progress: lineProgress{}})
	if _, err := ap.Apply(context.Background(), spec.Request); err != nil {
		fmt.Fprintln(os.Stderr, "child: apply:", err)
		return 1
	}
	fmt.Println("done")
	return 0
}

// startChild starts the child on a request and returns it with its output.
func startChild(t *testing.T, srv *azurite.Server, req applier.VMCycle) (*exec.Cmd, *bufio.Scanner) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	spec, err := json.Marshal(childSpec{Endpoint: srv.Endpoint, Account: srv.Account, CAFile: ca, Spool: dir, Request: req})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childRequest+"="+string(spec), childKey+"="+srv.Key.Reveal())
	cmd.Stderr = testWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

// killAfter kills the child with SIGKILL after it reported n writes, and
// reports whether the kill came before the child finished.
func killAfter(t *testing.T, cmd *exec.Cmd, out *bufio.Scanner, n int) bool {
	seen := 0
	for seen < n && out.Scan() {
		if out.Text() == "done" {
			break
		}
		seen++
	}
	mid := seen == n
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for out.Scan() { // drain what the child wrote before it died
	}
	_ = cmd.Wait()
	return mid
}

func TestApplier_Apply_sigkilledChild_recovers(t *testing.T) {
	srv := azurite.Start(t)
	s := seed(t, 12)
	e := newAzuriteEnv(t, srv, s)
	e.opt.MaxExtents = 8
	e.opt.MaxLength = 0
	rng := rand.New(rand.NewPCG(s, 3))
	const kills = 5
	mid := 0
	var points []recovery.Point
	for range kills {
		c := e.next()
		cmd, out := startChild(t, srv, e.vm.Request(c))
		if killAfter(t, cmd, out, 1+rng.IntN(6)) {
			mid++
		}
		for i := range e.vm.Disks {
			seq, err := azureSeq(e, i)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.vm.CheckNotAhead(context.Background(), e.store, i, seq); err != nil {
				t.Fatalf("after SIGKILL in cycle %d: %v", c, err)
			}
		}
		e.apply(c) // the restarted hub applies the cycle again
		e.checkReplicas(c)
		points = append(points, e.record(c))
		e.checkPoints(points)
	}
	t.Logf("%d of %d kills landed mid-apply; %d points", mid, kills, len(points))
	if mid == 0 {
		t.Fatal("no kill landed mid-apply: the test did not test anything")
	}
}

// azureSeq returns a replica's sequence number as a cycle.
func azureSeq(e *env, disk int) (uint64, error) {
	p, err := e.store.Properties(context.Background(), e.vm.ReplicaBlob(disk), "")
	return uint64(p.SequenceNumber), err
}
