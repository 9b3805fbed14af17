package state_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hvmigrate/hub/internal/state"
)

func openStore(t *testing.T) (*state.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := state.Open(context.Background(), state.DefaultConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// seed creates a project and an unused key valid for an hour from t0.
func seed(t *testing.T, s *state.Store) state.Key {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateProject(ctx, state.Project{ID: "p1", Name: "alpha", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	k := state.Key{ID: "k1", ProjectID: "p1", SecretHash: "aa", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	return k
}

func redemption(pk, host string) state.Redemption {
	return state.Redemption{KeyID: "k1", SecretHash: "aa", ProjectID: "p1", PublicKeyHash: pk, Hostname: "h", NewHostID: host, Now: t0.Add(time.Minute)}
}

func TestOpen_migrations_appliedOnceAcrossReopen(t *testing.T) {
	s, path := openStore(t)
	v, err := s.SchemaVersion(context.Background())
	if err != nil || v != 4 {
		t.Fatalf("schema version = %d, %v; want 4", v, err)
	}
	seed(t, s)
	s.Close()
	s2, err := state.Open(context.Background(), state.DefaultConfig(path))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if ps, err := s2.Projects(context.Background()); err != nil || len(ps) != 1 || ps[0].Name != "alpha" {
		t.Fatalf("projects after reopen = %+v, %v", ps, err)
	}
}

func TestStore_CreateProject_duplicateName(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	err := s.CreateProject(context.Background(), state.Project{ID: "p2", Name: "alpha", CreatedAt: t0})
	if !errors.Is(err, state.ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
}

func TestStore_Redeem_states(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *state.Store)
		r     state.Redemption
		want  error
	}{
		{"unknown key", nil, func() state.Redemption { r := redemption("pk", "h1"); r.KeyID = "nope"; return r }(), state.ErrKeyUnknown},
		{"wrong secret", nil, func() state.Redemption { r := redemption("pk", "h1"); r.SecretHash = "bb"; return r }(), state.ErrKeyUnknown},
		{"other project", nil, func() state.Redemption { r := redemption("pk", "h1"); r.ProjectID = "p9"; return r }(), state.ErrProjectMismatch},
		{"expired", nil, func() state.Redemption { r := redemption("pk", "h1"); r.Now = t0.Add(time.Hour); return r }(), state.ErrKeyExpired},
		{"revoked", func(s *state.Store) { s.RevokeKey(context.Background(), "k1") }, redemption("pk", "h1"), state.ErrKeyRevoked},
		{"used by other key", func(s *state.Store) { s.Redeem(context.Background(), redemption("pkA", "h0")) }, redemption("pkB", "h1"), state.ErrKeyRedeemed},
		{"fresh", nil, redemption("pk", "h1"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openStore(t)
			seed(t, s)
			if tt.setup != nil {
				tt.setup(s)
			}
			h, created, err := s.Redeem(context.Background(), tt.r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (!created || h.ID != "h1" || h.ProjectID != "p1") {
				t.Fatalf("host = %+v created=%v", h, created)
			}
		})
	}
}

func TestStore_Redeem_expiredErrorNamesTime(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	r := redemption("pk", "h1")
	r.Now = t0.Add(2 * time.Hour)
	_, _, err := s.Redeem(context.Background(), r)
	var kerr *state.KeyError
	if !errors.As(err, &kerr) || !kerr.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("err = %v, want a KeyError with the expiry", err)
	}
}

func TestStore_Redeem_retrySamePublicKeyReturnsSameHost(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	ctx := context.Background()
	h1, created1, err := s.Redeem(ctx, redemption("pk", "h1"))
	if err != nil || !created1 {
		t.Fatal(err)
	}
	h2, created2, err := s.Redeem(ctx, redemption("pk", "h2"))
	if err != nil || created2 || h2.ID != h1.ID {
		t.Fatalf("retry = %+v created=%v err=%v, want host %s", h2, created2, err, h1.ID)
	}
	k, _ := s.GetKey(ctx, "k1")
	if k.State != state.KeyRedeemed || k.RedeemedBy != "h1" || k.BoundKeyHash != "pk" {
		t.Fatalf("key = %+v", k)
	}
}

func TestStore_Redeem_concurrentSingleWinner(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	const n = 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, refused := 0, 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, created, err := s.Redeem(context.Background(), redemption(string(rune('a'+i%26))+string(rune('0'+i/26)), "h"+string(rune('0'+i))))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && created:
				wins++
			case errors.Is(err, state.ErrKeyRedeemed):
				refused++
			default:
				t.Errorf("unexpected result: created=%v err=%v", created, err)
			}
		}()
	}
	wg.Wait()
	hosts, _ := s.Hosts(context.Background(), "")
	if wins != 1 || refused != n-1 || len(hosts) != 1 {
		t.Fatalf("wins=%d refused=%d hosts=%d; want 1, %d, 1", wins, refused, len(hosts), n-1)
	}
}
