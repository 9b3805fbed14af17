package storage_test

import (
	"testing"

	"hvmigrate/hub/internal/storage"
)

func TestCRC64_knownValue(t *testing.T) {
	if got := storage.CRC64([]byte("123456789")); got != 0xAE8B14860A799888 {
		t.Fatalf("CRC64(123456789) = %#x, want 0xae8b14860a799888", got)
	}
}
