package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/identity"
)

// CreateKey makes a registration key for a project (id or name) valid for
// valid, and returns it with the key file that carries its secret. Only
// the secret's hash is stored.
func (r *Registry) CreateKey(ctx context.Context, projectRef string, valid time.Duration) (state.Key, identity.KeyFile, error) {
	if valid <= 0 || valid > r.cfg.MaxKeyValidity {
		return state.Key{}, identity.KeyFile{}, fmt.Errorf("%w: validity %s: must be more than 0 and at most %s", ErrInvalid, valid, r.cfg.MaxKeyValidity)
	}
	p, err := r.store.FindProject(ctx, projectRef)
	if err != nil {
		return state.Key{}, identity.KeyFile{}, err
	}
	sec, err := identity.NewSecret()
	if err != nil {
		return state.Key{}, identity.KeyFile{}, err
	}
	now := r.cfg.Now().UTC().Truncate(time.Second)
	k := state.Key{ID: uuid.NewString(), ProjectID: p.ID, SecretHash: identity.SecretHash(sec),
		State: state.KeyUnused, CreatedAt: now, ExpiresAt: now.Add(valid)}
	if err := r.store.CreateKey(ctx, k); err != nil {
		return state.Key{}, identity.KeyFile{}, err
	}
	kf := identity.KeyFile{Hub: r.cfg.Hub, ProjectID: p.ID, KeyID: k.ID,
		CAFingerprint: r.ca.Fingerprint(), Secret: sec, ExpiresAt: k.ExpiresAt}
	r.log.Info("registration key created", "key_id", k.ID, "project_id", p.ID, "expires_at", k.ExpiresAt)
	return k, kf, nil
}

// Keys lists the keys of a project (id or name; all when empty).
func (r *Registry) Keys(ctx context.Context, projectRef string) ([]state.Key, error) {
	id, err := r.projectID(ctx, projectRef)
	if err != nil {
		return nil, err
	}
	return r.store.Keys(ctx, id)
}

// RevokeKey revokes a registration key.
func (r *Registry) RevokeKey(ctx context.Context, id string) (state.Key, error) {
	k, err := r.store.RevokeKey(ctx, id)
	if err != nil {
		return state.Key{}, err
	}
	r.log.Info("registration key revoked", "key_id", id, "project_id", k.ProjectID)
	return k, nil
}
