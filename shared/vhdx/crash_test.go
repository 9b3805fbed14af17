package vhdx

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// crashWrite is write number j of a crash run: deterministic from j.
func crashWrite(j int, size, ss int64) (off int64, p []byte) {
	rng := rand.New(rand.NewPCG(uint64(j), 99))
	sectors := size / ss
	n := 1 + rng.Int64N(min(sectors/4, 3*(1<<20)/ss))
	if rng.IntN(2) == 0 {
		n = 1 + rng.Int64N(16)
	}
	s := rng.Int64N(sectors - n + 1)
	return s * ss, pattern(byte(j), int(n*ss))
}

// TestHelperCrashChild is the child process of the crash tests: it opens
// the file for writing and makes writes from index VHDX_CRASH_START on,
// reporting each one after it returns, until it is killed.
func TestHelperCrashChild(t *testing.T) {
	path := os.Getenv("VHDX_CRASH_PATH")
	if path == "" {
		t.Skip("crash test child only")
	}
	start, _ := strconv.Atoi(os.Getenv("VHDX_CRASH_START"))
	w, err := OpenWriter(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("open")
	for j := start; ; j++ {
		off, p := crashWrite(j, w.Size(), int64(w.LogicalSectorSize()))
		if _, err := w.WriteAt(p, off); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		if j%3 == 0 {
			w.Flush()
		}
		fmt.Println("done", j)
	}
}

// runCrashChild starts a child at write start, kills it after delay and
// returns the first write index not reported done.
func runCrashChild(t *testing.T, path string, start int, delay time.Duration) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrashChild$")
	cmd.Env = append(os.Environ(), "VHDX_CRASH_PATH="+path, "VHDX_CRASH_START="+strconv.Itoa(start))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(delay, func() { cmd.Process.Kill() })
	defer timer.Stop()
	next := start
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var j int
		if _, err := fmt.Sscanf(sc.Text(), "done %d", &j); err == nil {
			next = j + 1
		} else if sc.Text() != "open" {
			t.Fatalf("child: %s", sc.Text())
		}
	}
	cmd.Wait()
	return next
}

func TestWriter_crash_killAtRandomPoints(t *testing.T) {
	tests := []struct {
		name string
		diff bool
	}{{"dynamic", false}, {"differencing", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, state := crashFixture(t, dir, tt.diff)
			rng := rand.New(rand.NewPCG(7, 7))
			next := 0
			for round := range 10 {
				delay := time.Duration(20+rng.IntN(200)) * time.Millisecond
				k := runCrashChild(t, path, next, delay)
				state = checkCrashState(t, path, state, next, k, !tt.diff)
				t.Logf("round %d: writes %d..%d survived", round, next, k)
				next = k + 1
			}
		})
	}
}

// crashFixture creates the disk the crash child writes to and its content.
func crashFixture(t *testing.T, dir string, diff bool) (string, []byte) {
	opts := CreateOptions{Size: 24 << 20, BlockSize: 1 << 20}
	path := filepath.Join(dir, "c.vhdx")
	if !diff {
		w, err := Create(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		return path, make([]byte, opts.Size)
	}
	paths, want := buildChain(t, dir, 1, opts, rand.New(rand.NewPCG(8, 8)))
	path = filepath.Join(dir, "child.avhdx")
	w, err := CreateDifferencing(path, paths[0], CreateOptions{BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	return path, want
}

// checkCrashState checks that the disk opens and that every sector holds
// the state after writes [start, k) plus, possibly, write k; it returns the
// content read.
func checkCrashState(t *testing.T, path string, before []byte, start, k int, qemuToo bool) []byte {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatalf("after kill: %v", err)
	}
	got := readAll(t, d)
	collectExtents(t, d)
	ss := int64(d.LogicalSectorSize())
	d.Close()
	a := append([]byte(nil), before...)
	for j := start; j < k; j++ {
		off, p := crashWrite(j, int64(len(a)), ss)
		copy(a[off:], p)
	}
	b := append([]byte(nil), a...)
	off, p := crashWrite(k, int64(len(b)), ss)
	copy(b[off:], p)
	for s := int64(0); s < int64(len(got)); s += ss {
		g := string(got[s : s+ss])
		if g != string(a[s:s+ss]) && g != string(b[s:s+ss]) {
			t.Fatalf("sector at %d is neither the old nor the new content (writes %d..%d)", s, start, k)
		}
	}
	if qemuToo {
		repaired := filepath.Join(t.TempDir(), "r.vhdx")
		copyFile(t, path, repaired)
		qemu(t, "qemu-img", "check", "-r", "all", "-f", "vhdx", repaired)
		if i := firstDiff(qemuRaw(t, repaired), got); i >= 0 {
			t.Fatalf("qemu after repair differs from our replay at %d", i)
		}
	}
	return got
}

func TestWriter_crash_logWrittenNotApplied(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.vhdx")
	w, err := Create(path, CreateOptions{Size: 16 << 20, BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	o := &oracle{b: make([]byte, w.Size())}
	o.write(t, w, pattern(1, 8192), 0)
	w.Flush()
	before := filepath.Join(dir, "before.vhdx")
	copyFile(t, path, before)
	o.write(t, w, pattern(2, 4096), 3<<20+512)
	w.Flush()
	// The crash image: everything written, but the BAT as it was before the
	// second write's log entry was applied.
	crashed := filepath.Join(dir, "crashed.vhdx")
	copyFile(t, path, crashed)
	batOff, batLen := w.l.bat.off, w.l.bat.length
	old, _ := os.ReadFile(before)
	f, _ := os.OpenFile(crashed, os.O_RDWR, 0)
	f.WriteAt(old[batOff:batOff+batLen], batOff)
	f.Close()
	l, err := openLayer(crashed, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	replayed := l.src.ov != nil
	l.close()
	if !replayed {
		t.Fatal("the crash image has no live log entry")
	}
	checkCrashImage(t, crashed, o.b)
	// A Writer reopening the crash image replays the log into the file.
	w2, err := OpenWriter(crashed)
	if err != nil {
		t.Fatal(err)
	}
	w2.Close()
	checkImage(t, crashed, o.b, true)
}

// checkCrashImage compares our reader and qemu's repair with want.
func checkCrashImage(t *testing.T, path string, want []byte) {
	t.Helper()
	checkImage(t, path, want, false)
	repaired := filepath.Join(t.TempDir(), "r.vhdx")
	copyFile(t, path, repaired)
	qemu(t, "qemu-img", "check", "-r", "all", "-f", "vhdx", repaired)
	if i := firstDiff(qemuRaw(t, repaired), want); i >= 0 {
		t.Fatalf("qemu repair differs at %d", i)
	}
}
