// Command uploadbench measures `hvm-agent copy` against Azurite over HTTPS
// and prints each figure beside a baseline from the same run:
//
//   - a full disk of random data, against a bare loop of parallel 4 MiB Put
//     Page calls to the same Azurite (the ceiling);
//   - a disk holding 25% data in scattered 2 MiB extents, against copying a
//     disk that holds only that data;
//   - CPU seconds per GiB and peak RSS of the agent at 4 and 32 threads.
//
// It is run by bench/upload.sh; the figures go into the closing notes.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"hvmigrate/integration/azurite"
	"hvmigrate/shared/vhd"
)

func main() {
	agent := flag.String("agent", "bin/hvm-agent", "hvm-agent binary")
	gib := flag.Int("gib", 2, "size of the full disk in GiB")
	dir := flag.String("dir", os.TempDir(), "scratch directory")
	profile := flag.Bool("profile", false, "write a CPU profile of each copy into -dir")
	only := flag.Bool("full-only", false, "measure the full-disk copy at 4 threads only")
	flag.Parse()
	if err := run(*agent, int64(*gib)<<30, *dir, *profile, *only); err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(1)
	}
}

func run(agent string, size int64, dir string, profile, only bool) error {
	ctx := context.Background()
	srv, err := azurite.Run(ctx, azurite.Options{DataDir: filepath.Join(dir, "azurite")})
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.CreateContainer(ctx, "bench"); err != nil {
		return err
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		return err
	}
	b := &bench{srv: srv, agent: agent, ca: ca, dir: dir, profile: profile}

	full := filepath.Join(dir, "full.vhd")
	if err := writeFixedVHD(full, size, func(off int64) bool { return true }); err != nil {
		return err
	}
	bare, err := b.barePutPage(ctx, size, 4)
	if err != nil {
		return err
	}
	fullRun, err := b.copy(full, "full-4.vhd", 4)
	if err != nil {
		return err
	}
	fmt.Printf("copy of a full %d GiB disk (MB/s): ours %.1f, baseline %.1f (bare loop of 4 parallel 4 MiB Put Page), ratio %.2f (target >= 0.95)\n",
		size>>30, fullRun.mbps(), bare, fullRun.mbps()/bare)
	fmt.Printf("agent CPU per GiB at 4 threads: %.2f s (target < 1.5); peak RSS %.0f MiB\n", fullRun.cpuPerGiB, fullRun.rssMiB)
	if only {
		return nil
	}
	run32, err := b.copy(full, "full-32.vhd", 32)
	if err != nil {
		return err
	}
	fmt.Printf("agent at 32 threads: %.1f MB/s, CPU per GiB %.2f s, peak RSS %.0f MiB (target < 100)\n", run32.mbps(), run32.cpuPerGiB, run32.rssMiB)
	os.Remove(full)

	// 25% data in 2 MiB extents scattered over the disk: every fourth
	// 2 MiB piece, shuffled by a fixed pattern.
	scattered := filepath.Join(dir, "scattered.vhd")
	if err := writeFixedVHD(scattered, size, func(off int64) bool { return (off/(2<<20))*2654435761%4 == 0 }); err != nil {
		return err
	}
	dense := filepath.Join(dir, "dense.vhd")
	if err := writeFixedVHD(dense, size/4, func(off int64) bool { return true }); err != nil {
		return err
	}
	sRun, err := b.copy(scattered, "scattered.vhd", 4)
	if err != nil {
		return err
	}
	dRun, err := b.copy(dense, "dense.vhd", 4)
	if err != nil {
		return err
	}
	fmt.Printf("copy of a %d GiB disk with 25%% data in scattered 2 MiB extents (s): ours %.1f, baseline %.1f (a disk of only that data), ratio %.2f (target <= 1.15); sent %s\n",
		size>>30, sRun.took.Seconds(), dRun.took.Seconds(), sRun.took.Seconds()/dRun.took.Seconds(), sRun.sent)
	return nil
}

