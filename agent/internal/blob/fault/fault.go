// Package fault is an HTTP transport wrapper for tests that injects the
// storage failures the emulator cannot produce: 503 ServerBusy with a
// Retry-After, 500 OperationTimedOut, a response lost after the request
// reached the server (unknown outcome), and a connection reset before it
// did. Faults come from a script, then from a seeded PRNG, so a run repeats.
package fault

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Doer sends one HTTP request (the SDK's transporter interface).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Kind is one injected failure.
type Kind int

// Fault kinds.
const (
	None    Kind = iota
	Busy         // 503 ServerBusy with Retry-After, request not forwarded
	Timeout      // 500 OperationTimedOut, request not forwarded
	Drop         // request forwarded and applied, answer replaced by a reset
	Reset        // connection reset before the request is forwarded
	numKinds
)

var kindNames = [...]string{"none", "busy", "timeout", "drop", "reset"}

// String names the kind.
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Config sets what is injected.
type Config struct {
	Seed uint64
	// Script lists the faults of the first eligible requests, in order.
	Script []Kind
	// Probabilities (0..1) per eligible request after the script.
	Busy, Timeout, Drop, Reset float64
	// RetryAfter is the delay a Busy answer asks for.
	RetryAfter time.Duration
	// Match selects eligible requests; nil means writes (PUT).
	Match func(*http.Request) bool
}

// Transport injects faults in front of next.
type Transport struct {
	next Doer
	cfg  Config

	mu     sync.Mutex
	rng    *rand.Rand
	script []Kind
	counts [numKinds]int
}

// New wraps next.
func New(next Doer, cfg Config) *Transport {
	if cfg.Match == nil {
		cfg.Match = func(r *http.Request) bool { return r.Method == http.MethodPut }
	}
	return &Transport{
		next:   next,
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		script: append([]Kind(nil), cfg.Script...),
	}
}

// Count returns how many faults of kind k were injected.
func (t *Transport) Count(k Kind) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[k]
}

// Do implements Doer.
func (t *Transport) Do(req *http.Request) (*http.Response, error) {
	k := t.pick(req)
	switch k {
	case Busy:
		return synthetic(req, http.StatusServiceUnavailable, "ServerBusy", t.cfg.RetryAfter), nil
	case Timeout:
		return synthetic(req, http.StatusInternalServerError, "OperationTimedOut", 0), nil
	case Reset:
		return nil, resetError(req)
	case Drop:
		resp, err := t.next.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, resetError(req)
	}
	return t.next.Do(req)
}

// pick chooses the fault for req and counts it.
func (t *Transport) pick(req *http.Request) Kind {
	if !t.cfg.Match(req) {
		return None
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k := None
	if len(t.script) > 0 {
		k, t.script = t.script[0], t.script[1:]
	} else {
		x := t.rng.Float64()
		for _, c := range []struct {
			k Kind
			p float64
		}{{Busy, t.cfg.Busy}, {Timeout, t.cfg.Timeout}, {Drop, t.cfg.Drop}, {Reset, t.cfg.Reset}} {
			if x < c.p {
				k = c.k
				break
			}
			x -= c.p
		}
	}
	t.counts[k]++
	return k
}

// resetError looks like what net/http returns on a reset: a *url.Error
// whose text holds the full request URL, SAS query included.
func resetError(req *http.Request) error {
	return &url.Error{Op: req.Method, URL: req.URL.String(),
		Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
}

// synthetic builds a service error answer.
func synthetic(req *http.Request, status int, code string, retryAfter time.Duration) *http.Response {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>injected fault</Message></Error>`, code)
	h := http.Header{}
	h.Set("Content-Type", "application/xml")
	h.Set("x-ms-error-code", code)
	if retryAfter > 0 {
		h.Set("x-ms-retry-after-ms", strconv.FormatInt(retryAfter.Milliseconds(), 10))
		h.Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
		Request: req,
	}
}
