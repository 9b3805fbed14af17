package cmdline

import (
	"context"

	"golang.org/x/sys/windows/svc"
)

// runAsService runs run as a Windows service when the service control
// manager started this process: it reports running, cancels run's context
// on a stop or shutdown request, and reports run's exit code when it ends.
// It reports false when the process was started otherwise.
func runAsService(name string, run func(context.Context) int) (int, bool) {
	isService, err := svc.IsWindowsService()
	if err != nil || !isService {
		return 0, false
	}
	h := &serviceHandler{run: run}
	if err := svc.Run(name, h); err != nil {
		return ExitError, true
	}
	return h.code, true
}

type serviceHandler struct {
	run  func(context.Context) int
	code int
}

// Execute implements svc.Handler.
func (h *serviceHandler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- h.run(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case h.code = <-done:
			status <- svc.Status{State: svc.StopPending}
			return h.code != 0, uint32(h.code)
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
			}
		}
	}
}