type bench struct {
	srv     *azurite.Server
	agent   string
	ca      string
	dir     string
	profile bool
}

// writeFixedVHD writes a fixed VHD whose 2 MiB pieces at offsets where
// data(off) holds random bytes and the rest zeros.
func writeFixedVHD(path string, size int64, data func(off int64) bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 2<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		if !data(off) {
			continue
		}
		rand.Read(buf)
		if _, err := f.WriteAt(buf, off); err != nil {
			return err
		}
	}
	footer, err := vhd.AzureFixedFooter(size, [16]byte{9}, time.Now())
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(footer, size); err != nil {
		return err
	}
	return f.Sync()
}

// barePutPage writes size bytes of random data with threads parallel 4 MiB
// Put Page calls and returns MB/s: the most Azurite takes.
func (b *bench) barePutPage(ctx context.Context, size int64, threads int) (float64, error) {
	u, err := b.srv.BlobSAS("bench", "bare.vhd", sas.BlobPermissions{Create: true, Write: true})
	if err != nil {
		return 0, err
	}
	c, err := pageblob.NewClientWithNoCredential(u, &pageblob.ClientOptions{ClientOptions: b.srv.ClientOptions().ClientOptions})
	if err != nil {
		return 0, err
	}
	if _, err := c.Create(ctx, size, nil); err != nil {
		return 0, err
	}
	chunk := make([]byte, 4<<20)
	rand.Read(chunk)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	start := time.Now()
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := next.Add(int64(len(chunk))) - int64(len(chunk)); off < size; off = next.Add(int64(len(chunk))) - int64(len(chunk)) {
				body := streamingBody(chunk)
				opts := &pageblob.UploadPagesOptions{TransactionalValidation: blobCRC(chunk)}
				if _, err := c.UploadPages(ctx, body, rangeOf(off, int64(len(chunk))), opts); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(size) / 1e6 / time.Since(start).Seconds(), nil
}

// copyRun is what one `hvm-agent copy` reported.
type copyRun struct {
	took      time.Duration
	bytes     int64
	cpuPerGiB float64
	rssMiB    float64
	sent      string
}

func (r copyRun) mbps() float64 { return float64(r.bytes) / 1e6 / r.took.Seconds() }

var summary = regexp.MustCompile(`sent (\S+ \S+) at .* CPU [0-9.]+s \(([0-9.]+)s per GiB of disk\), peak RSS ([0-9.]+) (\S+)`)

func (b *bench) copy(disk, name string, threads int) (copyRun, error) {
	u, err := b.srv.BlobSAS("bench", name, sas.BlobPermissions{Create: true, Write: true})
	if err != nil {
		return copyRun{}, err
	}
	fi, err := os.Stat(disk)
	if err != nil {
		return copyRun{}, err
	}
	args := []string{"copy", "--threads", strconv.Itoa(threads), "--quiet", "--storage-ca", b.ca,
		"--state", filepath.Join(b.dir, name+".db")}
	if b.profile {
		args = append(args, "--cpu-profile", filepath.Join(b.dir, name+".prof"))
	}
	cmd := exec.Command(b.agent, append(args, disk, u)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return copyRun{}, fmt.Errorf("copy %s: %w\n%s", disk, err, out.String())
	}
	r := copyRun{took: time.Since(start), bytes: fi.Size() - 512}
	m := summary.FindStringSubmatch(out.String())
	if m == nil {
		return copyRun{}, fmt.Errorf("no summary in:\n%s", out.String())
	}
	r.sent = m[1]
	r.cpuPerGiB, _ = strconv.ParseFloat(m[2], 64)
	rss, _ := strconv.ParseFloat(m[3], 64)
	r.rssMiB = rss * unitMiB(m[4])
	return r, nil
}

func unitMiB(u string) float64 {
	switch u {
	case "KiB":
		return 1.0 / 1024
	case "GiB":
		return 1024
	case "B":
		return 1.0 / (1 << 20)
	}
	return 1
}
