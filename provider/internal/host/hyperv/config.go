package hyperv

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the backend's names, timeouts and poll intervals.
type Config struct {
	// CheckpointName is the ElementName the backend gives its replication
	// checkpoint; a recovery checkpoint with another name is foreign.
	CheckpointName string
	// LogFolderName is the folder beside each disk in which Hyper-V
	// Replica keeps that disk's .hrl logs.
	LogFolderName string
	// ReplicationProvider is the Name (CLSID) of the registered
	// Msvm_ReplicationProvider that receives the closed logs. Empty means
	// tracking cannot be enabled (ErrUnsupported).
	ReplicationProvider string
	// ReplicationInterval is Hyper-V Replica's log switch period: 30s,
	// 5m or 15m.
	ReplicationInterval time.Duration

	// PollInterval is how often jobs, power states and log folders are
	// read while waiting.
	PollInterval time.Duration
	// JobTimeout bounds one WMI job (snapshot, state change, tracking).
	JobTimeout time.Duration
	// MergeTimeout bounds the job that merges the checkpoint back.
	MergeTimeout time.Duration
	// SwitchTimeout bounds the wait for every disk's log to switch.
	SwitchTimeout time.Duration
	// ShutdownTimeout bounds the wait for a graceful shutdown.
	ShutdownTimeout time.Duration
	// ForceGrace is how long a forced Shutdown waits for the graceful
	// one before turning the VM off; 0 turns it off at once.
	ForceGrace time.Duration
	// TurnOffTimeout bounds the wait for a turned-off VM to be off.
	TurnOffTimeout time.Duration
	// ShutdownReason is passed to the guest's shutdown service.
	ShutdownReason string

	// Retries is how many more times a call that failed transiently is
	// made; RetryDelay is the wait before the first retry, doubled each
	// time.
	Retries    int
	RetryDelay time.Duration
}

// DefaultConfig returns every default in one place.
func DefaultConfig() Config {
	return Config{
		CheckpointName:      "hvmigrate replication checkpoint",
		LogFolderName:       "Hyper-V Replica",
		ReplicationInterval: 5 * time.Minute,
		PollInterval:        time.Second,
		JobTimeout:          10 * time.Minute,
		MergeTimeout:        2 * time.Hour,
		SwitchTimeout:       20 * time.Minute,
		ShutdownTimeout:     10 * time.Minute,
		ForceGrace:          2 * time.Minute,
		TurnOffTimeout:      2 * time.Minute,
		ShutdownReason:      "hvmigrate: migration cutover",
		Retries:             3,
		RetryDelay:          2 * time.Second,
	}
}

// validate rejects a config the backend cannot run with.
func (c Config) validate() error {
	var errs []error
	if c.CheckpointName == "" {
		errs = append(errs, errors.New("CheckpointName is empty"))
	}
	if c.LogFolderName == "" {
		errs = append(errs, errors.New("LogFolderName is empty"))
	}
	switch c.ReplicationInterval {
	case 30 * time.Second, 5 * time.Minute, 15 * time.Minute:
	default:
		errs = append(errs, fmt.Errorf("ReplicationInterval %s: want 30s, 5m or 15m", c.ReplicationInterval))
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"PollInterval", c.PollInterval}, {"JobTimeout", c.JobTimeout}, {"MergeTimeout", c.MergeTimeout},
		{"SwitchTimeout", c.SwitchTimeout}, {"ShutdownTimeout", c.ShutdownTimeout}, {"TurnOffTimeout", c.TurnOffTimeout},
	} {
		if f.d <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: want > 0", f.name, f.d))
		}
	}
	if c.ForceGrace < 0 || c.Retries < 0 || c.RetryDelay < 0 {
		errs = append(errs, errors.New("ForceGrace, Retries and RetryDelay must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hyperv config: %w", err)
	}
	return nil
}
