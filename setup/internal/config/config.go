// Package config turns the installer's options into the command lines of
// the services: `hvm-agent serve` and `hvm-provider run`.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"hvmigrate/setup/internal/layout"
)

// Config is what an operator chooses at install time.
type Config struct {
	// StorageEndpoint is the storage account endpoint the agent may upload
	// to (https only); empty leaves the agent without one.
	StorageEndpoint string
	// StorageCA is the live path of a PEM bundle the agent trusts for
	// storage instead of the system's (emulators); empty for none.
	StorageCA string
	// Simhost is the hvm-simhost socket the provider uses as its host
	// backend; empty leaves the provider without one.
	Simhost string
	// LogLevel is the services' log level (HVM_LOG_LEVEL).
	LogLevel string
}

// DefaultConfig logs at info level and sets nothing else.
func DefaultConfig() Config { return Config{LogLevel: "info"} }

// Validate names the first option that cannot go into a service's command
// line.
func (c Config) Validate() error {
	if c.StorageEndpoint != "" {
		u, err := url.Parse(c.StorageEndpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("storage endpoint %q: want an https:// URL with a host", c.StorageEndpoint)
		}
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log level %q: want trace, debug, info, warn or error", c.LogLevel)
	}
	for name, v := range map[string]string{"storage endpoint": c.StorageEndpoint, "storage CA": c.StorageCA, "simhost socket": c.Simhost} {
		if strings.ContainsAny(v, " \t\n\r\"'\\$%") {
			return fmt.Errorf("%s %q: spaces, quotes, backslashes, $ and %% are not allowed", name, v)
		}
	}
	return nil
}

// ErrNoBackend means the provider has no host backend configured and can
// only keep the link to the agent up.
var ErrNoBackend = errors.New("no host backend configured (--simhost): the provider cannot replicate")

// AgentArgs is the agent's command line after the binary.
func AgentArgs(l layout.Layout, c Config) []string {
	args := []string{"serve", "--listen", l.AgentEndpoint, "--state-dir", l.AgentState}
	if c.StorageEndpoint != "" {
		args = append(args, "--storage-endpoint", c.StorageEndpoint)
	}
	if c.StorageCA != "" {
		args = append(args, "--storage-ca", c.StorageCA)
	}
	return args
}

// ProviderArgs is the provider's command line after the binary. It always
// runs in hub mode with the identity `register` stores.
func ProviderArgs(l layout.Layout, c Config) []string {
	args := []string{"run", "--agent", l.AgentEndpoint, "--identity", l.IdentityDir, "--state", l.ProviderState}
	if c.Simhost != "" {
		args = append(args, "--simhost", c.Simhost)
	}
	return args
}

// EnvFile renders a systemd environment file: the log level and the
// command line after the subcommand in variable argsVar, which the unit
// expands unquoted ($VAR) so that it splits on spaces.
func EnvFile(service, argsVar string, c Config, args []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Configuration of %s, read by %s.service.\n", service, service)
	b.WriteString("# Written by hvm-setup; it keeps this file on upgrade and re-install\n")
	b.WriteString("# (rewrite it with `hvm-setup install --reconfigure`). After editing:\n")
	fmt.Fprintf(&b, "#   systemctl restart %s\n", service)
	fmt.Fprintf(&b, "HVM_LOG_LEVEL=%s\n", c.LogLevel)
	fmt.Fprintf(&b, "%s=\"%s\"\n", argsVar, strings.Join(args[1:], " "))
	return []byte(b.String())
}
