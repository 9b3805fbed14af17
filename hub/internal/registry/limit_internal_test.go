package registry

import (
	"testing"
	"time"
)

func TestFailures_wait_refillsAndWarnsOncePerRun(t *testing.T) {
	f := newFailures(Rate{Every: 10 * time.Second, Burst: 2}, 100)
	t0 := time.Unix(1_700_000_000, 0)
	if w, _ := f.wait("a", t0); w != 0 {
		t.Fatalf("unknown key waits %v", w)
	}
	f.fail("a", t0)
	if w, _ := f.wait("a", t0); w != 0 {
		t.Fatalf("one failure of a burst of 2 waits %v", w)
	}
	f.fail("a", t0)
	w, first := f.wait("a", t0)
	if w != 10*time.Second || !first {
		t.Fatalf("after the burst: wait %v first %v, want 10s and the first refusal", w, first)
	}
	if w, first = f.wait("a", t0.Add(4*time.Second)); w != 6*time.Second || first {
		t.Fatalf("4s later: wait %v first %v, want 6s and not the first refusal", w, first)
	}
	if w, _ = f.wait("a", t0.Add(10*time.Second)); w != 0 {
		t.Fatalf("after a refill: wait %v", w)
	}
	f.fail("a", t0.Add(10*time.Second))
	if _, first = f.wait("a", t0.Add(10*time.Second)); !first {
		t.Fatal("a new run of refusals is not logged")
	}
}

func TestFailures_fail_boundsMemory(t *testing.T) {
	f := newFailures(Rate{Every: time.Minute, Burst: 2}, 4)
	t0 := time.Unix(1_700_000_000, 0)
	for _, k := range []string{"a", "b", "c", "d"} {
		f.fail(k, t0)
	}
	// Two minutes later every bucket refilled: all are idle and dropped.
	f.fail("e", t0.Add(2*time.Minute))
	if n := f.tracked(); n != 1 {
		t.Fatalf("tracked %d after idle entries were due for eviction, want 1", n)
	}
	for i, k := range []string{"f", "g", "h", "i", "j"} {
		f.fail(k, t0.Add(2*time.Minute+time.Duration(i+1)*time.Second))
	}
	if n := f.tracked(); n != 4 {
		t.Fatalf("tracked %d, want the bound 4", n)
	}
	for _, k := range []string{"e", "f"} { // the least recently failed went first
		if _, ok := f.entries[k]; ok {
			t.Errorf("%s still tracked", k)
		}
	}
	for _, k := range []string{"g", "h", "i", "j"} {
		if _, ok := f.entries[k]; !ok {
			t.Errorf("%s not tracked", k)
		}
	}
}
