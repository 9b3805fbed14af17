//go:build windows

package hyperv

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	cim "github.com/microsoft/wmi/pkg/wmiinstance"
)

// Namespace of the Hyper-V WMI provider.
const namespace = `root\virtualization\v2`

var errClosed = errors.New("wmi connection closed")

// wmiConn owns one WMI session on one OS thread: COM objects are used on
// the thread that created them, so every call is handed to that thread.
type wmiConn struct {
	calls chan func()
	done  chan struct{}
	sess  *cim.WmiSession
}

// dialWMI starts the COM thread and connects to the local namespace.
func dialWMI() (*wmiConn, error) {
	c := &wmiConn{calls: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	go c.loop(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return c, nil
}

func (c *wmiConn) loop(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var mgr *cim.WmiSessionManager
	err := protect("connect to "+namespace, func() error {
		mgr = cim.NewWmiSessionManager() // panics when COM cannot start
		sess, err := mgr.GetLocalSession(namespace)
		if err != nil {
			return err
		}
		if _, err := sess.Connect(); err != nil {
			return err
		}
		c.sess = sess
		return nil
	})
	if err != nil {
		if mgr != nil {
			mgr.Dispose()
		}
		ready <- err
		return
	}
	ready <- nil
	for {
		select {
		case fn := <-c.calls:
			fn()
		case <-c.done:
			c.sess.Dispose()
			mgr.Dispose()
			return
		}
	}
}

// close ends the COM thread and the session.
func (c *wmiConn) close() error {
	select {
	case <-c.done:
		return errClosed
	default:
		close(c.done)
		return nil
	}
}

// do runs fn on the COM thread. A call already handed over runs to its end
// (COM calls cannot be abandoned half way); ctx only stops waiting for the
// thread to take it.
func (c *wmiConn) do(ctx context.Context, op string, fn func(s *cim.WmiSession) error) error {
	result := make(chan error, 1)
	call := func() { result <- protect(op, func() error { return fn(c.sess) }) }
	select {
	case c.calls <- call:
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", op, ctx.Err())
	case <-c.done:
		return fmt.Errorf("%s: %w", op, errClosed)
	}
	return <-result
}

// protect runs fn, turning a panic of the WMI library into an error and a
// COM failure into a *comError.
func protect(op string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: wmi library panic: %v", op, r)
		}
	}()
	return comErr(op, fn())
}
