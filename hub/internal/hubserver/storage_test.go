package hubserver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hvmigrate/hub/internal/hubserver"
	"hvmigrate/shared/secret"
)

func TestSetStorage_keyPrivateAndOutOfTheConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hub")
	if err := hubserver.Init(context.Background(), dir, hubserver.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if _, err := hubserver.LoadStorage(dir); !errors.Is(err, hubserver.ErrNoStorage) {
		t.Fatalf("LoadStorage before set: %v", err)
	}
	const key = "c2VjcmV0LWFjY291bnQta2V5"
	sc := hubserver.StorageConfig{Endpoint: "https://acct.blob.core.windows.net", Account: "acct"}
	if err := hubserver.SetStorage(dir, sc, secret.New(key)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, hubserver.StorageKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, hubserver.ConfigFile))
	if strings.Contains(string(cfg), key) || !strings.Contains(string(cfg), "acct.blob.core.windows.net") {
		t.Fatalf("config file:\n%s", cfg)
	}
	st, err := hubserver.LoadStorage(dir)
	if err != nil || st.Key.Reveal() != key || time.Duration(st.SASLifetime) != 2*time.Hour || st.RootCAs != nil {
		t.Fatalf("LoadStorage = %+v, %v", st, err)
	}
}

func TestSetStorage_rejects(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hub")
	if err := hubserver.Init(context.Background(), dir, hubserver.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sc   hubserver.StorageConfig
		key  string
	}{
		{"http endpoint", hubserver.StorageConfig{Endpoint: "http://a.blob.core.windows.net", Account: "a"}, "k"},
		{"query in endpoint", hubserver.StorageConfig{Endpoint: "https://a.blob.core.windows.net?sig=x", Account: "a"}, "k"},
		{"no account", hubserver.StorageConfig{Endpoint: "https://a.blob.core.windows.net"}, "k"},
		{"no key", hubserver.StorageConfig{Endpoint: "https://a.blob.core.windows.net", Account: "a"}, ""},
		{"sas lifetime", hubserver.StorageConfig{Endpoint: "https://a.blob.core.windows.net", Account: "a",
			SASLifetime: hubserver.Duration(5 * time.Hour)}, "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hubserver.SetStorage(dir, tt.sc, secret.New(tt.key))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "sig=x") {
				t.Fatalf("error echoes the query: %v", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, hubserver.StorageKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("a rejected config wrote the key file: %v", err)
	}
}
