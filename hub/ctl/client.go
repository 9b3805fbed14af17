package ctl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"hvmigrate/shared/cmdline"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
	"hvmigrate/shared/identity"
	"hvmigrate/shared/secret"
)

// callTimeout bounds every admin call.
const callTimeout = 30 * time.Second

// session is a connection to the admin API.
type session struct {
	hub  string
	conn *grpc.ClientConn
	api  adminv1.AdminServiceClient
}

// connect dials the hub's admin listener with the admin credential. The
// hub is verified against the CA in the credential, not the system pool.
func (o *options) connect() (*session, error) {
	hub, credPath, err := o.resolve()
	if err != nil {
		return nil, err
	}
	doc, err := os.ReadFile(credPath)
	if err != nil {
		return nil, fmt.Errorf("read credential: %w", err)
	}
	b, err := identity.ParseBundle(secret.New(string(doc)))
	if err != nil {
		return nil, fmt.Errorf("credential %s: %w", credPath, err)
	}
	host, _, err := net.SplitHostPort(hub)
	if err != nil {
		return nil, cmdline.Usage(fmt.Errorf("hub address %q: %w", hub, err))
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		ServerName:   host,
		RootCAs:      identity.PoolOf(b.CAs...),
		Certificates: []tls.Certificate{identity.Certificate(b.Cert, b.Key)},
	}
	conn, err := grpc.NewClient(hub, grpc.WithTransportCredentials(grpccreds.NewTLS(cfg)))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", hub, err)
	}
	return &session{hub: hub, conn: conn, api: adminv1.NewAdminServiceClient(conn)}, nil
}

// rpc is an admin call as a method expression, such as
// adminv1.AdminServiceClient.ListHosts.
type rpc[Req, Resp any] func(adminv1.AdminServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error)

// call connects to the hub, makes one call bounded by callTimeout and
// closes the connection. An error the hub returns is explained in terms
// of subject.
func call[Req, Resp any](o *options, parent context.Context, subject string, method rpc[Req, Resp], req Req) (Resp, error) {
	var zero Resp
	s, err := o.connect()
	if err != nil {
		return zero, err
	}
	defer s.close()
	ctx, cancel := s.ctx(parent)
	defer cancel()
	resp, err := method(s.api, ctx, req)
	if err != nil {
		return zero, s.explain(err, subject)
	}
	return resp, nil
}

func (s *session) close() { s.conn.Close() }

func (s *session) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, callTimeout)
}

// explain turns an admin error into one that says what to do next.
func (s *session) explain(err error, subject string) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch reasonOf(st) {
	case adminv1.ErrorReason_ERROR_REASON_PROJECT_NOT_FOUND:
		return fmt.Errorf("project %q not found; see `hvmctl project list`, or create it with `hvmctl project create NAME`", subject)
	case adminv1.ErrorReason_ERROR_REASON_PROJECT_EXISTS:
		return fmt.Errorf("project %q already exists; see `hvmctl project list`", subject)
	case adminv1.ErrorReason_ERROR_REASON_KEY_NOT_FOUND:
		return fmt.Errorf("registration key %q not found; see `hvmctl key list`", subject)
	case adminv1.ErrorReason_ERROR_REASON_HOST_NOT_FOUND:
		return fmt.Errorf("host %q not found; see `hvmctl host list`", subject)
	case adminv1.ErrorReason_ERROR_REASON_NOT_ADMIN:
		return errors.New("the hub refused this credential; use the admin-credential.pem that hvm-hub init wrote")
	case adminv1.ErrorReason_ERROR_REASON_VM_NOT_FOUND:
		return fmt.Errorf("vm %q not found or not replicated; see `hvmctl vm list` and `hvmctl status`", subject)
	case adminv1.ErrorReason_ERROR_REASON_VM_STATE:
		return fmt.Errorf("%s; see `hvmctl status %s`", st.Message(), subject)
	case adminv1.ErrorReason_ERROR_REASON_VM_REPLICATED:
		return fmt.Errorf("vm %q is already replicated; see `hvmctl status %s`", subject, subject)
	case adminv1.ErrorReason_ERROR_REASON_STORAGE_NOT_CONFIGURED:
		return errors.New("the hub has no storage account; run `hvm-hub storage set` on the hub and restart it")
	case adminv1.ErrorReason_ERROR_REASON_VERIFY_FAILED:
		return fmt.Errorf("migration stopped: %s; the source VM was left as the host has it; run `hvmctl resync %s` and migrate again once it is replicating", st.Message(), subject)
	case adminv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT:
		return fmt.Errorf("invalid request: %s", st.Message())
	}
	if st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded {
		return fmt.Errorf("cannot reach the hub at %s (%s); is `hvm-hub serve` running there? check --hub or %s", s.hub, st.Message(), EnvHub)
	}
	return fmt.Errorf("hub: %s: %s", st.Code(), st.Message())
}

func reasonOf(st *status.Status) adminv1.ErrorReason {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return adminv1.ErrorReason(adminv1.ErrorReason_value[info.GetReason()])
		}
	}
	return adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED
}
