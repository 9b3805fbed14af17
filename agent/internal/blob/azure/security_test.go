package azure_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/azure"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/storeerr"
)

func TestNew_refusesBadSASURLs(t *testing.T) {
	const ep = "https://acct.blob.core.windows.net"
	tests := []struct {
		name, endpoint, sas string
		want                error
	}{
		{"foreign host", ep, "https://evil.example.com/ctr?sig=x", azure.ErrForeignHost},
		{"suffix trick", ep, "https://acct.blob.core.windows.net.evil.example/ctr?sig=x", azure.ErrForeignHost},
		{"other port", ep, "https://acct.blob.core.windows.net:8443/ctr?sig=x", azure.ErrForeignHost},
		{"other account path", "https://127.0.0.1:10000/devstoreaccount1", "https://127.0.0.1:10000/other/ctr?sig=x", azure.ErrForeignHost},
		{"http", ep, "http://acct.blob.core.windows.net/ctr?sig=x", azure.ErrBadSAS},
		{"user info", ep, "https://u:p@acct.blob.core.windows.net/ctr?sig=x", azure.ErrBadSAS},
		{"no signature", ep, "https://acct.blob.core.windows.net/ctr?sv=1", azure.ErrBadSAS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := azure.DefaultConfig()
			cfg.Endpoint, cfg.SAS = tt.endpoint, secret.New(tt.sas)
			_, err := azure.New(cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	cfg := azure.DefaultConfig()
	cfg.Endpoint, cfg.SAS = ep, secret.New("https://ACCT.blob.core.windows.net:443/ctr/dir/disk.vhd?sig=x")
	if _, err := azure.New(cfg); err != nil {
		t.Fatalf("same host in other spelling refused: %v", err)
	}
}

func TestStore_doesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		followed.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	defer target.Close()
	redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	pool := x509.NewCertPool()
	pool.AddCert(redirector.Certificate())
	pool.AddCert(target.Certificate())
	cfg := azure.DefaultConfig()
	cfg.Endpoint = redirector.URL
	cfg.SAS = secret.New(redirector.URL + "/ctr?sv=2024-05-04&sig=SIGVALUE")
	cfg.RootCAs, cfg.Proxy = pool, nil
	s, err := azure.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.CreatePageBlob(context.Background(), "d", 512)
	t.Logf("create through a redirecting server: %v", err)
	if err == nil || followed.Load() != 0 {
		t.Fatalf("redirect followed (%d requests reached the target), err %v", followed.Load(), err)
	}
	if !errors.Is(err, storeerr.ErrInvalid) {
		t.Fatalf("err %v, want ErrInvalid", err)
	}
}

func TestStore_blobSAS_coversOneBlob(t *testing.T) {
	srv := azurite.Start(t)
	ctx := context.Background()
	ctr := newContainer(t, srv)
	u, err := srv.BlobSAS(ctr, "vm1/disk0.vhd", sas.BlobPermissions{Create: true, Write: true, Read: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := azure.New(config(srv, u))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePageBlob(ctx, "vm1/disk0.vhd", 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePages(ctx, "vm1/disk0.vhd", 512, blob.NewPayload(make([]byte, 4096))); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePageBlob(ctx, "vm1/disk1.vhd", 1<<20); !errors.Is(err, storeerr.ErrDenied) {
		t.Fatalf("other blob: %v", err)
	}
}
