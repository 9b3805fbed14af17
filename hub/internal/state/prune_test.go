package state_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hvmigrate/hub/internal/state"
)

// twoHosts makes hosts h1 and h2 (keys k1 and k2 of project p1).
func twoHosts(t *testing.T, s *state.Store) {
	t.Helper()
	ctx := context.Background()
	seed(t, s)
	k2 := state.Key{ID: "k2", ProjectID: "p1", SecretHash: "bb", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Redeem(ctx, redemption("pk1", "h1")); err != nil {
		t.Fatal(err)
	}
	r := redemption("pk2", "h2")
	r.KeyID, r.SecretHash = "k2", "bb"
	if _, _, err := s.Redeem(ctx, r); err != nil {
		t.Fatal(err)
	}
}

func record(t *testing.T, s *state.Store, host, id string, at time.Time) {
	t.Helper()
	if _, err := s.RecordEvent(context.Background(), state.Event{HostID: host, ID: id, Kind: "health", Payload: []byte{1}, ReceivedAt: at}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestStore_PruneEvents_keepsRecentAndEachHostsLatest(t *testing.T) {
	ctx := context.Background()
	cutoff := t0.Add(24 * time.Hour)
	tests := []struct {
		name      string
		keep      int
		wantGone  map[string][]int // host -> event numbers deleted
		wantCount int64
	}{
		{"keep 4", 4, map[string][]int{"h1": {0, 1, 2, 3, 4, 5, 6, 7}}, 8},
		{"keep 0", 0, map[string][]int{"h1": {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "h2": {0, 1, 2}}, 13},
		{"keep all", 100, map[string][]int{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openStore(t)
			twoHosts(t, s)
			// h1: ten events before the cutoff, two after; h2: three before.
			for i := range 12 {
				at := t0.Add(time.Duration(i) * time.Hour)
				if i >= 10 {
					at = cutoff.Add(time.Duration(i) * time.Minute)
				}
				record(t, s, "h1", fmt.Sprintf("e%d", i), at)
			}
			for i := range 3 {
				record(t, s, "h2", fmt.Sprintf("e%d", i), t0.Add(time.Duration(i)*time.Hour))
			}
			n, err := s.PruneEvents(ctx, tt.keep, cutoff)
			if err != nil || n != tt.wantCount {
				t.Fatalf("pruned %d, %v; want %d", n, err, tt.wantCount)
			}
			for host, count := range map[string]int{"h1": 12, "h2": 3} {
				gone := map[int]bool{}
				for _, i := range tt.wantGone[host] {
					gone[i] = true
				}
				for i := range count {
					has, err := s.HasEvent(ctx, host, fmt.Sprintf("e%d", i))
					if err != nil || has == gone[i] {
						t.Errorf("%s event e%d: stored %v (%v), want %v", host, i, has, err, !gone[i])
					}
				}
			}
		})
	}
}
