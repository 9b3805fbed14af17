package azure_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/azure"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/secret"
)

// fullPerms is what the conformance suite needs: create, write, read.
var fullPerms = sas.ContainerPermissions{Read: true, Create: true, Write: true}

// newContainer creates a container with a random name.
func newContainer(t *testing.T, srv *azurite.Server) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t" + hex.EncodeToString(b)
	if err := srv.CreateContainer(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

// config returns a Store config for a SAS URL on the emulator.
func config(srv *azurite.Server, sasURL string) azure.Config {
	cfg := azure.DefaultConfig()
	cfg.Endpoint = srv.Endpoint
	cfg.SAS = secret.New(sasURL)
	cfg.RootCAs = srv.RootCAs
	cfg.Proxy = nil
	return cfg
}

// inspected is an azure.Store plus a shared-key reader for the suite.
type inspected struct {
	*azure.Store
	client    *azblob.Client
	container string
}

// ReadBlob implements blobtest.Reader with the account key.
func (s inspected) ReadBlob(ctx context.Context, name string) ([]byte, error) {
	p, err := s.Properties(ctx, name)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, p.Size)
	if p.Size == 0 {
		return buf, nil
	}
	_, err = s.client.DownloadBuffer(ctx, s.container, name, buf, nil)
	return buf, err
}

// newStore returns a Store on a fresh container with a container SAS.
func newStore(t *testing.T, srv *azurite.Server, perms sas.ContainerPermissions, mod func(*azure.Config)) inspected {
	t.Helper()
	ctr := newContainer(t, srv)
	u, err := srv.ContainerSAS(ctr, perms)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(srv, u)
	if mod != nil {
		mod(&cfg)
	}
	s, err := azure.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	return inspected{Store: s, client: c, container: ctr}
}

var _ blob.Store = inspected{}

// newSASBlockClient returns an SDK block blob client on a blob SAS URL.
func newSASBlockClient(srv *azurite.Server, u string) (*blockblob.Client, error) {
	return blockblob.NewClientWithNoCredential(u, &blockblob.ClientOptions{ClientOptions: srv.ClientOptions().ClientOptions})
}
