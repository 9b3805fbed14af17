package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/shared/version"
)

func TestAgent_Handshake(t *testing.T) {
	tests := []struct {
		name     string
		protocol uint32
		wantErr  bool
	}{
		{name: "current protocol", protocol: version.AgentProtocol},
		{name: "oldest supported", protocol: version.MinAgentProtocol},
		{name: "zero refused", protocol: 0, wantErr: true},
		{name: "newer refused", protocol: version.AgentProtocol + 1, wantErr: true},
	}
	a, err := New(hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := a.Handshake(Hello{ProtocolVersion: tt.protocol, ProviderVersion: "v9.9.9"})
			if tt.wantErr {
				if !errors.Is(err, ErrProtocolMismatch) || !strings.Contains(err.Error(), "v9.9.9") {
					t.Fatalf("err = %v, want a mismatch naming the provider version", err)
				}
				return
			}
			if err != nil || w.ProtocolVersion != tt.protocol || w.InstanceID == "" || len(w.Capabilities) == 0 {
				t.Fatalf("Handshake = %+v, %v", w, err)
			}
		})
	}
}

func TestAgent_RequestShutdown_idempotent(t *testing.T) {
	a, err := New(hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	a.RequestShutdown("first")
	a.RequestShutdown("second")
	select {
	case <-a.ShutdownRequested():
	default:
		t.Fatal("shutdown channel not closed")
	}
	if !a.Status().ShuttingDown {
		t.Fatal("status does not report shutting down")
	}
}

func TestNew_instanceIDsDiffer(t *testing.T) {
	a, _ := New(hclog.NewNullLogger())
	b, _ := New(hclog.NewNullLogger())
	if a.Status().InstanceID == b.Status().InstanceID {
		t.Fatal("two agents share an instance id")
	}
}
