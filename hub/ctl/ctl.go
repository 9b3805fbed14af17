// Package ctl is the hvmctl command line: the operator's client of the
// hub's admin API. It finds the hub and the admin credential from flags
// (--hub, --credential), then the HVMCTL_HUB and HVMCTL_CREDENTIAL
// environment variables, then a config file: --config, else
// $HVMCTL_CONFIG, else hvmigrate/hvmctl.json under the user config
// directory (os.UserConfigDir). hvm-hub init writes such a file as
// hvmctl.json in the hub directory.
package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"hvmigrate/shared/cmdline"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Environment variables hvmctl reads.
const (
	EnvHub        = "HVMCTL_HUB"
	EnvCredential = "HVMCTL_CREDENTIAL"
	EnvConfig     = "HVMCTL_CONFIG"
)

// Exit codes of hvmctl.
const (
	ExitOK    = cmdline.ExitOK
	ExitError = cmdline.ExitError
	ExitUsage = cmdline.ExitUsage
)

// options are the global flags.
type options struct {
	hub        string
	credential string
	config     string
	output     string
}

// fileConfig is the config file (same shape hvm-hub init writes).
type fileConfig struct {
	Hub        string `json:"hub"`
	Credential string `json:"credential"`
}

// NewRootCommand builds the hvmctl command tree.
func NewRootCommand() *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:   "hvmctl",
		Short: "Operate an hvmigrate hub: projects, registration keys, hosts, VMs",
		Long: `Operate an hvmigrate hub: projects, registration keys, hosts, VMs.

hvmctl finds the hub's admin address and the admin credential from --hub and
--credential, else $` + EnvHub + ` and $` + EnvCredential + `, else a JSON config file
{"hub": "host:port", "credential": "/path/admin-credential.pem"} named by
--config or $` + EnvConfig + `, else hvmigrate/hvmctl.json in the user config
directory. "hvm-hub init" writes such a file as hvmctl.json in the hub
directory. Output is an aligned table; -o json prints JSON for scripts.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := root.PersistentFlags()
	f.StringVar(&o.hub, "hub", "", "the hub's admin address host:port (or $"+EnvHub+")")
	f.StringVar(&o.credential, "credential", "", "the admin credential PEM file (or $"+EnvCredential+")")
	f.StringVar(&o.config, "config", "", "config file (or $"+EnvConfig+", or hvmigrate/hvmctl.json in the user config directory)")
	f.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
	root.AddCommand(newProjectCommand(o), newKeyCommand(o), newHostCommand(o), newVMCommand(o),
		newReplicateCommand(o), newResyncCommand(o), newStatusCommand(o), newRecoveryPointsCommand(o),
		newTestMigrateCommand(o), newMigrateCommand(o), newTopThrottleCommand(o))
	return root
}

// Main runs hvmctl with args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cmdline.Run(NewRootCommand(), args, stdout, stderr, nil)
}

// resolve fills hub and credential from the environment and config file.
func (o *options) resolve() (hub, credential string, err error) {
	hub, credential = firstOf(o.hub, os.Getenv(EnvHub)), firstOf(o.credential, os.Getenv(EnvCredential))
	if hub != "" && credential != "" {
		return hub, credential, nil
	}
	path := firstOf(o.config, os.Getenv(EnvConfig))
	if path == "" {
		dir, derr := os.UserConfigDir()
		if derr == nil {
			path = filepath.Join(dir, "hvmigrate", "hvmctl.json")
		}
	}
	fc, err := readConfig(path)
	if err != nil {
		return "", "", cmdline.Usage(fmt.Errorf("no hub given: pass --hub and --credential, set %s and %s, or point %s at the hvmctl.json hvm-hub init wrote (%w)", EnvHub, EnvCredential, EnvConfig, err))
	}
	return firstOf(hub, fc.Hub), firstOf(credential, fc.Credential), nil
}

func readConfig(path string) (fileConfig, error) {
	var fc fileConfig
	if path == "" {
		return fc, errors.New("no config file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, err
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return fc, fmt.Errorf("parse %s: %w", path, err)
	}
	if fc.Hub == "" || fc.Credential == "" {
		return fc, fmt.Errorf("%s: hub and credential are required", path)
	}
	return fc, nil
}

func firstOf(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
