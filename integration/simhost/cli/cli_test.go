package cli_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/cli"
)

// run runs the command line in-process against the daemon at sock.
func run(t *testing.T, sock string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(append([]string{"--socket", sock}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func mustRun(t *testing.T, sock string, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, sock, args...)
	if code != cli.ExitOK {
		t.Fatalf("hvm-simhost %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestCLI_tryItByHandFlow(t *testing.T) {
	dir, sock := paths(t)
	daemon := start(t, "serve", "--dir", dir, "--listen", sock)
	daemon.waitFor(t, "simhost serving", 1)

	// vdisk.GUID has no UnmarshalText, so the identity is left out here.
	var vm struct {
		ID    string             `json:"id"`
		Power simhost.PowerState `json:"power"`
		Disks []struct {
			LogicalSectorSize int `json:"logical_sector_size"`
		} `json:"disks"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, sock, "vm", "create", "web01", "--disk", "64M", "--disk", "32M,vhdx-dynamic,4096", "-o", "json")), &vm); err != nil {
		t.Fatal(err)
	}
	if len(vm.Disks) != 2 || vm.Disks[1].LogicalSectorSize != 4096 || vm.Power != simhost.PowerOff {
		t.Fatalf("created %+v", vm)
	}
	if out := mustRun(t, sock, "vm", "list"); !strings.Contains(out, "web01") || !strings.Contains(out, vm.ID) {
		t.Fatalf("vm list:\n%s", out)
	}
	mustRun(t, sock, "vm", "start", "web01")
	mustRun(t, sock, "write", "web01", "--offset", "1M", "--length", "64k", "--pattern", "171")
	mustRun(t, sock, "checkpoint", "create", "web01", "--start-tracking")
	if out := mustRun(t, sock, "workload", "web01", "--total", "4M", "--sizes", "4k:50,64k:50", "--overwrite", "0.5"); !strings.Contains(out, "achieved") {
		t.Fatalf("workload output:\n%s", out)
	}
	var sw simhost.SwitchResult
	if err := json.Unmarshal([]byte(mustRun(t, sock, "switch", "web01", "-o", "json")), &sw); err != nil {
		t.Fatal(err)
	}
	var sums []simhost.DiskChecksum
	if err := json.Unmarshal([]byte(mustRun(t, sock, "checksum", "web01", "--switch", "1", "-o", "json")), &sums); err != nil {
		t.Fatal(err)
	}
	if sw.Number != 1 || len(sums) != 2 || sums[0].SHA256 != sw.Disks[0].SHA256 || sums[0].SHA256 == "" {
		t.Fatalf("switch %+v, checksums %+v", sw, sums)
	}
	if out := mustRun(t, sock, "vm", "show", vm.ID); !strings.Contains(out, "on, last switch 1") {
		t.Fatalf("vm show:\n%s", out)
	}

	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"second checkpoint", []string{"checkpoint", "create", "web01"}, "delete it first", cli.ExitError},
		{"delete running", []string{"vm", "delete", "web01"}, "stop it first", cli.ExitError},
		{"unknown vm", []string{"vm", "show", "nope"}, "vm list", cli.ExitError},
		{"past the end", []string{"write", "web01", "--offset", "64M", "--length", "512"}, "past the end", cli.ExitError},
		{"no disk", []string{"vm", "create", "x"}, "--disk", cli.ExitUsage},
		{"bad flag", []string{"vm", "list", "--nope"}, "unknown flag", cli.ExitUsage},
		{"no daemon", []string{"--socket", sock + ".none", "vm", "list"}, "hvm-simhost serve", cli.ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, sock, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
	mustRun(t, sock, "checkpoint", "delete", "web01")
	mustRun(t, sock, "vm", "stop", "web01")
	mustRun(t, sock, "tracking", "stop", "web01", "--remove-logs")
	mustRun(t, sock, "vm", "delete", "web01")
}
