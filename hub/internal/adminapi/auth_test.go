package adminapi_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"hvmigrate/hub/internal/adminapi"
	"hvmigrate/hub/internal/ca"
)

func withPeer(ous ...string) context.Context {
	var chains [][]*x509.Certificate
	if ous != nil {
		chains = [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: "x", OrganizationalUnit: ous}}}}
	}
	return peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{VerifiedChains: chains}}})
}

func TestUnaryInterceptor_adminIdentity(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"admin", withPeer(ca.AdminOU), codes.OK},
		{"host certificate", withPeer(ca.HostOU), codes.PermissionDenied},
		{"no certificate", withPeer(), codes.PermissionDenied},
		{"no peer", context.Background(), codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			_, err := adminapi.UnaryInterceptor(tt.ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/x/y"},
				func(context.Context, any) (any, error) { called = true; return nil, nil })
			if status.Code(err) != tt.want || called != (tt.want == codes.OK) {
				t.Fatalf("code = %v, handler called = %v; want %v", status.Code(err), called, tt.want)
			}
		})
	}
}
