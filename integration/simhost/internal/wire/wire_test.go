package wire

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"hvmigrate/integration/simhost"
	"hvmigrate/shared/vdisk"
)

func TestFromStatus_everyClassSurvivesTheWire(t *testing.T) {
	for _, c := range classes() {
		t.Run(c.err.Error(), func(t *testing.T) {
			sent := fmt.Errorf("vm 1234: %w: do this next", c.err)
			got := FromStatus(ToStatus(sent))
			if !errors.Is(got, c.err) || got.Error() != sent.Error() {
				t.Fatalf("got %q (%v), want %q wrapping %v", got, got, sent, c.err)
			}
			for _, o := range classes() {
				if o.err != c.err && errors.Is(got, o.err) {
					t.Fatalf("%q also matches %v", got, o.err)
				}
			}
		})
	}
	if got := FromStatus(ToStatus(context.Canceled)); !errors.Is(got, context.Canceled) {
		t.Fatalf("cancel: %v", got)
	}
	if got := FromStatus(ToStatus(errors.New("disk on fire"))); got == nil || errors.Unwrap(got) != nil {
		t.Fatalf("unclassified error: %v", got)
	}
}

func TestVMToProto_roundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	vm := simhost.VM{
		ID: uuid.NewString(), Name: "rt", Generation: 1, CPUs: 3, MemoryBytes: 1 << 30,
		NICs: []simhost.NIC{{Name: "a", MACAddress: "00:15:5D:00:00:01", SwitchName: "sw"}}, Power: simhost.PowerStopping,
		Tracking:   simhost.TrackingInfo{Enabled: true, LastSwitch: 9, StartedAt: now},
		Checkpoint: &simhost.CheckpointInfo{ID: "c", Name: "n", CreatedAt: now}, NeedsResync: true, ResyncReason: "why", CreatedAt: now,
		Disks: []simhost.Disk{{Index: 1, ID: "d", Path: "/p", BasePath: "/b", Format: simhost.FormatVHDXFixed, Size: 1 << 20,
			LogicalSectorSize: 4096, PhysicalSectorSize: 4096, CurrentLog: "/l",
			Identity: vdisk.Identity{DiskID: vdisk.GUID(uuid.New()), DataWriteGUID: vdisk.GUID(uuid.New()), FileWriteGUID: vdisk.GUID(uuid.New())}}},
	}
	if got := VMFromProto(VMToProto(vm)); !reflect.DeepEqual(got, vm) {
		t.Fatalf("got %+v\nwant %+v", got, vm)
	}
}

func TestWorkloadToProto_roundTrip(t *testing.T) {
	spec := simhost.WorkloadSpec{VMID: "v", Disks: []int{0, 2}, Pattern: simhost.PatternSequential,
		Sizes: []simhost.IOSize{{Bytes: 4096, Weight: 5}}, RateBytesPerSec: 50e6, Duration: time.Minute,
		TotalBytes: 1 << 30, OverwriteRatio: 0.25, Seed: 42}
	if got := WorkloadFromProto(WorkloadToProto(spec)); !reflect.DeepEqual(got, spec) {
		t.Fatalf("got %+v, want %+v", got, spec)
	}
	for _, w := range []simhost.WriteRequest{
		{VMID: "v", Disk: 3, Offset: 512, Data: []byte{1, 2}},
		{VMID: "v", Offset: 1024, Length: 4096, Pattern: 0xab},
	} {
		if got := WriteFromProto(WriteToProto(w)); !reflect.DeepEqual(got, w) {
			t.Fatalf("got %+v, want %+v", got, w)
		}
	}
}
