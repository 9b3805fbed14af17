package storeerr_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"hvmigrate/shared/storeerr"
)

const sasURL = "https://acct.blob.core.windows.net/ctr/disk.vhd?comp=page&se=2030-01-01&sig=S3CR3TSIG%2Bx%3D&sp=w&sr=b&sv=2024-05-04"

func TestRedact_removesSecrets(t *testing.T) {
	tests := []struct{ name, in string }{
		{"url error", `Put "` + sasURL + `": dial tcp 1.2.3.4:443: connect: connection refused`},
		{"bare query", "request failed: se=2030&sig=S3CR3TSIG&sp=w"},
		{"shared key", "Authorization: SharedKey devstoreaccount1:S3CR3TSIG="},
		{"connection string", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=S3CR3TSIG==;"},
		{"uppercase", "SIG=S3CR3TSIG"},
		{"angle brackets", "<Url>" + sasURL + "</Url>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storeerr.Redact(tt.in)
			t.Log(got)
			if strings.Contains(got, "S3CR3TSIG") {
				t.Fatalf("secret left in %q", got)
			}
		})
	}
	if got := storeerr.Redact("https://h/ctr/disk.vhd: status 503"); got != "https://h/ctr/disk.vhd: status 503" {
		t.Fatalf("changed harmless text: %q", got)
	}
}

func TestRedactError_keepsClassDropsChain(t *testing.T) {
	uerr := &url.Error{Op: "Put", URL: sasURL, Err: context.DeadlineExceeded}
	in := &storeerr.Error{Op: "write pages", Name: "disk.vhd", Class: storeerr.ErrTransient, Err: uerr}
	out := storeerr.RedactError(fmt.Errorf("upload: %w", in))
	for _, s := range []string{out.Error(), fmt.Sprintf("%+v %#v", out, out)} {
		if strings.Contains(s, "S3CR3TSIG") {
			t.Fatalf("leak: %s", s)
		}
	}
	if !errors.Is(out, storeerr.ErrTransient) || !errors.Is(out, context.DeadlineExceeded) {
		t.Fatalf("class lost: %v", out)
	}
	var ue *url.Error
	if errors.As(out, &ue) {
		t.Fatal("the *url.Error with the SAS is still reachable")
	}
	var se *storeerr.Error
	if !errors.As(out, &se) || se.Op != "write pages" {
		t.Fatalf("storeerr.Error lost: %v", out)
	}
	if storeerr.RedactError(nil) != nil {
		t.Fatal("nil not preserved")
	}
}

func TestRedactError_plainError(t *testing.T) {
	err := storeerr.RedactError(fmt.Errorf("%w: %w", storeerr.ErrThrottled, &url.Error{Op: "Get", URL: sasURL, Err: errors.New("eof")}))
	if strings.Contains(err.Error(), "S3CR3TSIG") || !errors.Is(err, storeerr.ErrThrottled) {
		t.Fatalf("got %v", err)
	}
}
