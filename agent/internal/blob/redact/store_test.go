package redact_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/redact"
	"hvmigrate/shared/storeerr"
)

const sasURL = "https://acct.blob.core.windows.net/ctr/disk.vhd?comp=page&se=2030-01-01&sig=S3CR3TSIG%2Bx%3D&sp=w&sr=b&sv=2024-05-04"

// leaky is a blob.Store whose Properties fails with the SAS in its error.
type leaky struct{ blob.Store }

func (leaky) Properties(context.Context, string) (blob.Properties, error) {
	uerr := &url.Error{Op: "Head", URL: sasURL, Err: errors.New("connection reset by peer")}
	return blob.Properties{}, &storeerr.Error{Op: "properties", Name: "disk.vhd", Class: storeerr.ErrTransient, Err: uerr}
}

func TestStore_Properties_redactsKeepsClass(t *testing.T) {
	_, err := redact.New(leaky{}).Properties(context.Background(), "disk.vhd")
	if err == nil || strings.Contains(err.Error(), "S3CR3TSIG") {
		t.Fatalf("err %v", err)
	}
	var ue *url.Error
	if !errors.Is(err, storeerr.ErrTransient) || errors.As(err, &ue) {
		t.Fatalf("class lost or the *url.Error still reachable: %v", err)
	}
}
