package hyperv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hvmigrate/provider/internal/host"
)

// retry runs fn until it succeeds, fails with an error again does not
// accept, or the retries run out.
func (b *Backend) retry(ctx context.Context, op string, again func(error) bool, fn func() error) error {
	delay := b.cfg.RetryDelay
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !again(err) || attempt >= b.cfg.Retries {
			return err
		}
		b.log.Debug("transient wmi failure, retrying", "op", op, "attempt", attempt+1, "error", err)
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		delay *= 2
	}
}

// query runs a read-only raw call, retrying transient failures (see
// isTransient), and classifies its error.
func query[T any](ctx context.Context, b *Backend, op string, fn func() (T, error)) (T, error) {
	var out T
	err := b.retry(ctx, op, isTransient, func() error {
		var err error
		out, err = fn()
		return err
	})
	if err != nil {
		return out, fmt.Errorf("%s: %w", op, classify(err))
	}
	return out, nil
}

// invoke runs a method call and waits for its job. The call is retried
// only when WMI answered with a code that says it did nothing; a COM-level
// failure of a call that changes the host is not retried, since the call
// may have run.
func (b *Backend) invoke(ctx context.Context, op string, timeout time.Duration, fn func() (callResult, error)) error {
	var res callResult
	err := b.retry(ctx, op, refusedCall, func() error {
		var err error
		if res, err = fn(); err != nil {
			return fmt.Errorf("%s: %w", op, classify(err))
		}
		return checkCode(op, res)
	})
	if err != nil {
		return err
	}
	if res.Code == codeJobStarted {
		return b.waitJob(ctx, op, res.Job, timeout)
	}
	return nil
}

// refusedCall reports a return value saying the host did nothing.
func refusedCall(err error) bool {
	var me *codeError
	return errors.As(err, &me) && retryableCode(me.Code)
}

// checkCode turns a method's return value into an error; 0 and 4096 are
// success (the second only with a job to follow).
func checkCode(op string, res callResult) error {
	switch {
	case res.Code == codeCompleted:
		return nil
	case res.Code == codeJobStarted && res.Job != "":
		return nil
	case res.Code == codeJobStarted:
		return &codeError{Op: op, Code: res.Code, Desc: "job started but no job returned"}
	}
	return &codeError{Op: op, Code: res.Code}
}

// waitJob polls a job until it ends or timeout passes.
func (b *Backend) waitJob(ctx context.Context, op, job string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		st, err := query(ctx, b, op+": read job", func() (jobRecord, error) { return b.w.jobStatus(ctx, job) })
		if err != nil {
			return err
		}
		if done, err := jobDone(op, st); done {
			return err
		}
		if err := sleep(ctx, b.cfg.PollInterval); err != nil {
			return fmt.Errorf("%s: job %s still in state %d (%d%%): %w: %w",
				op, job, st.State, st.Percent, host.ErrUnavailable, err)
		}
	}
}

// jobDone reports whether a job has ended and, if so, how.
func jobDone(op string, st jobRecord) (bool, error) {
	switch st.State {
	case jobCompleted:
		if st.ErrorCode != 0 {
			return true, &codeError{Op: op, Code: uint32(st.ErrorCode), Desc: st.Description}
		}
		return true, nil
	case jobTerminated, jobKilled, jobException:
		code := uint32(st.ErrorCode)
		if code == 0 {
			code = codeFailed
		}
		desc := st.Description
		if desc == "" {
			desc = fmt.Sprintf("job ended in state %d", st.State)
		}
		return true, &codeError{Op: op, Code: code, Desc: desc}
	}
	return false, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
