package cli_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/cli"
)

// TestCLI_import: an image's content lands in the VM's disk exactly (the
// disk's checksum equals the image's bytes padded with zeros to the disk
// size), only its non-zero data is written, and an image larger than the
// disk is refused.
func TestCLI_import(t *testing.T) {
	dir, sock := paths(t)
	daemon := start(t, "serve", "--dir", dir, "--listen", sock)
	daemon.waitFor(t, "simhost serving", 1)
	mustRun(t, sock, "vm", "create", "img01", "--disk", "16M")
	mustRun(t, sock, "vm", "start", "img01")

	const imageSize, diskSize = 12 << 20, 16 << 20
	image := make([]byte, imageSize)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, r := range [][2]int{{0, 4096}, {1 << 20, 3<<20 + 512}, {9 << 20, 9<<20 + 70000}} {
		for i := r[0]; i < r[1]; i++ {
			image[i] = byte(rng.UintN(255) + 1)
		}
	}
	path := filepath.Join(t.TempDir(), "image.raw")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Written int64 `json:"bytes_written"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, sock, "import", "img01", path, "-o", "json")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Written <= 0 || res.Written >= imageSize {
		t.Fatalf("wrote %d bytes of a %d-byte image with %d bytes of data: zeros must be skipped", res.Written, imageSize, 4096+2<<20+512+70000)
	}
	var sums []simhost.DiskChecksum
	if err := json.Unmarshal([]byte(mustRun(t, sock, "checksum", "img01", "-o", "json")), &sums); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(append(image, make([]byte, diskSize-imageSize)...))
	if len(sums) != 1 || sums[0].SHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("disk checksum %+v, want %x", sums, want)
	}

	big := filepath.Join(t.TempDir(), "big.raw")
	if err := os.WriteFile(big, make([]byte, diskSize+(1<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, sock, "import", "img01", big); code != cli.ExitError || !strings.Contains(out+errOut, "larger than disk") {
		t.Fatalf("importing a larger image: exit %d\n%s%s", code, out, errOut)
	}
}
