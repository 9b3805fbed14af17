package hubserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/sas"
	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/hub/internal/storage/retry"
)

// SpoolDir is where the applier keeps verified delta objects while it
// applies them, under the hub directory.
const SpoolDir = "spool"

// openOperations builds the replication service on the configured storage
// account; without one it returns nil and no error.
func openOperations(dir string, st *state.Store, log hclog.Logger) (*replication.Service, error) {
	sc, err := LoadStorage(dir)
	if errors.Is(err, ErrNoStorage) {
		log.Warn("no storage account configured; replication is off until hvm-hub storage set")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ac := azure.DefaultConfig()
	ac.Endpoint, ac.Credential, ac.RootCAs = sc.Endpoint, azure.SharedKey(sc.Account, sc.Key), sc.RootCAs
	az, err := azure.New(ac)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	ic := sas.DefaultConfig()
	ic.Endpoint, ic.Account, ic.Key, ic.Lifetime = sc.Endpoint, sc.Account, sc.Key, time.Duration(sc.SASLifetime)
	iss, err := sas.New(ic)
	if err != nil {
		return nil, err
	}
	ctrs, err := iss.NewContainers(sc.RootCAs)
	if err != nil {
		return nil, err
	}
	rc := replication.DefaultConfig()
	rc.Endpoint = sc.Endpoint
	rc.Applier.SpoolDir = filepath.Join(dir, SpoolDir)
	if err := os.MkdirAll(rc.Applier.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool directory: %w", err)
	}
	return replication.New(rc, st, retry.New(az, retry.DefaultConfig()), ctrs, iss, log), nil
}
