package adminapi

import (
	"context"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// ListThrottles returns the limits last set per host.
func (s *Server) ListThrottles(ctx context.Context, req *adminv1.ListThrottlesRequest) (*adminv1.ListThrottlesResponse, error) {
	ts, err := s.store.Throttles(ctx, req.GetHostId())
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_HOST_NOT_FOUND)
	}
	out := &adminv1.ListThrottlesResponse{}
	for _, t := range ts {
		out.Throttles = append(out.Throttles, &adminv1.Throttle{HostId: t.HostID, WorkHoursBps: t.WorkBps, OffHoursBps: t.OffBps,
			WorkStart: t.WorkStart, WorkEnd: t.WorkEnd, CommandId: t.CommandID, UpdatedUnix: unixOrZero(t.UpdatedAt)})
	}
	return out, nil
}
