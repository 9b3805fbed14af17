package hyperv

import (
	"errors"
	"fmt"
	"testing"

	"hvmigrate/provider/internal/host"
)

// oleLike mimics the OLE library's error: an HRESULT and, for
// DISP_E_EXCEPTION, exception info carrying the real code.
type oleLike struct {
	hr  uintptr
	sub error
}

func (e oleLike) Error() string   { return fmt.Sprintf("ole %#x", e.hr) }
func (e oleLike) Code() uintptr   { return e.hr }
func (e oleLike) SubError() error { return e.sub }

type excepLike struct{ scode uint32 }

func (e excepLike) Error() string { return "exception" }
func (e excepLike) SCODE() uint32 { return e.scode }

func TestComErr_classes(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantHR    uint32
		wantClass error
		transient bool
	}{
		{"rpc unavailable", oleLike{hr: uintptr(hrRPCServerUnavail)}, hrRPCServerUnavail, host.ErrUnavailable, true},
		{"wbem not found inside exception", oleLike{hr: uintptr(hrDispException), sub: excepLike{hrWbemNotFound}}, hrWbemNotFound, host.ErrNotFound, false},
		{"invalid namespace wrapped", fmt.Errorf("connect: %w", oleLike{hr: uintptr(hrWbemInvalidNS)}), hrWbemInvalidNS, host.ErrUnsupported, false},
		{"exception without scode", oleLike{hr: uintptr(hrDispException), sub: excepLike{}}, hrDispException, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := comErr("op", tt.err)
			var ce *comError
			if !errors.As(err, &ce) || ce.HResult != tt.wantHR {
				t.Fatalf("comErr = %v, want hresult %#x", err, tt.wantHR)
			}
			if tt.wantClass != nil && !errors.Is(err, tt.wantClass) {
				t.Errorf("%v is not %v", err, tt.wantClass)
			}
			if isTransient(err) != tt.transient {
				t.Errorf("transient = %v, want %v", !tt.transient, tt.transient)
			}
			if again := comErr("outer", err); again != err {
				t.Error("wrapped twice")
			}
		})
	}
	if err := comErr("op", errors.New("plain")); errors.As(err, new(*comError)) {
		t.Error("plain error became a comError")
	}
}
