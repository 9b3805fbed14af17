package stream

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"hvmigrate/hub/internal/rpcstatus"
	"hvmigrate/hub/internal/state"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// event authorises, hands on, stores and acknowledges one event. A nil ack
// with a nil error leaves the event unacknowledged (the handler failed).
func (s *Server) event(ctx context.Context, sess *session, pe *hubv1.Event) (*hubv1.EventAck, error) {
	ev, err := eventFromProto(pe)
	if err != nil {
		return refuse(pe.GetId(), err), nil
	}
	if dup, err := s.store.HasEvent(ctx, sess.hostID, ev.ID); err != nil || dup {
		return &hubv1.EventAck{EventId: ev.ID}, err
	}
	if err := s.authorise(ctx, sess.hostID, ev); err != nil {
		sess.log.Warn("event refused", "event_id", ev.ID, "kind", ev.Kind(), "error", err)
		return refuse(ev.ID, err), nil
	}
	if s.handler != nil {
		if err := s.handler.HandleEvent(ctx, sess.hostID, ev); err != nil {
			sess.log.Error("event handler failed; leaving the event unacknowledged", "event_id", ev.ID, "error", err)
			return nil, nil
		}
	}
	if err := s.record(ctx, sess.hostID, ev, pe); err != nil {
		if errors.Is(err, state.ErrForbidden) {
			return refuse(ev.ID, err), nil
		}
		return nil, err
	}
	sess.log.Debug("event stored", "event_id", ev.ID, "kind", ev.Kind())
	return &hubv1.EventAck{EventId: ev.ID}, nil
}

// authorise refuses an event about a VM the host does not own.
func (s *Server) authorise(ctx context.Context, hostID string, ev Event) error {
	for _, vm := range ev.Inventory {
		err := s.store.CheckVMOwner(ctx, hostID, vm.ID)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
	}
	vmID := ev.vmID()
	if vmID == "" {
		return nil
	}
	err := s.store.CheckVMOwner(ctx, hostID, vmID)
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("vm %q is not in this host's inventory: %w", vmID, state.ErrForbidden)
	}
	return err
}

func (s *Server) record(ctx context.Context, hostID string, ev Event, pe *hubv1.Event) error {
	payload, err := proto.Marshal(pe)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	var inv []state.VM
	if ev.IsInventory {
		inv = ev.Inventory
		if inv == nil {
			inv = []state.VM{}
		}
	}
	_, err = s.store.RecordEvent(ctx, state.Event{HostID: hostID, ID: ev.ID, Kind: ev.Kind(),
		Payload: payload, ReceivedAt: s.cfg.Now()}, inv)
	return err
}

func refuse(id string, err error) *hubv1.EventAck {
	return &hubv1.EventAck{EventId: id, ErrorReason: rpcstatus.Reason(err), ErrorMessage: err.Error()}
}
