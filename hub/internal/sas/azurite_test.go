package sas_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"hvmigrate/hub/internal/sas"
	"hvmigrate/integration/azurite"
)

const (
	repCtr     = "rep-project1"
	cycCtr     = "cyc-project1"
	replica    = "vm/aa01/disk/bb01.vhd"
	replica2   = "vm/aa02/disk/bb02.vhd" // another VM's
	cycleObj   = "vm/aa01/disk/bb01/cycle/1.delta"
	cycleOther = "vm/aa02/disk/bb02/cycle/1.delta"
)

// env is an emulator with both containers, two replicas and an issuer.
type env struct {
	t   *testing.T
	srv *azurite.Server
	iss *sas.Issuer
}

func newEnv(t *testing.T, now func() time.Time) *env {
	srv := azurite.Start(t)
	ctx := context.Background()
	cfg := sas.DefaultConfig()
	cfg.Endpoint, cfg.Account, cfg.Key = srv.Endpoint, srv.Account, srv.Key
	if now != nil {
		cfg.Now = now
	}
	iss, err := sas.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := iss.NewContainers(srv.RootCAs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{repCtr, cycCtr} {
		if err := cs.Ensure(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	admin, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{replica, replica2} {
		pb := admin.ServiceClient().NewContainerClient(repCtr).NewPageBlobClient(b)
		if _, err := pb.Create(ctx, 1<<20+512, nil); err != nil {
			t.Fatal(err)
		}
	}
	return &env{t: t, srv: srv, iss: iss}
}

func (e *env) grantURL(g sas.Grant, err error) string {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return g.URL.Reveal()
}

// retarget keeps a grant's query and points it at another blob path.
func retarget(raw, path string) string {
	u, _ := url.Parse(raw)
	u.Path = path
	return u.String()
}

func (e *env) putPage(raw string) error {
	c, err := pageblob.NewClientWithNoCredential(raw, &pageblob.ClientOptions{ClientOptions: e.srv.ClientOptions().ClientOptions})
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = c.UploadPages(context.Background(), streaming.NopCloser(bytes.NewReader(bytes.Repeat([]byte{7}, 512))),
		blob.HTTPRange{Offset: 0, Count: 512}, nil)
	return err
}

func (e *env) read(raw string) error {
	c, err := blob.NewClientWithNoCredential(raw, &blob.ClientOptions{ClientOptions: e.srv.ClientOptions().ClientOptions})
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := c.DownloadStream(context.Background(), nil)
	if err == nil {
		_, err = io.ReadAll(r.Body)
		r.Body.Close()
	}
	return err
}

func (e *env) del(raw string) error {
	c, err := blob.NewClientWithNoCredential(raw, &blob.ClientOptions{ClientOptions: e.srv.ClientOptions().ClientOptions})
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = c.Delete(context.Background(), nil)
	return err
}

func (e *env) list(raw, ctr string) error {
	u, _ := url.Parse(raw)
	u.Path = "/" + strings.Split(strings.TrimPrefix(u.Path, "/"), "/")[0] + "/" + ctr
	c, err := container.NewClientWithNoCredential(u.String(), &container.ClientOptions{ClientOptions: e.srv.ClientOptions().ClientOptions})
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = c.NewListBlobsFlatPager(nil).NextPage(context.Background())
	return err
}

func (e *env) upload(raw string) error {
	c, err := blockblob.NewClientWithNoCredential(raw, &blockblob.ClientOptions{ClientOptions: e.srv.ClientOptions().ClientOptions})
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = c.UploadBuffer(context.Background(), []byte("delta object"), &azblob.UploadBufferOptions{BlockSize: 4})
	return err
}

func expect(t *testing.T, what string, err error, allowed bool) {
	t.Helper()
	if allowed && err != nil {
		t.Errorf("%s: refused: %v", what, err)
	}
	if !allowed && err == nil {
		t.Errorf("%s: allowed, want refused", what)
	}
}

func TestAzurite_replicaGrant(t *testing.T) {
	e := newEnv(t, nil)
	raw := e.grantURL(e.iss.Replica(repCtr, replica))
	expect(t, "put page on own replica", e.putPage(raw), true)
	expect(t, "read own replica", e.read(raw), false)
	expect(t, "delete own replica", e.del(raw), false)
	expect(t, "list the replica container", e.list(raw, repCtr), false)
	p2 := "/" + e.srv.Account + "/" + repCtr + "/" + replica2
	expect(t, "put page on another VM's replica", e.putPage(retarget(raw, p2)), false)
	expect(t, "read another VM's replica", e.read(retarget(raw, p2)), false)
}

func TestAzurite_expiredReplicaGrant(t *testing.T) {
	past := time.Now().Add(-3 * time.Hour)
	e := newEnv(t, func() time.Time { return past })
	raw := e.grantURL(e.iss.Replica(repCtr, replica))
	expect(t, "put page with an expired write grant", e.putPage(raw), false)
}

func TestAzurite_cycleGrant(t *testing.T) {
	e := newEnv(t, nil)
	raw := e.grantURL(e.iss.Cycle(cycCtr, cycleObj))
	expect(t, "upload own cycle object in blocks", e.upload(raw), true)
	expect(t, "read own cycle object", e.read(raw), false)
	expect(t, "delete own cycle object", e.del(raw), false)
	expect(t, "list the cycle container", e.list(raw, cycCtr), false)
	other := "/" + e.srv.Account + "/" + cycCtr + "/" + cycleOther
	expect(t, "upload another VM's cycle object", e.upload(retarget(raw, other)), false)
	rep := "/" + e.srv.Account + "/" + repCtr + "/" + replica
	expect(t, "put page on the finished replica with a cycle grant", e.putPage(retarget(raw, rep)), false)
	next := "/" + e.srv.Account + "/" + cycCtr + "/" + strings.Replace(cycleObj, "/1.", "/2.", 1)
	expect(t, "upload the next cycle's object with this cycle's grant", e.upload(retarget(raw, next)), false)
}

// TestAzurite_createOnlyCycleGrant pins what the emulator (3.35.0) does
// with a create-only grant, which is what real Azure documents too: block
// uploads (Put Block, Put Block List) of a new blob pass, overwriting the
// committed blob is refused.
func TestAzurite_createOnlyCycleGrant(t *testing.T) {
	srv := azurite.Start(t)
	cfg := sas.DefaultConfig()
	cfg.Endpoint, cfg.Account, cfg.Key, cfg.CycleWithoutWrite = srv.Endpoint, srv.Account, srv.Key, true
	iss, err := sas.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := iss.NewContainers(srv.RootCAs)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Ensure(context.Background(), cycCtr); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, iss: iss}
	raw := e.grantURL(iss.Cycle(cycCtr, cycleObj))
	first := e.upload(raw)
	second := e.upload(raw)
	expect(t, "block upload of a new object with a create-only grant", first, true)
	expect(t, "overwrite of a committed object with a create-only grant", second, false)
	expect(t, "read with a create-only grant", e.read(raw), false)
	expect(t, "delete with a create-only grant", e.del(raw), false)
}
