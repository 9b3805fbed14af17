package azure_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/azure"
	"hvmigrate/agent/internal/blob/fault"
	"hvmigrate/agent/internal/blob/logging"
	"hvmigrate/agent/internal/blob/redact"
	"hvmigrate/agent/internal/blob/retry"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/storeerr"
)

// faulty returns the agent's stack (retry, logging, redact, azure) over a
// fault transport, the transport, the captured log and the SAS signature.
type faulty struct {
	blob.Store
	inner  inspected
	faults *fault.Transport
	log    *bytes.Buffer
	events *[]retry.Event
	sig    string
}

func newFaulty(t *testing.T, srv *azurite.Server, fc fault.Config, rc retry.Config) faulty {
	t.Helper()
	var ft *fault.Transport
	inner := newStore(t, srv, fullPerms, func(c *azure.Config) {
		c.WrapTransport = func(d azure.Doer) azure.Doer {
			ft = fault.New(d, fc)
			return ft
		}
		u, _ := url.Parse(c.SAS.Reveal())
		t.Logf("signature length %d", len(u.Query().Get("sig")))
	})
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &syncBuf{b: &buf}, Level: hclog.Trace, Name: "blob"})
	var mu sync.Mutex
	var events []retry.Event
	rc.OnRetry = func(e retry.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	s := retry.New(logging.New(redact.New(inner), log), rc)
	sasURL, _ := srv.ContainerSAS(inner.container, fullPerms)
	u, _ := url.Parse(sasURL)
	return faulty{Store: s, inner: inner, faults: ft, log: &buf, events: &events, sig: u.Query().Get("sig")}
}

// assertNoSecrets fails if text holds the signature or the account key.
func (f faulty) assertNoSecrets(t *testing.T, srv *azurite.Server, what, text string) {
	t.Helper()
	for _, s := range []string{f.sig, url.QueryEscape(f.sig), srv.Key.Reveal(), "sig=" + f.sig[:4]} {
		if strings.Contains(text, s) {
			t.Fatalf("%s holds a secret: %s", what, text)
		}
	}
}

func TestStore_faultsWithRetry_Azurite(t *testing.T) {
	srv := azurite.Start(t)
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	f := newFaulty(t, srv, fault.Config{
		Seed:   seed,
		Script: []fault.Kind{fault.Drop, fault.Busy, fault.Timeout, fault.Reset, fault.Drop},
		Busy:   0.1, Timeout: 0.05, Drop: 0.1, Reset: 0.1,
		RetryAfter: 20 * time.Millisecond,
	}, retry.Config{BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, MaxAttempts: 20})

	const size, chunk = 8 << 20, 512 << 10
	src := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	if err := f.CreatePageBlob(ctx, "disk.vhd", size); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < size; off += chunk {
		if err := f.WritePages(ctx, "disk.vhd", int64(off), blob.NewPayload(src[off:off+chunk])); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for i := range 8 {
		id := fmt.Sprintf("blk-%04d", i)
		ids = append(ids, id)
		if err := f.StageBlock(ctx, "cycle-1.delta", id, blob.NewPayload(src[i*4096:(i+1)*4096])); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.CommitBlocks(ctx, "cycle-1.delta", ids); err != nil {
		t.Fatal(err)
	}

	got, err := f.inner.ReadBlob(ctx, "disk.vhd")
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("replica differs from source (err %v)", err)
	}
	if got, _ := f.inner.ReadBlob(ctx, "cycle-1.delta"); !bytes.Equal(got, src[:8*4096]) {
		t.Fatal("delta object differs")
	}
	injected := 0
	for _, k := range []fault.Kind{fault.Busy, fault.Timeout, fault.Drop, fault.Reset} {
		t.Logf("%s faults: %d", k, f.faults.Count(k))
		if f.faults.Count(k) == 0 {
			t.Errorf("no %s fault injected", k)
		}
		injected += f.faults.Count(k)
	}
	if len(*f.events) != injected {
		t.Errorf("%d retries reported for %d faults", len(*f.events), injected)
	}
	for _, e := range *f.events {
		f.assertNoSecrets(t, srv, "retry event", fmt.Sprintf("%v %+v", e.Err, e))
	}
	f.assertNoSecrets(t, srv, "log", f.log.String())
	if !strings.Contains(f.log.String(), "connection reset") {
		t.Error("the log does not show the reset failures")
	}
}

func TestStore_retryAfterBeyondSDKCap_Azurite(t *testing.T) {
	srv := azurite.Start(t)
	ctx := context.Background()
	f := newFaulty(t, srv, fault.Config{Script: []fault.Kind{fault.Busy}, RetryAfter: 1500 * time.Millisecond},
		retry.Config{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond})
	start := time.Now()
	if err := f.CreatePageBlob(ctx, "d", 4096); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Fatalf("retried after %v, before the 1.5 s the service asked for", d)
	}
	if len(*f.events) != 1 || (*f.events)[0].Delay != 1500*time.Millisecond {
		t.Fatalf("events %+v", *f.events)
	}
}

func TestStore_unknownOutcome_Azurite(t *testing.T) {
	srv := azurite.Start(t)
	ctx := context.Background()
	var ft *fault.Transport
	s := newStore(t, srv, fullPerms, func(c *azure.Config) {
		c.WrapTransport = func(d azure.Doer) azure.Doer {
			ft = fault.New(d, fault.Config{Script: []fault.Kind{fault.Drop, fault.None, fault.None, fault.Drop, fault.None}})
			return ft
		}
	})
	sig := sigOf(t, srv, s.container)
	// Each first try reaches the service, then its answer is lost.
	err := s.CreatePageBlob(ctx, "d", 4096)
	checkUnknown(t, err, sig)
	if err := s.CreatePageBlob(ctx, "d", 4096); err != nil {
		t.Fatalf("create after lost answer: %v", err)
	}
	if err := s.StageBlock(ctx, "o", "b1", blob.NewPayload([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	checkUnknown(t, s.CommitBlocks(ctx, "o", []string{"b1"}), sig)
	if err := s.CommitBlocks(ctx, "o", []string{"b1"}); err != nil {
		t.Fatalf("commit after lost answer: %v", err)
	}
}

func checkUnknown(t *testing.T, err error, sig string) {
	t.Helper()
	t.Logf("lost answer: %v", err)
	if !errors.Is(err, storeerr.ErrTransient) {
		t.Fatalf("err %v, want ErrTransient", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), sig) {
		t.Fatalf("error holds the signature: %v", err)
	}
}

func sigOf(t *testing.T, srv *azurite.Server, ctr string) string {
	t.Helper()
	u, err := srv.ContainerSAS(ctr, fullPerms)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := url.Parse(u)
	return p.Query().Get("sig")
}

// syncBuf serialises concurrent log writes.
type syncBuf struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
