package cli

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"hvmigrate/agent/internal/hostlimits"
	"hvmigrate/agent/internal/jobs"
	"hvmigrate/agent/internal/jobstore"
	"hvmigrate/agent/internal/server"
	"hvmigrate/agent/internal/service"
	"hvmigrate/agent/internal/throttle"
	"hvmigrate/agent/internal/transfer"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/version"
)

// serveConfig is how the service runs.
type serveConfig struct {
	endpoint        string
	stateDir        string
	storageEndpoint string
	storageCA       string
	grace           time.Duration
}

func newServeCommand(lf *cmdline.LogFlags) *cobra.Command {
	cfg := serveConfig{endpoint: ipc.DefaultAgentEndpoint(), stateDir: defaultStateDir(), grace: 30 * time.Second}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the agent service on the local socket (or named pipe)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.Logger("hvm-agent", cmd.ErrOrStderr())
			if err != nil {
				return cmdline.Usage(err)
			}
			return serve(cmd.Context(), log, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.endpoint, "listen", cfg.endpoint, "socket path (Linux) or pipe name (Windows) to serve on")
	f.StringVar(&cfg.stateDir, "state-dir", cfg.stateDir, "directory of the agent's durable state (jobs, journals, limits)")
	f.StringVar(&cfg.storageEndpoint, "storage-endpoint", "", "the storage account endpoint uploads may go to, e.g. https://account.blob.core.windows.net")
	f.StringVar(&cfg.storageCA, "storage-ca", "", "PEM file of CA certificates to trust for storage instead of the system's (emulators)")
	f.DurationVar(&cfg.grace, "grace", cfg.grace, "how long running calls may take to finish when stopping")
	return cmd
}

// agentParts are the long-lived pieces of a running agent.
type agentParts struct {
	store   *jobstore.Store
	limiter *throttle.Limiter
	limits  *hostlimits.Limits
	jobs    *jobs.Manager
}

// start opens the state, the throttle and the job manager; jobs that were
// running when the agent stopped resume. They run until jobsCtx ends.
func start(jobsCtx context.Context, log hclog.Logger, cfg serveConfig) (*agentParts, error) {
	p := &agentParts{}
	var err error
	if p.store, err = jobstore.Open(filepath.Join(cfg.stateDir, "agent.db")); err != nil {
		return nil, err
	}
	if p.limiter, err = throttle.New(throttle.DefaultConfig()); err != nil {
		p.close()
		return nil, err
	}
	if p.limits, err = hostlimits.Load(p.store, p.limiter, hostlimits.RegistryThreads()); err != nil {
		p.close()
		return nil, err
	}
	tcfg := transfer.DefaultConfig()
	tcfg.Endpoint = cfg.storageEndpoint
	if tcfg.RootCAs, err = loadCAs(cfg.storageCA); err != nil {
		p.close()
		return nil, err
	}
	runner := transfer.New(tcfg, p.limiter, p.limits.Threads, log.Named("transfer"))
	if p.jobs, err = jobs.NewManager(jobsCtx, p.store, runner, log.Named("jobs")); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *agentParts) close() {
	if p.jobs != nil {
		p.jobs.Wait()
	}
	if p.limiter != nil {
		p.limiter.Close()
	}
	if p.store != nil {
		p.store.Close()
	}
}

// serve runs the agent until ctx is cancelled (a signal), a Shutdown call
// arrives, or the listener fails; then it stops gracefully: jobs pause at a
// durable point and resume at the next start.
func serve(ctx context.Context, log hclog.Logger, cfg serveConfig) error {
	agent, err := service.New(log.Named("service"))
	if err != nil {
		return err
	}
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	defer stopJobs()
	parts, err := start(jobsCtx, log, cfg)
	if err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	defer parts.close()
	l, err := ipc.Listen(cfg.endpoint)
	if err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(4<<20), grpc.MaxConcurrentStreams(256))
	health := server.Register(gs, agent, parts.jobs, parts.limits)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(l) }()
	log.Info("agent serving", "endpoint", cfg.endpoint, "version", version.Release(),
		"protocol", version.AgentProtocol, "instance_id", agent.Status().InstanceID, "state_dir", cfg.stateDir)

	select {
	case <-ctx.Done():
		log.Info("stopping on signal")
	case <-agent.ShutdownRequested():
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", cfg.endpoint, err)
	}
	health.Shutdown()
	agent.RequestShutdown("stopping")
	stopJobs()
	stopGracefully(gs, cfg.grace, log)
	log.Info("agent stopped")
	return nil
}

// stopGracefully lets running calls finish for up to grace, then cuts them.
func stopGracefully(gs *grpc.Server, grace time.Duration, log hclog.Logger) {
	done := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		log.Warn("calls still running after grace period; stopping them", "grace", grace)
		gs.Stop()
	}
}

// loadCAs reads a PEM bundle, or returns nil (the system roots) for "".
func loadCAs(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read storage CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("storage CA %s holds no PEM certificate", path)
	}
	return pool, nil
}
