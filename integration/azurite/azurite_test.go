package azurite_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"hvmigrate/integration/azurite"
)

func TestStart_servesHTTPSWithItsCA(t *testing.T) {
	s := azurite.Start(t)
	ctx := context.Background()
	if !strings.HasPrefix(s.Endpoint, "https://127.0.0.1:") || !strings.HasSuffix(s.Endpoint, "/devstoreaccount1") {
		t.Fatalf("endpoint %q", s.Endpoint)
	}
	if err := s.CreateContainer(ctx, "ctr1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateContainer(ctx, "ctr1"); err != nil {
		t.Fatalf("second create: %v", err)
	}
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadBuffer(ctx, "ctr1", "b", []byte("hello"), nil); err != nil {
		t.Fatal(err)
	}

	// A client without the CA must refuse the certificate.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(s.Endpoint + "?comp=list")
	if err == nil {
		resp.Body.Close()
		t.Fatal("untrusted client connected")
	}
	// A client with the CA reads the blob through a read SAS.
	u, err := s.BlobSAS("ctr1", "b", sas.BlobPermissions{Read: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = s.HTTPClient().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, []byte("hello")) {
		t.Fatalf("GET with SAS: %d %q", resp.StatusCode, body)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("TLS state %+v", resp.TLS)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", s, s, s), s.Key.Reveal()) {
		t.Fatal("server value prints the account key")
	}
}

func TestServer_Close_stopsProcess(t *testing.T) {
	s := azurite.Start(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	c := s.HTTPClient()
	c.Timeout = 2 * time.Second
	if resp, err := c.Get(s.Endpoint + "?comp=list"); err == nil {
		resp.Body.Close()
		t.Fatal("emulator still answers after Close")
	}
}

func TestRun_missingScript_isNotInstalled(t *testing.T) {
	t.Setenv(azurite.DirVar, t.TempDir())
	_, err := azurite.Run(context.Background(), azurite.Options{})
	if err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Fatalf("err = %v", err)
	}
}
