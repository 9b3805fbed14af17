package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"hvmigrate/agent/internal/server"
	"hvmigrate/agent/internal/service"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/version"
)

// serveConfig is how the service runs.
type serveConfig struct {
	endpoint string
	grace    time.Duration
}

func newServeCommand(lf *logFlags) *cobra.Command {
	cfg := serveConfig{endpoint: ipc.DefaultAgentEndpoint(), grace: 30 * time.Second}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the agent service on the local socket (or named pipe)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger("hvm-agent", cmd.ErrOrStderr())
			if err != nil {
				return usageError{err}
			}
			return serve(cmd.Context(), log, cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.endpoint, "listen", cfg.endpoint, "socket path (Linux) or pipe name (Windows) to serve on")
	cmd.Flags().DurationVar(&cfg.grace, "grace", cfg.grace, "how long running calls may take to finish when stopping")
	return cmd
}

// serve runs the agent until ctx is cancelled (a signal), a Shutdown call
// arrives, or the listener fails; then it stops gracefully.
func serve(ctx context.Context, log hclog.Logger, cfg serveConfig) error {
	agent, err := service.New(log.Named("service"))
	if err != nil {
		return err
	}
	l, err := ipc.Listen(cfg.endpoint)
	if err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(4<<20), grpc.MaxConcurrentStreams(256))
	health := server.Register(gs, agent)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(l) }()
	log.Info("agent serving", "endpoint", cfg.endpoint, "version", version.Release(),
		"protocol", version.AgentProtocol, "instance_id", agent.Status().InstanceID)

	select {
	case <-ctx.Done():
		log.Info("stopping on signal")
	case <-agent.ShutdownRequested():
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", cfg.endpoint, err)
	}
	health.Shutdown()
	agent.RequestShutdown("stopping")
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
