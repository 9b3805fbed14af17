package azure_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/hub/internal/storage/storagetest"
	"hvmigrate/integration/azurite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newStore connects a Store to the emulator.
func newStore(t *testing.T, srv *azurite.Server) *azure.Store {
	t.Helper()
	cfg := azure.DefaultConfig()
	cfg.Endpoint = srv.Endpoint
	cfg.Credential = azure.SharedKey(srv.Account, srv.Key)
	cfg.RootCAs = srv.RootCAs
	cfg.CopyPoll = 50e6
	s, err := azure.New(cfg)
	if err != nil {
		t.Fatalf("azure.New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore_conformance_azurite(t *testing.T) {
	srv := azurite.Start(t)
	s := newStore(t, srv)
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) (storage.Store, string) {
		ctr := fmt.Sprintf("conf-%d", n.Add(1))
		if err := srv.CreateContainer(context.Background(), ctr); err != nil {
			t.Fatal(err)
		}
		return s, ctr
	}, storagetest.ServerIgnoresChecksums(), storagetest.ServerAllowsWritesPastEnd())
}
