// Package service is the agent's core: what it answers on the local wire,
// in plain Go types. The gRPC adapter in package server converts and
// delegates to it.
package service

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/shared/version"
)

// ErrProtocolMismatch means the provider speaks a protocol version this
// agent does not support.
var ErrProtocolMismatch = errors.New("protocol version mismatch")

// capabilities are the optional features this agent build offers.
func capabilities() []string {
	return []string{"disk.vhd", "disk.vhdx", "disk.raw", "hrl.v1", "hrl.v2"}
}

// Hello is what the provider says when a session starts.
type Hello struct {
	ProtocolVersion uint32
	ProviderVersion string
	Capabilities    []string
}

// Welcome is what the agent answers.
type Welcome struct {
	ProtocolVersion uint32
	AgentVersion    string
	Capabilities    []string
	InstanceID      string
}

// MismatchError names both sides of a protocol mismatch.
type MismatchError struct {
	Provider           uint32
	ProviderVersion    string
	AgentMin, AgentMax uint32
	AgentVersion       string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("provider %s speaks agent protocol %d, agent %s supports %d..%d: install matching versions of hvm-provider and hvm-agent",
		e.ProviderVersion, e.Provider, e.AgentVersion, e.AgentMin, e.AgentMax)
}

// Unwrap lets callers test for ErrProtocolMismatch.
func (e *MismatchError) Unwrap() error { return ErrProtocolMismatch }

// Status is the agent's view of itself.
type Status struct {
	AgentVersion string
	InstanceID   string
	PID          int
	Started      time.Time
	ActiveJobs   int
	ShuttingDown bool
}

// Agent holds the state of one agent process.
type Agent struct {
	log        hclog.Logger
	instanceID string
	started    time.Time

	mu           sync.Mutex
	shutdown     chan struct{}
	shuttingDown bool
}

// New returns an agent with a fresh random instance id.
func New(log hclog.Logger) (*Agent, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("instance id: %w", err)
	}
	return &Agent{
		log:        log,
		instanceID: hex.EncodeToString(b[:]),
		started:    time.Now(),
		shutdown:   make(chan struct{}),
	}, nil
}

// Handshake accepts a provider whose protocol version lies in the range this
// agent supports and refuses any other, naming both versions.
func (a *Agent) Handshake(h Hello) (Welcome, error) {
	if h.ProtocolVersion < version.MinAgentProtocol || h.ProtocolVersion > version.AgentProtocol {
		err := &MismatchError{
			Provider: h.ProtocolVersion, ProviderVersion: h.ProviderVersion,
			AgentMin: version.MinAgentProtocol, AgentMax: version.AgentProtocol,
			AgentVersion: version.Release(),
		}
		a.log.Error("refused provider", "error", err)
		return Welcome{}, err
	}
	a.log.Info("provider connected", "provider_version", h.ProviderVersion, "protocol", h.ProtocolVersion)
	return Welcome{
		ProtocolVersion: h.ProtocolVersion,
		AgentVersion:    version.Release(),
		Capabilities:    capabilities(),
		InstanceID:      a.instanceID,
	}, nil
}

// Status reports the agent's state.
func (a *Agent) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return Status{
		AgentVersion: version.Release(),
		InstanceID:   a.instanceID,
		PID:          os.Getpid(),
		Started:      a.started,
		ShuttingDown: a.shuttingDown,
	}
}

// RequestShutdown asks the serving loop to stop; it is safe to call twice.
func (a *Agent) RequestShutdown(reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.shuttingDown {
		return
	}
	a.shuttingDown = true
	a.log.Info("shutdown requested", "reason", reason)
	close(a.shutdown)
}

// ShutdownRequested is closed once RequestShutdown has been called.
func (a *Agent) ShutdownRequested() <-chan struct{} { return a.shutdown }
