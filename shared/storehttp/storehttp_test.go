package storehttp_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"hvmigrate/shared/storehttp"
)

// okDoer answers 200 and counts the requests that reached it.
type okDoer struct{ n int }

func (d *okDoer) Do(*http.Request) (*http.Response, error) {
	d.n++
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
}

func TestNewTransport_guard(t *testing.T) {
	const host = "acct.blob.core.windows.net:443"
	tests := []struct {
		name      string
		url       string
		allowHTTP bool
		ok        bool
	}{
		{"endpoint", "https://acct.blob.core.windows.net/ctr/b?sig=x", false, true},
		{"other spelling", "https://ACCT.blob.core.windows.net:443/ctr/b", false, true},
		{"foreign host", "https://evil.example.com/ctr/b", false, false},
		{"suffix trick", "https://acct.blob.core.windows.net.evil.example/ctr/b", false, false},
		{"other port", "https://acct.blob.core.windows.net:8443/ctr/b", false, false},
		{"user info", "https://u:p@acct.blob.core.windows.net/ctr/b", false, false},
		{"http", "http://acct.blob.core.windows.net:443/ctr/b", false, false},
		{"http allowed", "http://acct.blob.core.windows.net:443/ctr/b", true, true},
		{"other scheme", "ftp://acct.blob.core.windows.net:443/ctr/b", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &okDoer{}
			wrapped := 0
			d := storehttp.NewTransport(storehttp.Config{Host: host, AllowHTTP: tt.allowHTTP, Wrap: func(d storehttp.Doer) storehttp.Doer {
				wrapped++
				return d
			}}, next)
			req, err := http.NewRequest(http.MethodPut, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Do(req)
			if tt.ok != (err == nil) || tt.ok != (next.n == 1) || wrapped != 1 {
				t.Fatalf("err %v, %d requests sent, wrapped %d times", err, next.n, wrapped)
			}
			if !tt.ok && !errors.Is(err, storehttp.ErrForeignHost) {
				t.Fatalf("err %v, want ErrForeignHost", err)
			}
		})
	}
}

func TestHostPort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://Acct.Blob.Core.Windows.Net/ctr", "acct.blob.core.windows.net:443"},
		{"http://127.0.0.1/acct", "127.0.0.1:80"},
		{"https://127.0.0.1:10000/acct", "127.0.0.1:10000"},
		{"https://[::1]/acct", "[::1]:443"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := storehttp.HostPort(u); got != tt.want {
			t.Errorf("HostPort(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestNewClient_noRedirectsTLS12(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		followed.Add(1)
	}))
	defer target.Close()
	redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	pool := x509.NewCertPool()
	pool.AddCert(redirector.Certificate())
	pool.AddCert(target.Certificate())

	c := storehttp.NewClient(storehttp.Config{RootCAs: pool})
	defer c.CloseIdleConnections()
	if v := c.Transport.(*http.Transport).TLSClientConfig.MinVersion; v != tls.VersionTLS12 {
		t.Fatalf("TLS minimum %x", v)
	}
	resp, err := c.Get(redirector.URL + "/ctr/b")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || followed.Load() != 0 {
		t.Fatalf("status %d, %d requests reached the target", resp.StatusCode, followed.Load())
	}
}
