package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"hvmigrate/agent/internal/upload"
)

// showProgress draws a progress bar for prog on w while a transfer runs,
// when w is a terminal; elsewhere it prints nothing. The returned function
// stops the bar.
func showProgress(ctx context.Context, prog *upload.Progress, quiet bool, w io.Writer) func(ok bool) {
	f, isFile := w.(*os.File)
	if quiet || !isFile || !isatty.IsTerminal(f.Fd()) {
		return func(bool) {}
	}
	p := mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithWidth(40))
	bar := p.AddBar(0,
		mpb.PrependDecorators(decor.Name("copy "), decor.Percentage(decor.WCSyncSpace)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			s := prog.Snapshot(time.Now())
			eta := "--"
			if s.ETA >= 0 {
				eta = s.ETA.Round(time.Second).String()
			}
			return fmt.Sprintf("%s / %s  sent %s  %s/s  ETA %s", human(s.Done), human(s.Total),
				human(s.Sent), human(int64(s.Rate)), eta)
		})))
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				bar.SetTotal(max(prog.Total.Load(), 1), false)
				bar.SetCurrent(prog.Done.Load())
			}
		}
	}()
	return func(ok bool) {
		close(done)
		if ok {
			bar.SetTotal(max(prog.Total.Load(), 1), true)
		} else {
			bar.Abort(false)
		}
		p.Wait()
	}
}
