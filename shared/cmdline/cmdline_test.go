package cmdline

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/spf13/cobra"
)

func TestRun_exitCodes(t *testing.T) {
	errSpecial := errors.New("special")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "success", want: ExitOK},
		{name: "plain error", err: errors.New("boom"), want: ExitError},
		{name: "usage error, wrapped", err: fmt.Errorf("flag: %w", Usage(errors.New("--dir is required"))), want: ExitUsage},
		{name: "classified", err: fmt.Errorf("link: %w", errSpecial), want: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := &cobra.Command{Use: "hvm-test", SilenceErrors: true, SilenceUsage: true,
				RunE: func(*cobra.Command, []string) error { return tt.err }}
			var stderr bytes.Buffer
			code := Run(root, nil, &bytes.Buffer{}, &stderr, func(err error) int {
				if errors.Is(err, errSpecial) {
					return 7
				}
				return 0
			})
			if code != tt.want {
				t.Fatalf("exit %d, want %d", code, tt.want)
			}
			if tt.err != nil && stderr.String() != "hvm-test: "+tt.err.Error()+"\n" {
				t.Fatalf("stderr %q", stderr.String())
			}
		})
	}
}

func TestLogFlags_badLevelIsUsage(t *testing.T) {
	f := LogFlags{Level: "loud"}
	if _, err := f.Logger("x", &bytes.Buffer{}); !errors.As(err, &UsageError{}) {
		t.Fatalf("err = %v, want a usage error", err)
	}
}
