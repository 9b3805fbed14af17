//go:build linux

package ctl

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
	"hvmigrate/shared/testenv"
)

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// shown returns what the terminal shows: its output without escapes.
func shown(screen *testenv.Buffer) string { return ansi.ReplaceAllString(screen.String(), "") }

func watchStatus(done, total uint64, cycle uint64, state string) []*adminv1.VmStatus {
	return []*adminv1.VmStatus{{VmId: "vm-1", Name: "web01", State: state, AppliedCycle: cycle, Health: "ok",
		SwitchedUnixMs: time.Now().UnixMilli(), RpoSeconds: 42, PendingBytes: 3 << 20, RecoveryPoints: 2,
		Disks: []*adminv1.DiskStatus{{Id: "d1", Name: "os", TotalBytes: total, DoneBytes: done}}}}
}

func TestWatchView_drawsBarsOnATerminal(t *testing.T) {
	primary, secondary := openPTY(t)
	if !isTerminal(secondary) || isTerminal(&bytes.Buffer{}) {
		t.Fatal("isTerminal does not tell the pty from a buffer")
	}
	var screen testenv.Buffer
	copied := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := primary.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				close(copied)
				return
			}
		}
	}()
	clock := time.Unix(1_700_000_000, 0)
	v := newWatchView(context.Background(), secondary, func() time.Time { return clock })
	const total = 100 << 20
	for i, pct := range []uint64{10, 50, 80} {
		clock = clock.Add(time.Second)
		v.update(watchStatus(pct*total/100, total, uint64(i), "initial_copy"))
		// Each state must be drawn before the next replaces it; a fixed
		// sleep was too short on a loaded machine.
		waitScreen(t, &screen, fmt.Sprintf("%d %%", pct))
	}
	clock = clock.Add(time.Second)
	v.update(watchStatus(total, total, 3, "replicating"))
	waitScreen(t, &screen, "cycle 3")
	v.close()
	out := shown(&screen)
	for _, want := range []string{"web01", "initial_copy", "os", "10 %", "50 %", "ETA", "MiB/s",
		"replicating", "cycle 3", "rpo 42s", "pending 3.0 MiB", "points 2", "100 %"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal lacks %q:\n%s", want, out)
		}
	}
}

func waitScreen(t *testing.T, s *testenv.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(shown(s), want) {
		if time.Now().After(deadline) {
			t.Fatalf("terminal never showed %q:\n%s", want, shown(s))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
