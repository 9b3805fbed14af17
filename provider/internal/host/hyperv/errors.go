package hyperv

import (
	"errors"
	"fmt"

	"hvmigrate/provider/internal/host"
)

// ErrShutdownTimeout: the guest did not turn off within the configured
// time after a graceful shutdown was requested.
var ErrShutdownTimeout = errors.New("guest did not shut down in time")

// Raw-layer sentinels the wmiHost implementations return.
var (
	errNoSuchVM            = errors.New("no such virtual machine")
	errNoShutdownComponent = errors.New("no running shutdown integration service")
)

// codeError is a WMI method that returned a failure code, or a job that
// ended in failure.
type codeError struct {
	Op   string
	Code uint32
	Desc string
}

func (e *codeError) Error() string {
	if e.Desc != "" {
		return fmt.Sprintf("%s: return code %d: %s", e.Op, e.Code, e.Desc)
	}
	return fmt.Sprintf("%s: return code %d", e.Op, e.Code)
}

// Unwrap gives the host error class of the code, if it has one.
func (e *codeError) Unwrap() error { return classOfCode(e.Code) }

// classOfCode maps method return values (both the CIM range and the
// Hyper-V vendor range) to the host error classes.
func classOfCode(code uint32) error {
	switch code {
	case codeNotSupported, codeVendorNotSupp, codeInvalidType:
		return host.ErrUnsupported
	case codeFileNotFound:
		return host.ErrNotFound
	case codeTimeout, codeVendorTimeout, codeSystemInUse, codeNotAvailable, codeStatusUnknown:
		return host.ErrUnavailable
	}
	return nil
}

// retryableCode reports a return value that says the host refused the
// call without doing anything, so calling again is safe.
func retryableCode(code uint32) bool {
	return code == codeSystemInUse || code == codeNotAvailable
}

// comError is a failure below WMI's method layer (COM, DCOM, the WMI
// service), carrying its HRESULT.
type comError struct {
	Op      string
	HResult uint32
	Err     error
}

func (e *comError) Error() string {
	return fmt.Sprintf("%s: hresult %#08x: %v", e.Op, e.HResult, e.Err)
}

// Unwrap gives the cause and, where the HRESULT has one, the host class.
func (e *comError) Unwrap() []error {
	if c := classOfHResult(e.HResult); c != nil {
		return []error{c, e.Err}
	}
	return []error{e.Err}
}

// HRESULTs the backend classifies.
const (
	hrWbemNotFound        uint32 = 0x80041002
	hrWbemInvalidNS       uint32 = 0x8004100E
	hrWbemInvalidClass    uint32 = 0x80041010
	hrWbemTransport       uint32 = 0x80041015
	hrWbemShuttingDown    uint32 = 0x80041033
	hrWbemServerTooBusy   uint32 = 0x80041045
	hrWbemQuotaViolation  uint32 = 0x8004106C
	hrRPCServerUnavail    uint32 = 0x800706BA
	hrRPCCallFailed       uint32 = 0x800706BE
	hrRPCCallRejected     uint32 = 0x80010001
	hrRPCServerCallRetry  uint32 = 0x8001010A
	hrRPCDisconnected     uint32 = 0x80010108
	hrRPCCallFailedDNE    uint32 = 0x800706BF
	hrWbemProviderFailure uint32 = 0x80041004
	// hrDispException: the real code is in the exception info's scode.
	hrDispException uint32 = 0x80020009
)

// transientHResult reports HRESULTs that mean "the WMI service or its
// provider is busy, restarting or unreachable".
func transientHResult(hr uint32) bool {
	switch hr {
	case hrWbemTransport, hrWbemShuttingDown, hrWbemServerTooBusy, hrWbemQuotaViolation,
		hrRPCServerUnavail, hrRPCCallFailed, hrRPCCallRejected, hrRPCServerCallRetry,
		hrRPCDisconnected, hrRPCCallFailedDNE, hrWbemProviderFailure:
		return true
	}
	return false
}

func classOfHResult(hr uint32) error {
	switch {
	case transientHResult(hr):
		return host.ErrUnavailable
	case hr == hrWbemNotFound:
		return host.ErrNotFound
	case hr == hrWbemInvalidNS || hr == hrWbemInvalidClass:
		// No Hyper-V WMI provider on this machine.
		return host.ErrUnsupported
	}
	return nil
}

// isTransient reports an error a retry may cure without risk: a transient
// HRESULT, or a return value that says nothing was done.
func isTransient(err error) bool {
	var ce *comError
	if errors.As(err, &ce) {
		return transientHResult(ce.HResult)
	}
	var me *codeError
	if errors.As(err, &me) {
		return retryableCode(me.Code)
	}
	return false
}

// classify turns raw-layer sentinels into host classes, keeping the cause.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errNoSuchVM):
		return fmt.Errorf("%w: %w", host.ErrNotFound, err)
	}
	return err
}

// hresultError is how COM errors from the WMI library's OLE layer expose
// their HRESULT; exceptionInfo is how a DISP_E_EXCEPTION carries the
// underlying code. Matching by method keeps this package off the OLE
// library's types.
type (
	hresultError interface {
		error
		Code() uintptr
		SubError() error
	}
	exceptionInfo interface{ SCODE() uint32 }
)

// comErr wraps an error that carries an HRESULT as a *comError.
func comErr(op string, err error) error {
	var ce *comError
	if err == nil || errors.As(err, &ce) {
		return err
	}
	var he hresultError
	if !errors.As(err, &he) {
		return err
	}
	hr := uint32(he.Code())
	if ex, ok := he.SubError().(exceptionInfo); ok && hr == hrDispException && ex.SCODE() != 0 {
		hr = ex.SCODE()
	}
	return &comError{Op: op, HResult: hr, Err: err}
}
