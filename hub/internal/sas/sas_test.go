package sas

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"hvmigrate/shared/secret"
)

// devKey is a well-formed base64 key for signing in unit tests.
const devKey = "dGVzdC1rZXktdGhhdC1pcy1ub3QtYS1yZWFsLWtleS0xMjM0NTY3ODkwYWJjZGVm"

func testIssuer(t *testing.T, now time.Time, mod func(*Config)) *Issuer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Endpoint, cfg.Account, cfg.Key = "https://acct.blob.example.net", "acct", secret.New(devKey)
	cfg.Now = func() time.Time { return now }
	if mod != nil {
		mod(&cfg)
	}
	i, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return i
}

func TestIssuer_scoping(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		mod       func(*Config)
		issue     func(*Issuer) (Grant, error)
		wantPerms string
		wantPath  string
		wantExp   time.Time
	}{
		{"replica is write only", nil,
			func(i *Issuer) (Grant, error) { return i.Replica("rep-p1", "vm/aa/disk/bb.vhd") },
			"w", "/rep-p1/vm/aa/disk/bb.vhd", now.Add(2 * time.Hour)},
		{"cycle is create and write", nil,
			func(i *Issuer) (Grant, error) { return i.Cycle("cyc-p1", "vm/aa/disk/bb/cycle/7.delta") },
			"cw", "/cyc-p1/vm/aa/disk/bb/cycle/7.delta", now.Add(2 * time.Hour)},
		{"cycle without write is create only", func(c *Config) { c.CycleWithoutWrite = true },
			func(i *Issuer) (Grant, error) { return i.Cycle("cyc-p1", "vm/aa/disk/bb/cycle/7.delta") },
			"c", "/cyc-p1/vm/aa/disk/bb/cycle/7.delta", now.Add(2 * time.Hour)},
		{"lifetime is configurable", func(c *Config) { c.Lifetime = 4 * time.Hour },
			func(i *Issuer) (Grant, error) { return i.Replica("rep-p1", "vm/aa/disk/bb.vhd") },
			"w", "/rep-p1/vm/aa/disk/bb.vhd", now.Add(4 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := tt.issue(testIssuer(t, now, tt.mod))
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(g.URL.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			checks := map[string]string{"sp": tt.wantPerms, "sr": "b", "spr": "https",
				"se": tt.wantExp.Format(time.RFC3339)}
			for k, want := range checks {
				if got := q.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, k := range []string{"st", "sip", "si", "ss", "srt"} {
				if q.Has(k) {
					t.Errorf("unexpected %s=%q", k, q.Get(k))
				}
			}
			if u.Scheme != "https" || u.Path != tt.wantPath || q.Get("sig") == "" {
				t.Errorf("url %s://%s%s sig %v", u.Scheme, u.Host, u.Path, q.Get("sig") != "")
			}
			if g.Permissions != tt.wantPerms || !g.ExpiresAt.Equal(tt.wantExp) {
				t.Errorf("grant perms %q exp %s", g.Permissions, g.ExpiresAt)
			}
			if strings.ContainsAny(g.Permissions, "rld") {
				t.Errorf("grant carries read, list or delete: %q", g.Permissions)
			}
		})
	}
}

func TestIssuer_rejectsNames(t *testing.T) {
	i := testIssuer(t, time.Now(), nil)
	bad := [][2]string{
		{"Rep", "vm/a.vhd"}, {"rep-p1", ""}, {"rep-p1", "vm/../x"}, {"rep-p1", "vm//x"},
		{"rep-p1", "vm/A"}, {"rep-p1", "vm/a?b"}, {"rep-p1", "vm/a%2f"}, {"r", "x"}, {"rep-p1", "vm/a\\b"},
	}
	for _, b := range bad {
		if _, err := i.Replica(b[0], b[1]); !errors.Is(err, ErrName) {
			t.Errorf("Replica(%q, %q) = %v, want ErrName", b[0], b[1], err)
		}
	}
}

func TestNew_rejectsConfig(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"http endpoint", func(c *Config) { c.Endpoint = "http://acct.blob.example.net" }},
		{"endpoint with query", func(c *Config) { c.Endpoint = "https://acct.blob.example.net?sig=x" }},
		{"lifetime too short", func(c *Config) { c.Lifetime = 30 * time.Minute }},
		{"lifetime too long", func(c *Config) { c.Lifetime = 5 * time.Hour }},
		{"bad key", func(c *Config) { c.Key = secret.New("not base64!") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Endpoint, cfg.Account, cfg.Key = "https://acct.blob.example.net", "acct", secret.New(devKey)
			tt.mod(&cfg)
			_, err := New(cfg)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
			if strings.Contains(err.Error(), devKey) {
				t.Fatal("error carries the key")
			}
		})
	}
}

func TestGrant_urlIsRedacted(t *testing.T) {
	g, err := testIssuer(t, time.Now(), nil).Replica("rep-p1", "vm/aa/disk/bb.vhd")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{g.URL.String(), strings.Join([]string{g.URL.GoString()}, "")} {
		if strings.Contains(s, "sig=") {
			t.Fatalf("grant prints its signature: %s", s)
		}
	}
}
