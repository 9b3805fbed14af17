package preflight

import (
	"errors"
	"strings"
	"testing"

	"hvmigrate/provider/internal/host"
)

// fakeSpace puts paths under /a and /b on two volumes.
type fakeSpace map[string]int64

func (f fakeSpace) Volume(path string) (Volume, error) {
	vol := path[:2]
	free, ok := f[vol]
	if !ok {
		return Volume{}, errors.New("no such volume")
	}
	return Volume{ID: vol, Free: free}, nil
}

func vmWith(disks ...host.Disk) host.VM { return host.VM{ID: "vm1", Disks: disks} }

func disk(id, dir string, size int64) host.Disk {
	return host.Disk{ID: id, Path: dir + "/" + id + "/disk.vhdx", VirtualSize: size}
}

func TestCheck_findings(t *testing.T) {
	const gib = int64(1) << 30
	many := make([]host.Disk, 17)
	for i := range many {
		many[i] = disk("d", "/a", gib)
	}
	rows := []struct {
		name   string
		vm     host.VM
		space  fakeSpace
		refuse []string
		warn   []string
	}{
		{"fits", vmWith(disk("d0", "/a", 10*gib), disk("d1", "/b", 10*gib)), fakeSpace{"/a": 15 * gib, "/b": 20 * gib}, nil, nil},
		{"copy does not fit", vmWith(disk("d0", "/a", 10*gib)), fakeSpace{"/a": 9 * gib}, []string{"d0", "needs up to 10240 MiB"}, nil},
		{"disks share a volume", vmWith(disk("d0", "/a", 10*gib), disk("d1", "/a", 10*gib)), fakeSpace{"/a": 19 * gib}, []string{"d0, d1", "20480 MiB"}, nil},
		{"logs may not fit", vmWith(disk("d0", "/a", 10*gib)), fakeSpace{"/a": 12 * gib}, nil, []string{"15360 MiB", "150%"}},
		{"space unknown", vmWith(disk("d0", "/c", gib)), fakeSpace{}, nil, []string{"not checked", "d0"}},
		{"foreign checkpoint", host.VM{ID: "vm1", HasCheckpoints: true, Disks: []host.Disk{disk("d0", "/a", gib)}}, fakeSpace{"/a": 10 * gib}, []string{"checkpoints"}, nil},
		{"disk too big", vmWith(disk("big", "/a", 33<<40)), fakeSpace{"/a": 100 << 40}, []string{"big", "33792 GiB", "over 32768 GiB"}, nil},
		{"too many disks", vmWith(many...), fakeSpace{"/a": 100 * gib}, []string{"17 disks", "at most 16"}, nil},
		{"no disks", vmWith(), fakeSpace{}, []string{"no disks"}, nil},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(tt.vm, tt.space, DefaultConfig())
			err := r.Err()
			if (err != nil) != (tt.refuse != nil) {
				t.Fatalf("refused: %v, want refusal %v", err, tt.refuse != nil)
			}
			if err != nil && !errors.Is(err, ErrRefused) {
				t.Fatalf("refusal %v does not wrap ErrRefused", err)
			}
			for _, want := range tt.refuse {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("refusal %q lacks %q", err, want)
				}
			}
			warns := strings.Join(r.Warnings(), "\n")
			if (warns != "") != (tt.warn != nil) {
				t.Fatalf("warnings %q, want %v", warns, tt.warn)
			}
			for _, want := range tt.warn {
				if !strings.Contains(warns, want) {
					t.Errorf("warnings %q lack %q", warns, want)
				}
			}
		})
	}
}

func TestOSSpace_Volume_measuresTempDir(t *testing.T) {
	dir := t.TempDir()
	v, err := OSSpace{}.Volume(dir)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := OSSpace{}.Volume(dir + "/..")
	if err != nil {
		t.Fatal(err)
	}
	if v.Free <= 0 || v.ID == "" || v.ID != v2.ID {
		t.Fatalf("volume %+v and parent %+v", v, v2)
	}
}
