package hublink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication/driver"
)

func TestHub_RequestSAS_fromGrants(t *testing.T) {
	h := NewHub(testConfig(), Deps{Send: &sender{}, Log: testLogger(t)})
	h.SetGrants(testVM, []hubclient.SASGrant{replicaGrant(testDisk), cycleGrant(testDisk, 1), cycleGrant(testDisk, 12)})
	tests := []struct {
		name     string
		req      driver.SASRequest
		wantBlob string
		wantErr  error
	}{
		{"replica", driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobReplica, Generation: 3}, "vm/aa/disk/bb.vhd", nil},
		{"delta", driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobDelta, Cycle: 1}, "vm/aa/disk/bb/cycle/1.delta", nil},
		{"delta_two_digits", driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobDelta, Cycle: 12}, "vm/aa/disk/bb/cycle/12.delta", nil},
		{"cycle_not_granted", driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobDelta, Cycle: 2}, "", ErrNoGrant},
		{"other_disk", driver.SASRequest{VMID: testVM, DiskID: "other", Kind: driver.BlobReplica}, "", ErrNoGrant},
		{"other_vm", driver.SASRequest{VMID: "other", DiskID: testDisk, Kind: driver.BlobReplica}, "", ErrNoGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sas, err := h.RequestSAS(context.Background(), tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if sas.Blob != tt.wantBlob {
				t.Fatalf("blob = %q, want %q", sas.Blob, tt.wantBlob)
			}
			if err != nil && strings.Contains(err.Error(), "secretsig") {
				t.Fatalf("error carries the signature: %v", err)
			}
			if err == nil && !strings.Contains(sas.URL.Reveal(), "sig=secretsig") {
				t.Fatalf("url lost its sas: %v", sas.URL.Reveal())
			}
		})
	}
}

func TestHub_RequestSAS_waitsForPushedGrant(t *testing.T) {
	cfg := testConfig()
	cfg.GrantWait = 5 * time.Second
	h := NewHub(cfg, Deps{Send: &sender{}})
	go func() {
		time.Sleep(50 * time.Millisecond)
		h.SetGrants(testVM, []hubclient.SASGrant{cycleGrant(testDisk, 7)})
	}()
	start := time.Now()
	sas, err := h.RequestSAS(context.Background(), driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobDelta, Cycle: 7})
	if err != nil || sas.Blob != "vm/aa/disk/bb/cycle/7.delta" {
		t.Fatalf("RequestSAS = %q, %v", sas.Blob, err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatalf("waited %s for a grant pushed after 50ms", time.Since(start))
	}
}

func TestHub_RequestSAS_skipsExpiringGrant(t *testing.T) {
	h := NewHub(testConfig(), Deps{Send: &sender{}})
	g := cycleGrant(testDisk, 1)
	g.ExpiresAt = time.Now().Add(10 * time.Second) // inside GrantMinLife
	h.SetGrants(testVM, []hubclient.SASGrant{g})
	_, err := h.RequestSAS(context.Background(), driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobDelta, Cycle: 1})
	if !errors.Is(err, ErrNoGrant) {
		t.Fatalf("err = %v, want ErrNoGrant", err)
	}
}

func TestHub_RequestSAS_refreshReplacesAndForgetDrops(t *testing.T) {
	h := NewHub(testConfig(), Deps{Send: &sender{}})
	req := driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobReplica}
	h.SetGrants(testVM, []hubclient.SASGrant{replicaGrant(testDisk)})
	h.SetGrants(testVM, []hubclient.SASGrant{cycleGrant(testDisk, 1)})
	if _, err := h.RequestSAS(context.Background(), req); !errors.Is(err, ErrNoGrant) {
		t.Fatalf("replica grant survived a refresh without it: %v", err)
	}
	req.Kind, req.Cycle = driver.BlobDelta, 1
	if _, err := h.RequestSAS(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	h.ForgetGrants(testVM)
	if _, err := h.RequestSAS(context.Background(), req); !errors.Is(err, ErrNoGrant) {
		t.Fatalf("forgotten grant answered: %v", err)
	}
}

func TestHub_RequestSAS_contextEnds(t *testing.T) {
	cfg := testConfig()
	cfg.GrantWait = time.Minute
	h := NewHub(cfg, Deps{Send: &sender{}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := h.RequestSAS(ctx, driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobReplica})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestBlobOf_rejectsForeignURL(t *testing.T) {
	for _, raw := range []string{"https://acct.blob.core.windows.net/c/other/x?sig=s", "::not a url"} {
		g := hubclient.SASGrant{DiskID: testDisk, Purpose: purposeReplica, URL: grantURL("")}
		g.URL = secretOf(raw)
		if _, ok := matchGrant(g, driver.SASRequest{Kind: driver.BlobReplica}); ok {
			t.Errorf("grant %q matched", raw)
		}
	}
}
