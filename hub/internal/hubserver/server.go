package hubserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"hvmigrate/hub/internal/adminapi"
	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/identity"
	"hvmigrate/shared/secret"
)

// maxMessage bounds every message the hub receives.
const maxMessage = 4 << 20

// Hub is a running hub: its state, registry, stream and listeners.
type Hub struct {
	cfg      Config
	log      hclog.Logger
	store    *state.Store
	reg      *registry.Registry
	stream   *stream.Server
	provider *grpc.Server
	admin    *grpc.Server
	lp, la   net.Listener
	ops      *replication.Service // nil without a storage account
}

// Open loads the hub in dir and binds both listeners; Serve runs it.
// handler (may be nil) receives the hosts' events; when it is nil and a
// storage account is configured, the replication service handles them.
func Open(ctx context.Context, dir string, handler stream.EventHandler, log hclog.Logger) (*Hub, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	h := &Hub{cfg: cfg, log: log}
	if err := h.openState(ctx, dir, handler); err != nil {
		return nil, err
	}
	if err := h.buildServers(dir); err != nil {
		h.store.Close()
		return nil, err
	}
	if err := h.listen(); err != nil {
		h.store.Close()
		return nil, err
	}
	return h, nil
}

func (h *Hub) openState(ctx context.Context, dir string, handler stream.EventHandler) error {
	project, err := loadCA(dir, CACertFile, CAKeyFile)
	if err != nil {
		return err
	}
	h.store, err = state.Open(ctx, state.DefaultConfig(filepath.Join(dir, DatabaseFile)))
	if err != nil {
		return err
	}
	if handler == nil {
		if h.ops, err = openOperations(dir, h.store, h.log); err != nil {
			h.store.Close()
			return err
		}
		if h.ops != nil {
			handler = h.ops
		}
	}
	rc := registry.DefaultConfig(h.cfg.PublicAddress)
	rc.CertLifetime, rc.MaxKeyValidity = time.Duration(h.cfg.CertLifetime), time.Duration(h.cfg.MaxKeyValidity)
	h.reg = registry.New(rc, h.store, project, h.log.Named("registry"))
	sc := stream.DefaultConfig()
	sc.HeartbeatInterval, sc.DeadPeerTimeout = time.Duration(h.cfg.HeartbeatInterval), time.Duration(h.cfg.DeadPeerTimeout)
	if h.ops != nil {
		sc.OnConnect = h.ops.HostConnected
	}
	auth := hostAuth{reg: h.reg}
	h.stream = stream.New(sc, h.store, auth.hostFromPeer, handler, h.log.Named("stream"))
	h.reg.OnRevoke(h.stream.Disconnect)
	if h.ops != nil {
		h.ops.SetStreams(h.stream)
	}
	return nil
}

func (h *Hub) buildServers(dir string) error {
	cert, err := loadServerCert(dir)
	if err != nil {
		return err
	}
	adminCerts, err := os.ReadFile(filepath.Join(dir, AdminCACertFile))
	if err != nil {
		return fmt.Errorf("read admin CA: %w", err)
	}
	adminCAs, err := identity.ParseCertsPEM(adminCerts)
	if err != nil {
		return err
	}
	auth := hostAuth{reg: h.reg}
	providerCreds := logHandshakes(credentials.NewTLS(providerTLS(cert, h.reg.CA())), h.log.Named("provider_tls"))
	h.provider = grpc.NewServer(append(serverOptions(providerCreds),
		grpc.ChainUnaryInterceptor(auth.unary), grpc.ChainStreamInterceptor(auth.stream))...)
	hubv1.RegisterRegistrationServiceServer(h.provider, registrationAPI{reg: h.reg})
	hubv1.RegisterProviderServiceServer(h.provider, providerAPI{auth: auth, stream: h.stream})
	pool := identity.PoolOf(adminCAs...)
	h.admin = grpc.NewServer(append(serverOptions(credentials.NewTLS(adminTLS(cert, pool))), grpc.ChainUnaryInterceptor(adminapi.UnaryInterceptor))...)
	api := adminapi.New(h.reg, h.store, h.stream, h.log.Named("admin"))
	if h.ops != nil {
		api.SetOperations(h.ops)
	}
	adminapi.Register(h.admin, api)
	return nil
}

