// Package transfer does the work of the agent's jobs: it opens the source
// disks and logs, builds the storage client for a job's SAS URL (Azure,
// with the error redactor, logging, the host-wide throttle and retries
// wrapped around it), and runs the upload engine.
package transfer

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/azure"
	"hvmigrate/agent/internal/blob/limit"
	"hvmigrate/agent/internal/blob/logging"
	"hvmigrate/agent/internal/blob/redact"
	"hvmigrate/agent/internal/blob/retry"
	"hvmigrate/agent/internal/jobs"
	"hvmigrate/agent/internal/jobstore"
	"hvmigrate/agent/internal/throttle"
	"hvmigrate/agent/internal/upload"
	"hvmigrate/shared/diskfile"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/storeerr"
	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd"
)

// Config is what the runner needs to know about the host.
type Config struct {
	// Endpoint is the storage account endpoint the hub chose; a SAS URL
	// on any other host is refused.
	Endpoint string
	// RootCAs, when set, replaces the system roots (the emulator in tests
	// and the demo).
	RootCAs *x509.CertPool
	// BlockSize is the staged block size of delta objects.
	BlockSize int
	// Retry tunes the retries of storage calls.
	Retry retry.Config
	// TryTimeout bounds one HTTP try of a storage call; 0 keeps the
	// storage client's default, sized for a 4 MiB body at the lowest limit.
	TryTimeout time.Duration
}

// DefaultConfig holds every default of the runner.
func DefaultConfig() Config {
	return Config{BlockSize: 8 << 20, Retry: retry.DefaultConfig()}
}

// Runner implements jobs.Runner.
type Runner struct {
	cfg     Config
	lim     *throttle.Limiter
	threads func(requested int) int
	log     hclog.Logger
}

var _ jobs.Runner = (*Runner)(nil)

// New returns a runner that paces every upload through lim and sizes each
// job's parallelism with threads (the host limits' rule).
func New(cfg Config, lim *throttle.Limiter, threads func(requested int) int, log hclog.Logger) *Runner {
	return &Runner{cfg: cfg, lim: lim, threads: threads, log: log}
}

// openDisk opens a frozen source disk; failing that is a source error.
func openDisk(path string) (vdisk.Image, error) {
	img, err := diskfile.Open(path)
	if err != nil {
		return nil, classifySource(fmt.Errorf("%w: %w", errSourceFormat, err))
	}
	return img, nil
}

// RunInitialCopy copies a frozen disk into its replica page blob.
func (r *Runner) RunInitialCopy(ctx context.Context, spec jobs.InitialCopy, j *jobstore.Journal, p *upload.Progress) error {
	img, err := openDisk(spec.DiskPath)
	if err != nil {
		return err
	}
	defer img.Close()
	store, name, err := r.openStore(spec.Target, spec.VMID, p)
	if err != nil {
		return err
	}
	footer, err := vhd.AzureFixedFooter(vhd.ReplicaSize(img.Size()), img.Identity().DiskID, time.Now())
	if err != nil {
		return fmt.Errorf("%w: %w", jobs.ErrInvalid, err)
	}
	cfg := upload.DefaultCopyConfig()
	cfg.Threads = r.threads(spec.Threads)
	c := &upload.Copy{Image: img, Store: store, Blob: name, Footer: footer, Journal: j, Config: cfg, Prog: p}
	return classifySource(c.Run(ctx))
}

// RunCycleUpload builds and uploads one delta object per disk, one disk
// after another.
func (r *Runner) RunCycleUpload(ctx context.Context, spec jobs.CycleUpload, j *jobstore.Journal, p *upload.Progress) error {
	for i, d := range spec.Disks {
		store, name, err := r.openStore(d.Target, spec.VMID, p)
		if err != nil {
			return err
		}
		src := &deltaSource{vmID: spec.VMID, cycle: spec.Cycle, prev: spec.Previous, disk: d, prog: p}
		if err := src.open(); err != nil {
			return classifySource(err)
		}
		o := &upload.Object{Store: store, Blob: name, Part: i, Journal: j, BlockSize: r.cfg.BlockSize,
			Threads: r.threads(spec.Threads), Prog: p, Produce: src.produce}
		err = o.Run(ctx)
		src.close()
		if err != nil {
			return classifySource(fmt.Errorf("disk %s: %w", d.DiskID, err))
		}
	}
	return nil
}

// openStore builds the wrapped store for one SAS URL and returns it with
// the blob name the URL points at.
func (r *Runner) openStore(target secret.String, vmID string, p *upload.Progress) (blob.Store, string, error) {
	if r.cfg.Endpoint == "" {
		return nil, "", fmt.Errorf("%w: the agent has no storage endpoint configured", jobs.ErrInvalid)
	}
	name, err := blobName(r.cfg.Endpoint, target)
	if err != nil {
		return nil, "", err
	}
	acfg := azure.DefaultConfig()
	acfg.Endpoint, acfg.SAS, acfg.RootCAs = r.cfg.Endpoint, target, r.cfg.RootCAs
	if r.cfg.TryTimeout > 0 {
		acfg.TryTimeout = r.cfg.TryTimeout
	}
	az, err := azure.New(acfg)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", jobs.ErrInvalid, err)
	}
	var s blob.Store = logging.New(redact.New(az), r.log.Named("storage").With("vm_id", vmID))
	s = limit.New(s, r.lim.For(vmID), limit.DefaultConfig())
	rcfg := r.cfg.Retry
	rcfg.OnRetry = func(retry.Event) { p.Retries.Add(1) }
	return retry.New(s, rcfg), name, nil
}

// blobName returns the blob name of a blob SAS URL under endpoint.
func blobName(endpoint string, target secret.String) (string, error) {
	ep, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("%w: storage endpoint does not parse", jobs.ErrInvalid)
	}
	u, err := url.Parse(target.Reveal())
	if err != nil {
		return "", fmt.Errorf("%w: target URL does not parse", jobs.ErrInvalid)
	}
	rest := strings.TrimPrefix(u.Path, strings.TrimSuffix(ep.Path, "/")+"/")
	_, name, ok := strings.Cut(rest, "/")
	if rest == u.Path || !ok || name == "" {
		return "", fmt.Errorf("%w: target URL %s is not a blob under the storage endpoint %s", jobs.ErrInvalid, storeerr.Redact(u.Redacted()), endpoint)
	}
	return name, nil
}

// classifySource marks source failures for the provider: missing files,
// and files that fail validation.
func classifySource(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", jobs.ErrSourceMissing, err)
	case errors.Is(err, upload.ErrSource), errors.Is(err, errSourceFormat):
		return fmt.Errorf("%w: %w", jobs.ErrSourceCorrupt, err)
	}
	return err
}
