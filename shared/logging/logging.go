// Package logging builds the hclog loggers every hvmigrate process uses:
// text for people or JSON for collectors, with the level taken from a flag
// or from the HVM_LOG_LEVEL environment variable.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// LevelEnv is the environment variable that sets the level when no flag does.
const LevelEnv = "HVM_LOG_LEVEL"

// Config says how a process logs.
type Config struct {
	// Name is the process or subsystem name shown in every line.
	Name string
	// Level is "trace", "debug", "info", "warn" or "error". Empty means the
	// value of HVM_LOG_LEVEL, or "info".
	Level string
	// JSON selects one JSON object per line instead of text.
	JSON bool
	// Output defaults to standard error.
	Output io.Writer
}

// DefaultConfig logs text at info level to standard error.
func DefaultConfig(name string) Config {
	return Config{Name: name, Output: os.Stderr}
}

// New returns a logger for cfg, or an error naming a level it does not know.
func New(cfg Config) (hclog.Logger, error) {
	level, err := resolveLevel(cfg.Level, os.Getenv(LevelEnv))
	if err != nil {
		return nil, err
	}
	out := cfg.Output
	if out == nil {
		out = os.Stderr
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:            cfg.Name,
		Level:           level,
		JSONFormat:      cfg.JSON,
		Output:          out,
		IncludeLocation: false,
		TimeFormat:      "2006-01-02T15:04:05.000Z07:00",
	}), nil
}

// resolveLevel prefers the flag, then the environment, then info.
func resolveLevel(flag, env string) (hclog.Level, error) {
	name, source := strings.TrimSpace(flag), "log level"
	if name == "" {
		name, source = strings.TrimSpace(env), LevelEnv
	}
	if name == "" {
		return hclog.Info, nil
	}
	level := hclog.LevelFromString(name)
	if level == hclog.NoLevel {
		return hclog.NoLevel, fmt.Errorf("%s %q: want trace, debug, info, warn or error", source, name)
	}
	return level, nil
}
