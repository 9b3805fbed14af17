package server

import (
	"context"
	"fmt"
	"time"

	"hvmigrate/agent/internal/hostlimits"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/units"
)

// SetThrottle replaces the host-wide limits.
func (s *Server) SetThrottle(_ context.Context, req *agentv1.SetThrottleRequest) (*agentv1.SetThrottleResponse, error) {
	settings, err := fromThrottle(req.GetSettings())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.limits.Set(settings); err != nil {
		return nil, toStatus(err)
	}
	cur, inForce := s.limits.Get()
	return &agentv1.SetThrottleResponse{Settings: toThrottle(cur), InForce: toLimit(inForce)}, nil
}

// GetThrottle returns the host-wide limits.
func (s *Server) GetThrottle(context.Context, *agentv1.GetThrottleRequest) (*agentv1.GetThrottleResponse, error) {
	cur, inForce := s.limits.Get()
	return &agentv1.GetThrottleResponse{Settings: toThrottle(cur), InForce: toLimit(inForce)}, nil
}

func toLimit(b units.Bandwidth) *agentv1.BandwidthLimit {
	if b.IsUnlimited() {
		return &agentv1.BandwidthLimit{Unlimited: true}
	}
	return &agentv1.BandwidthLimit{BitsPerSecond: uint64(b)}
}

func fromLimit(l *agentv1.BandwidthLimit, field string) (units.Bandwidth, error) {
	switch {
	case l == nil:
		return 0, fmt.Errorf("%w: %s: missing", hostlimits.ErrInvalid, field)
	case l.GetUnlimited():
		return units.Unlimited, nil
	case l.GetBitsPerSecond() == 0 || l.GetBitsPerSecond() > uint64(units.MaxBandwidth):
		return 0, fmt.Errorf("%w: %s: %d bit/s: %w", hostlimits.ErrInvalid, field, l.GetBitsPerSecond(), units.ErrOutOfRange)
	}
	b := units.Bandwidth(l.GetBitsPerSecond())
	if err := b.Validate(); err != nil {
		return 0, fmt.Errorf("%w: %s: %w", hostlimits.ErrInvalid, field, err)
	}
	return b, nil
}

func toThrottle(s hostlimits.Settings) *agentv1.ThrottleSettings {
	out := &agentv1.ThrottleSettings{
		WorkHours:    toLimit(s.WorkHours),
		NonWorkHours: toLimit(s.OffHours),
		WorkStart:    s.Start.String(),
		WorkEnd:      s.End.String(),
		TimeZone:     s.TimeZone,
		ThreadsPerVm: uint32(s.ThreadsPerVM),
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if s.WorkDays.Has(d) {
			out.WorkDays = append(out.WorkDays, uint32(d))
		}
	}
	return out
}

func fromThrottle(t *agentv1.ThrottleSettings) (hostlimits.Settings, error) {
	var s hostlimits.Settings
	var err error
	if s.WorkHours, err = fromLimit(t.GetWorkHours(), "work_hours"); err != nil {
		return s, err
	}
	if s.OffHours, err = fromLimit(t.GetNonWorkHours(), "non_work_hours"); err != nil {
		return s, err
	}
	for _, d := range t.GetWorkDays() {
		if d > 6 {
			return s, fmt.Errorf("%w: work day %d: want 0 (Sunday) to 6 (Saturday)", hostlimits.ErrInvalid, d)
		}
		s.WorkDays |= 1 << d
	}
	if s.Start, err = units.ParseTimeOfDay(t.GetWorkStart()); err != nil {
		return s, fmt.Errorf("%w: work_start: %w", hostlimits.ErrInvalid, err)
	}
	if s.End, err = units.ParseTimeOfDay(t.GetWorkEnd()); err != nil {
		return s, fmt.Errorf("%w: work_end: %w", hostlimits.ErrInvalid, err)
	}
	s.TimeZone, s.ThreadsPerVM = t.GetTimeZone(), int(t.GetThreadsPerVm())
	return s, nil
}
