package manifest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hvmigrate/setup/internal/manifest"
)

func TestSaveLoad_roundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "install.json")
	want := manifest.Manifest{Release: "v1", InstalledAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), User: "hvmigrate",
		Binaries: []manifest.File{{Path: "/opt/hvmigrate/bin/hvm-agent", SHA256: "ab"}}}
	if err := manifest.Save(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Release != want.Release || !got.InstalledAt.Equal(want.InstalledAt) || len(got.Binaries) != 1 || got.Binaries[0] != want.Binaries[0] {
		t.Errorf("loaded %+v", got)
	}
}

func TestLoad_errors(t *testing.T) {
	dir := t.TempDir()
	if _, err := manifest.Load(filepath.Join(dir, "none.json")); !errors.Is(err, manifest.ErrNotInstalled) {
		t.Errorf("missing: err = %v", err)
	}
	for name, body := range map[string]string{
		"garbage":      "{not json",
		"other format": `{"format": 99}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := manifest.Load(p)
		if err == nil || errors.Is(err, manifest.ErrNotInstalled) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
}
