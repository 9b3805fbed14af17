package cluster

import (
	"errors"
	"fmt"
	"strings"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
)

// Toxic is one toxiproxy toxic (see toxiproxy's toxics: latency,
// bandwidth, slicer, reset_peer, timeout, limit_data, slow_close).
type Toxic struct {
	Type string
	// Stream is "upstream" (client to server), "downstream" (server to
	// client), or "" for both.
	Stream string
	// Toxicity is the share of connections the toxic applies to; 0 means
	// every connection.
	Toxicity float32
	Attrs    toxiclient.Attributes
}

// Fault is what a test does to one link for a while: toxics on its
// connections, or the link cut (the proxy disabled: open connections
// closed, new ones refused).
type Fault struct {
	Name   string
	Toxics []Toxic
	Cut    bool
}

// String names the fault and what it does, for logs.
func (f Fault) String() string {
	if f.Cut {
		return f.Name + " (link down)"
	}
	var parts []string
	for _, t := range f.Toxics {
		s := t.Stream
		if s == "" {
			s = "both"
		}
		p := fmt.Sprintf("%s/%s %v", t.Type, s, map[string]any(t.Attrs))
		if t.Toxicity > 0 && t.Toxicity < 1 {
			p += fmt.Sprintf(" on %.0f%% of connections", 100*t.Toxicity)
		}
		parts = append(parts, p)
	}
	return f.Name + " (" + strings.Join(parts, ", ") + ")"
}

// Injected is a fault in place on a link; Clear removes it.
type Injected struct {
	px    *toxiclient.Proxy
	names []string
	cut   bool
	// Toxics counts the toxics put on the link (one per stream).
	Toxics int
}

// Inject puts a fault on a proxied link. On an error, whatever part of
// the fault was put in place is removed again.
func Inject(px *toxiclient.Proxy, f Fault) (*Injected, error) {
	if px == nil {
		return nil, errors.New("inject fault: the link has no proxy (set Options.HubProxy or StorageProxy)")
	}
	in := &Injected{px: px}
	if f.Cut {
		if err := px.Disable(); err != nil {
			return nil, fmt.Errorf("cut link %s: %w", px.Name, err)
		}
		in.cut = true
		return in, nil
	}
	for i, t := range f.Toxics {
		streams := []string{t.Stream}
		if t.Stream == "" {
			streams = []string{"upstream", "downstream"}
		}
		toxicity := t.Toxicity
		if toxicity == 0 {
			toxicity = 1
		}
		for _, s := range streams {
			name := fmt.Sprintf("%s-%d-%s-%s", f.Name, i, t.Type, s)
			if _, err := px.AddToxic(name, t.Type, s, toxicity, t.Attrs); err != nil {
				err = fmt.Errorf("add toxic %s to link %s: %w", name, px.Name, err)
				return nil, errors.Join(err, in.Clear())
			}
			in.names = append(in.names, name)
			in.Toxics++
		}
	}
	return in, nil
}

// Clear removes the fault: the toxics go, a cut link comes back.
func (in *Injected) Clear() error {
	var errs []error
	for _, n := range in.names {
		if err := in.px.RemoveToxic(n); err != nil {
			errs = append(errs, fmt.Errorf("remove toxic %s from link %s: %w", n, in.px.Name, err))
		}
	}
	in.names = nil
	if in.cut {
		if err := in.px.Enable(); err != nil {
			errs = append(errs, fmt.Errorf("restore link %s: %w", in.px.Name, err))
		} else {
			in.cut = false
		}
	}
	return errors.Join(errs...)
}

// ActiveToxics lists the toxics on a link, as toxiproxy reports them.
func ActiveToxics(px *toxiclient.Proxy) ([]string, error) {
	ts, err := px.Toxics()
	if err != nil {
		return nil, fmt.Errorf("list toxics of link %s: %w", px.Name, err)
	}
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out, nil
}
