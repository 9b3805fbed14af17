package hubserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"hvmigrate/hub/internal/hubserver"
	"hvmigrate/shared/identity"
	"hvmigrate/shared/secret"
)

func TestInit_layout_privateFilesAndRefuseTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hub")
	cfg := hubserver.DefaultConfig()
	cfg.PublicAddress = "hub.example:443"
	if err := hubserver.Init(context.Background(), dir, cfg); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{hubserver.CAKeyFile, hubserver.AdminCAKeyFile, hubserver.ServerKeyFile,
		hubserver.AdminCredFile, hubserver.DatabaseFile, hubserver.ConfigFile, hubserver.CtlConfigFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, fi.Mode(), err)
		}
	}
	chain, _ := os.ReadFile(filepath.Join(dir, hubserver.ServerCertFile))
	certs, err := identity.ParseCertsPEM(chain)
	if err != nil || len(certs) != 2 || !certs[1].IsCA {
		t.Fatalf("server chain = %d certs, %v", len(certs), err)
	}
	if err := certs[0].VerifyHostname("hub.example"); err != nil {
		t.Error(err)
	}
	if err := certs[0].VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	cred, _ := os.ReadFile(filepath.Join(dir, hubserver.AdminCredFile))
	b, err := identity.ParseBundle(secret.New(string(cred)))
	if err != nil || b.CAs[0].Equal(certs[0]) || !b.CAs[0].Equal(certs[1]) {
		t.Fatalf("admin credential must trust the hub CA: %v", err)
	}
	if b.Cert.CheckSignatureFrom(certs[1]) == nil {
		t.Fatal("the admin certificate is signed by the host CA; it must come from the admin CA")
	}
	var ctl hubserver.CtlConfig
	raw, _ := os.ReadFile(filepath.Join(dir, hubserver.CtlConfigFile))
	if err := json.Unmarshal(raw, &ctl); err != nil || ctl.Hub != cfg.AdminListen || !filepath.IsAbs(ctl.Credential) {
		t.Fatalf("hvmctl config = %+v, %v", ctl, err)
	}
	if err := hubserver.Init(context.Background(), dir, cfg); !errors.Is(err, hubserver.ErrInitialised) {
		t.Fatalf("second init: %v", err)
	}
}
