package config_test

import (
	"strings"
	"testing"

	"hvmigrate/setup/internal/config"
)

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     config.Config
		wantErr string
	}{
		{name: "defaults", cfg: config.DefaultConfig()},
		{name: "full", cfg: config.Config{StorageEndpoint: "https://acct.blob.core.windows.net", StorageCA: "/etc/hvmigrate/storage-ca.pem", Simhost: "/run/sim.sock", LogLevel: "debug"}},
		{name: "http endpoint", cfg: config.Config{StorageEndpoint: "http://acct.example", LogLevel: "info"}, wantErr: "https://"},
		{name: "endpoint without host", cfg: config.Config{StorageEndpoint: "https://", LogLevel: "info"}, wantErr: "https://"},
		{name: "unknown level", cfg: config.Config{LogLevel: "loud"}, wantErr: "log level"},
		{name: "space in socket", cfg: config.Config{Simhost: "/run/my sim.sock", LogLevel: "info"}, wantErr: "simhost socket"},
		{name: "quote in CA", cfg: config.Config{StorageCA: `/etc/"ca".pem`, LogLevel: "info"}, wantErr: "storage CA"},
		{name: "variable in endpoint", cfg: config.Config{StorageEndpoint: "https://$HOST", LogLevel: "info"}, wantErr: "storage endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestEnvFile_quotesArgumentsAfterSubcommand(t *testing.T) {
	got := string(config.EnvFile("hvm-agent", "HVM_AGENT_ARGS", config.Config{LogLevel: "warn"}, []string{"serve", "--listen", "/run/a.sock"}))
	for _, want := range []string{"\nHVM_LOG_LEVEL=warn\n", "\nHVM_AGENT_ARGS=\"--listen /run/a.sock\"\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("env file lacks %q:\n%s", want, got)
		}
	}
}