func serverOptions(creds credentials.TransportCredentials) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.Creds(creds),
		grpc.MaxRecvMsgSize(maxMessage),
		grpc.MaxConcurrentStreams(1024),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	}
}

func (h *Hub) listen() error {
	var err error
	if h.lp, err = net.Listen("tcp", h.cfg.Listen); err != nil {
		return fmt.Errorf("listen %s: %w", h.cfg.Listen, err)
	}
	if h.la, err = net.Listen("tcp", h.cfg.AdminListen); err != nil {
		h.lp.Close()
		return fmt.Errorf("listen %s: %w", h.cfg.AdminListen, err)
	}
	return nil
}

// ProviderAddr is where providers connect.
func (h *Hub) ProviderAddr() net.Addr { return h.lp.Addr() }

// AdminAddr is where hvmctl connects.
func (h *Hub) AdminAddr() net.Addr { return h.la.Addr() }

// Stream returns the provider stream server, to queue commands.
func (h *Hub) Stream() *stream.Server { return h.stream }

// Registry returns the registry.
func (h *Hub) Registry() *registry.Registry { return h.reg }

// Store returns the state store.
func (h *Hub) Store() *state.Store { return h.store }

// Serve runs both listeners, the replication operations and the pruning
// of old events (at start and every Events.Interval) until ctx ends, then
// stops gracefully: live streams are told the hub is going away, running
// calls get the shutdown grace, and the database is closed.
func (h *Hub) Serve(ctx context.Context) error {
	errc := make(chan error, 2)
	opsDone := make(chan struct{})
	opsCtx, stopOps := context.WithCancel(ctx)
	defer func() { stopOps(); <-opsDone }()
	go func() {
		defer close(opsDone)
		var wg sync.WaitGroup
		wg.Go(func() { pruneEvents(opsCtx, h.store, h.cfg.Events, time.Now, h.log.Named("events")) })
		if h.ops != nil {
			h.ops.Run(opsCtx)
		}
		wg.Wait()
	}()
	go func() { errc <- h.provider.Serve(h.lp) }()
	go func() { errc <- h.admin.Serve(h.la) }()
	h.log.Info("hub serving", "provider_addr", h.lp.Addr().String(), "admin_addr", h.la.Addr().String())
	var err error
	select {
	case <-ctx.Done():
		h.log.Info("stopping")
	case err = <-errc:
		h.log.Error("listener failed", "error", err)
	}
	h.stream.Shutdown()
	h.stopGracefully()
	stopOps()
	<-opsDone
	if cerr := h.store.Close(); err == nil {
		err = cerr
	}
	return err
}

func (h *Hub) stopGracefully() {
	done := make(chan struct{})
	go func() {
		h.provider.GracefulStop()
		h.admin.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Duration(h.cfg.ShutdownGrace)):
		h.log.Warn("calls still running after the grace period; cutting them")
		h.provider.Stop()
		h.admin.Stop()
		<-done
	}
}

func loadCA(dir, certFile, keyFile string) (*ca.CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	keyPEM, err := identity.ReadPrivate(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	return ca.FromPEM(certPEM, secret.New(string(keyPEM)))
}

func loadServerCert(dir string) (tls.Certificate, error) {
	chainPEM, err := os.ReadFile(filepath.Join(dir, ServerCertFile))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read server certificate: %w", err)
	}
	certs, err := identity.ParseCertsPEM(chainPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := identity.ReadPrivate(filepath.Join(dir, ServerKeyFile))
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := identity.ParseKeyPEM(secret.New(string(keyPEM)))
	if err != nil {
		return tls.Certificate{}, err
	}
	return identity.Certificate(certs[0], key, certs[1:]...), nil
}
