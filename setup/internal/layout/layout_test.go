//go:build !windows

package layout_test

import (
	"testing"

	"hvmigrate/setup/internal/layout"
)

func TestNew_root(t *testing.T) {
	tests := []struct {
		root, wantRoot string
		live           bool
	}{
		{"", "", true},
		{"/", "", true},
		{"/srv/img/", "/srv/img", false},
		{"rel/dir", "rel/dir", false},
	}
	for _, tt := range tests {
		l := layout.New(tt.root)
		if l.Root != tt.wantRoot || l.Live() != tt.live {
			t.Errorf("New(%q): root %q live %v", tt.root, l.Root, l.Live())
		}
	}
}

func TestLayout_At(t *testing.T) {
	if got := layout.New("/srv/img").At("/etc/hvmigrate"); got != "/srv/img/etc/hvmigrate" {
		t.Errorf("At under a root = %s", got)
	}
	if got := layout.New("/").At("/etc/hvmigrate"); got != "/etc/hvmigrate" {
		t.Errorf("At on the live system = %s", got)
	}
	if got := layout.New("/").Binary(layout.Agent); got != "/opt/hvmigrate/bin/hvm-agent" {
		t.Errorf("Binary = %s", got)
	}
}
