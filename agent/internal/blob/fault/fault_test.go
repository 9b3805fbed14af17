package fault_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"hvmigrate/agent/internal/blob/fault"
)

// okDoer answers 201 and counts requests that reached it.
type okDoer struct{ n int }

func (d *okDoer) Do(req *http.Request) (*http.Response, error) {
	d.n++
	return &http.Response{StatusCode: http.StatusCreated, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

func put(t *testing.T) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "https://h/c/b?comp=page&sig=SECRET", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTransport_script(t *testing.T) {
	next := &okDoer{}
	tr := fault.New(next, fault.Config{Script: []fault.Kind{fault.Busy, fault.Timeout, fault.Drop, fault.Reset, fault.None}, RetryAfter: 1500e6})
	resp, err := tr.Do(put(t))
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("x-ms-error-code") != "ServerBusy" ||
		resp.Header.Get("x-ms-retry-after-ms") != "1500" || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("busy: %v %+v", err, resp)
	}
	resp, err = tr.Do(put(t))
	if err != nil || resp.StatusCode != 500 || resp.Header.Get("x-ms-error-code") != "OperationTimedOut" {
		t.Fatalf("timeout: %v %+v", err, resp)
	}
	if _, err := tr.Do(put(t)); !errors.Is(err, syscall.ECONNRESET) || next.n != 1 {
		t.Fatalf("drop: %v, forwarded %d", err, next.n)
	}
	if _, err := tr.Do(put(t)); !errors.Is(err, syscall.ECONNRESET) || next.n != 1 {
		t.Fatalf("reset: %v, forwarded %d", err, next.n)
	}
	if resp, err := tr.Do(put(t)); err != nil || resp.StatusCode != 201 || next.n != 2 {
		t.Fatalf("none: %v", err)
	}
	get, _ := http.NewRequest(http.MethodGet, "https://h/c/b", nil)
	if _, err := tr.Do(get); err != nil {
		t.Fatal("GET is not eligible by default")
	}
	for k := fault.Busy; k <= fault.Reset; k++ {
		if tr.Count(k) != 1 {
			t.Errorf("%v counted %d", k, tr.Count(k))
		}
	}
}

func TestTransport_seededRepeats(t *testing.T) {
	run := func() []int {
		tr := fault.New(&okDoer{}, fault.Config{Seed: 42, Busy: 0.2, Timeout: 0.1, Drop: 0.1, Reset: 0.1})
		for range 1000 {
			_, _ = tr.Do(put(t))
		}
		return []int{tr.Count(fault.None), tr.Count(fault.Busy), tr.Count(fault.Timeout), tr.Count(fault.Drop), tr.Count(fault.Reset)}
	}
	a, b := run(), run()
	t.Logf("counts none/busy/timeout/drop/reset: %v", a)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different faults: %v vs %v", a, b)
		}
	}
	if a[1] < 150 || a[1] > 250 || a[0] < 400 {
		t.Fatalf("rates off: %v", a)
	}
}
