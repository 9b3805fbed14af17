package redact_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/redact"
)

const sasURL = "https://acct.blob.core.windows.net/ctr/disk.vhd?comp=page&se=2030-01-01&sig=S3CR3TSIG%2Bx%3D&sp=w&sr=b&sv=2024-05-04"

func TestString_removesSecrets(t *testing.T) {
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
			got := redact.String(tt.in)
			t.Log(got)
			if strings.Contains(got, "S3CR3TSIG") {
				t.Fatalf("secret left in %q", got)
			}
		})
	}
	if got := redact.String("https://h/ctr/disk.vhd: status 503"); got != "https://h/ctr/disk.vhd: status 503" {
		t.Fatalf("changed harmless text: %q", got)
	}
}

func TestError_keepsClassDropsChain(t *testing.T) {
	uerr := &url.Error{Op: "Put", URL: sasURL, Err: context.DeadlineExceeded}
	in := &blob.Error{Op: "write pages", Name: "disk.vhd", Class: blob.ErrTransient, Err: uerr}
	out := redact.Error(fmt.Errorf("upload: %w", in))
	for _, s := range []string{out.Error(), fmt.Sprintf("%+v %#v", out, out)} {
		if strings.Contains(s, "S3CR3TSIG") {
			t.Fatalf("leak: %s", s)
		}
	}
	if !errors.Is(out, blob.ErrTransient) || !errors.Is(out, context.DeadlineExceeded) {
		t.Fatalf("class lost: %v", out)
	}
	var ue *url.Error
	if errors.As(out, &ue) {
		t.Fatal("the *url.Error with the SAS is still reachable")
	}
	var be *blob.Error
	if !errors.As(out, &be) || be.Op != "write pages" {
		t.Fatalf("blob.Error lost: %v", out)
	}
	if redact.Error(nil) != nil {
		t.Fatal("nil not preserved")
	}
}

func TestError_plainError(t *testing.T) {
	err := redact.Error(fmt.Errorf("%w: %w", blob.ErrThrottled, &url.Error{Op: "Get", URL: sasURL, Err: errors.New("eof")}))
	if strings.Contains(err.Error(), "S3CR3TSIG") || !errors.Is(err, blob.ErrThrottled) {
		t.Fatalf("got %v", err)
	}
}
