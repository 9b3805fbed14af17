package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/host/hyperv"
	"hvmigrate/provider/internal/host/simhost"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/hublink"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/provider/internal/replication/store"
)

// hubOptions are the flags of hub mode: replication driven by the hub.
type hubOptions struct {
	identity string
	simhost  string
	state    string
	link     hublink.Config
	// hyperv configures the Hyper-V backend (Windows, no --simhost).
	hyperv hyperv.Config
}

// enabled reports whether hub mode was asked for.
func (o hubOptions) enabled() bool { return o.identity != "" }

// check names the flag hub mode lacks.
func (o hubOptions) check() error {
	switch {
	case o.simhost == "" && runtime.GOOS != "windows":
		return errors.New("--simhost is required with --identity (the Hyper-V backend runs on Windows only)")
	case o.state == "":
		return errors.New("--state is required with --identity")
	}
	return nil
}

// runHubMode runs the agent link, the hub link, the replication driver and
// the inventory reports until ctx ends or one of them fails for good.
func runHubMode(ctx context.Context, o hubOptions, agentCfg agentclient.LinkConfig, log hclog.Logger) error {
	st, err := store.Open(store.DefaultConfig(o.state))
	if err != nil {
		return fmt.Errorf("open state %s: %w", o.state, err)
	}
	defer st.Close()
	backend, err := openBackend(o, log)
	if err != nil {
		return err
	}
	defer backend.Close()
	agentLink := agentclient.NewLink(agentCfg, log.Named("agent"))
	agent := driver.LinkAgent{Link: agentLink}
	relay := &handlerRelay{}
	hubLink, err := hubclient.NewLink(hubclient.DefaultConfig(o.identity), relay, log.Named("hub"))
	if err != nil {
		return fmt.Errorf("load identity from %s: %w", o.identity, err)
	}
	hub := hublink.NewHub(o.link, hublink.Deps{Send: hubLink, Agent: agent, Host: backend, Hasher: agent, Log: log})
	dcfg := driver.DefaultConfig()
	if c := o.link.IntervalCap; c > 0 {
		dcfg.Machine.MinInterval = min(dcfg.Machine.MinInterval, c)
	}
	drv := driver.New(dcfg, driver.Deps{Store: st, Host: backend, Agent: agent, Hub: hub, ResyncAgent: agent, Comparer: hub, Log: log})
	relay.set(hublink.NewHandler(hub, drv, log))
	log.Info("hub mode", "host_id", hubLink.Identity().HostID, "backend", backendName(o), "state", o.state)
	return runAll(ctx, map[string]func(context.Context) error{
		"agent link": agentLink.Run,
		"hub link":   hubLink.Run,
		"driver":     drv.Run,
		"inventory": func(ctx context.Context) error {
			hublink.ReportInventory(ctx, backend, hub, o.link.InventoryEvery, log.Named("inventory"))
			return nil
		},
	})
}

// hostBackend is the host the driver replicates from.
type hostBackend interface {
	host.Backend
	Close() error
}

// openBackend connects to hvm-simhost when --simhost is given, and to
// Hyper-V otherwise (Windows only).
func openBackend(o hubOptions, log hclog.Logger) (hostBackend, error) {
	if o.simhost != "" {
		b, err := simhost.Dial(o.simhost)
		if err != nil {
			return nil, fmt.Errorf("dial simhost %s: %w", o.simhost, err)
		}
		return b, nil
	}
	b, err := openHyperV(o.hyperv, log.Named("hyperv"))
	if err != nil {
		return nil, fmt.Errorf("open the Hyper-V backend: %w", err)
	}
	return b, nil
}

func backendName(o hubOptions) string {
	if o.simhost != "" {
		return "simhost " + o.simhost
	}
	return "hyperv"
}

// runAll runs every part until ctx ends; the first part to fail stops
// the others, and its error is returned.
func runAll(ctx context.Context, parts map[string]func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for name, run := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && ctx.Err() == nil {
				once.Do(func() { first = fmt.Errorf("%s: %w", name, err) })
				cancel()
			}
		}()
	}
	wg.Wait()
	return first
}

// handlerRelay lets the hub link be built before the handler that needs
// the driver, which needs the link.
type handlerRelay struct {
	mu sync.Mutex
	h  hubclient.Handler
}

func (r *handlerRelay) set(h hubclient.Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h = h
}

// HandleCommand implements hubclient.Handler.
func (r *handlerRelay) HandleCommand(ctx context.Context, c hubclient.Command) error {
	r.mu.Lock()
	h := r.h
	r.mu.Unlock()
	if h == nil {
		return errors.New("provider is still starting")
	}
	return h.HandleCommand(ctx, c)
}
