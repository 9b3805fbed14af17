package registry

import (
	"context"
	"errors"
	"fmt"

	"hvmigrate/hub/internal/state"
)

// CheckHost returns nil for a registered host that is not revoked, an
// error wrapping state.ErrHostRevoked for a revoked one and state.ErrNotFound
// for an unknown one. Answers are cached; RevokeHost clears the cache.
func (r *Registry) CheckHost(ctx context.Context, hostID string) error {
	now := r.cfg.Now()
	r.mu.Lock()
	st, ok := r.status[hostID]
	r.mu.Unlock()
	if ok && (errors.Is(st.err, state.ErrHostRevoked) || now.Sub(st.checked) < r.cfg.StatusCacheTTL) {
		return st.err
	}
	h, err := r.store.GetHost(ctx, hostID)
	switch {
	case errors.Is(err, state.ErrNotFound):
	case err != nil:
		return err // not cached: a database hiccup is not an answer
	case h.Revoked:
		err = fmt.Errorf("host %s: %w", hostID, state.ErrHostRevoked)
	}
	r.mu.Lock()
	r.status[hostID] = hostStatus{err: err, checked: now}
	r.mu.Unlock()
	return err
}

// RevokeHost revokes a host: every later connection is refused and the
// OnRevoke hooks end its live stream.
func (r *Registry) RevokeHost(ctx context.Context, hostID string) (state.Host, error) {
	h, err := r.store.RevokeHost(ctx, hostID, r.cfg.Now())
	if err != nil {
		return state.Host{}, err
	}
	r.mu.Lock()
	r.status[hostID] = hostStatus{err: fmt.Errorf("host %s: %w", hostID, state.ErrHostRevoked), checked: r.cfg.Now()}
	hooks := append([]func(string){}, r.onRevoke...)
	r.mu.Unlock()
	for _, fn := range hooks {
		fn(hostID)
	}
	r.log.Warn("host revoked", "host_id", hostID, "project_id", h.ProjectID)
	return h, nil
}
