package azurite

import (
	"context"
	"errors"
	"testing"

	"hvmigrate/shared/testenv"
)

// Start runs an emulator for the test and stops it in t.Cleanup. It skips the
// test when node or Azurite is missing (a failure when skips are disallowed)
// and fails it when the emulator does not start.
func Start(t testing.TB) *Server {
	t.Helper()
	// Tests keep blobs in memory: Azurite 3.35.0's file store was seen to
	// serve, in a page range written and acknowledged earlier, bytes of a
	// block staged later to another blob (the network-fault suite found
	// it: the CRC-64 the agent logged for the write matched the source,
	// the bytes read back matched the later block). Its memory store keeps
	// each write in its own buffer.
	s, err := Run(context.Background(), Options{Output: testWriter{t}, InMemory: true})
	if errors.Is(err, ErrNotInstalled) {
		testenv.Skip(t, err.Error())
	}
	if err != nil {
		t.Fatalf("start azurite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop azurite: %v", err)
		}
	})
	return s
}

// testWriter forwards the emulator's output to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("azurite: %s", p)
	return len(p), nil
}
