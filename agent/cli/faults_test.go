package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"hvmigrate/shared/vhd"
)

// toxicPhases are the network faults laid between the agent and storage in
// turn, each for a moment, while a copy runs.
var toxicPhases = []string{
	`{"name":"reset","type":"reset_peer","stream":"upstream","toxicity":1.0,"attributes":{"timeout":50}}`,
	`{"name":"slow","type":"bandwidth","stream":"upstream","attributes":{"rate":2000}}`,
	`{"name":"blackhole","type":"timeout","stream":"upstream","attributes":{"timeout":0}}`,
	`{"name":"slices","type":"slicer","stream":"downstream","attributes":{"average_size":64,"size_variation":32,"delay":200}}`,
	`{"name":"cut","type":"limit_data","stream":"upstream","attributes":{"bytes":300000}}`,
}

// TestCopy_networkFaults runs `hvm-agent copy` through toxiproxy while
// latency stays on and other faults come and go: bandwidth squeezes,
// connection resets, a black hole, sliced responses, connections cut after
// a few hundred kilobytes. The copy finishes within its deadline and the
// replica equals the disk.
func TestCopy_networkFaults(t *testing.T) {
	zerolog.SetGlobalLevel(zerolog.Disabled) // the toxics log through zerolog's global logger
	st := newStorage(t)
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	proxy := toxiproxy.NewProxy(srv, "blob", "127.0.0.1:0", st.srv.Host)
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	defer proxy.Stop()
	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(
		`{"name":"latency","type":"latency","stream":"downstream","attributes":{"latency":30,"jitter":20}}`)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.vhdx")
	const size, data = 40 << 20, 16 << 20
	oracle := makeDisk(t, disk, size, data, 9)
	url, sig := st.sasVia(t, "faults.vhd", proxy.Listen)
	// The first fault (every connection reset) is in place before the copy
	// starts, so its first requests must be retried.
	first, err := proxy.Toxics.AddToxicJson(strings.NewReader(toxicPhases[0]))
	if err != nil {
		t.Fatal(err)
	}
	copyProc := startAgent(t, "copy", "--threads", "4", "--limit", "30Mbps", "--try-timeout", "2s",
		"--state", filepath.Join(dir, "copy.db"), "--storage-ca", st.caFile, "--quiet", disk, url)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Each fault comes once, for a moment; then the link heals (the
		// latency stays) and the copy must finish.
		for i := 0; i < len(toxicPhases) && ctx.Err() == nil; i++ {
			w := first
			if i > 0 {
				var err error
				if w, err = proxy.Toxics.AddToxicJson(strings.NewReader(toxicPhases[i])); err != nil {
					t.Errorf("add toxic: %v", err)
					return
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(700 * time.Millisecond):
			}
			proxy.Toxics.RemoveToxic(context.Background(), w.Name)
			select {
			case <-ctx.Done():
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	code := copyProc.wait(t, 120*time.Second)
	cancel()
	out := copyProc.out.String()
	if code != 0 {
		t.Fatalf("copy failed under faults (exit %d):\n%s", code, out)
	}
	replica := st.download(t, "faults.vhd")
	if int64(len(replica)) != vhd.ReplicaSize(size)+512 || !bytes.Equal(replica[:size], oracle) {
		t.Fatal("replica differs from the disk after faults")
	}
	m := regexp.MustCompile(`(\d+) retries`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line:\n%s", out)
	}
	retries, _ := strconv.Atoi(m[1])
	t.Logf("copy survived the faults with %d retries", retries)
	if retries == 0 {
		t.Fatal("no request was retried: the faults did not reach the copy")
	}
	if strings.Contains(out, sig) {
		t.Fatal("the SAS signature appears in the copy's output")
	}
}
