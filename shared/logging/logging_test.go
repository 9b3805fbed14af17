package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestResolveLevel(t *testing.T) {
	tests := []struct {
		name, flag, env string
		want            hclog.Level
		wantErr         string
	}{
		{name: "default is info", want: hclog.Info},
		{name: "env used without flag", env: "debug", want: hclog.Debug},
		{name: "flag beats env", flag: "warn", env: "debug", want: hclog.Warn},
		{name: "case and spaces ignored", flag: " ERROR ", want: hclog.Error},
		{name: "bad flag named", flag: "loud", wantErr: `log level "loud"`},
		{name: "bad env named", env: "loud", wantErr: `HVM_LOG_LEVEL "loud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveLevel(tt.flag, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("resolveLevel(%q, %q) = %v, %v; want %v", tt.flag, tt.env, got, err, tt.want)
			}
		})
	}
}

func TestNew_JSON_writesOneObjectPerLine(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(Config{Name: "agent", Level: "info", JSON: true, Output: &buf})
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden")
	log.Info("listening", "endpoint", "/run/x.sock")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1: %q", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON: %v: %s", err, lines[0])
	}
	if rec["@message"] != "listening" || rec["endpoint"] != "/run/x.sock" || rec["@module"] != "agent" {
		t.Fatalf("unexpected record %v", rec)
	}
}

func TestNew_text_levelFromEnv(t *testing.T) {
	t.Setenv(LevelEnv, "error")
	var buf bytes.Buffer
	log, err := New(Config{Name: "provider", Output: &buf})
	if err != nil {
		t.Fatal(err)
	}
	log.Warn("not shown")
	log.Error("shown", "error", "boom")
	if strings.Contains(buf.String(), "not shown") || !strings.Contains(buf.String(), "[ERROR] provider: shown: error=boom") {
		t.Fatalf("unexpected output %q", buf.String())
	}
}
