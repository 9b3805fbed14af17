package ctl

import (
	"encoding/json"
	"reflect"
	"testing"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

func TestVMRow_hardware(t *testing.T) {
	tests := []struct {
		name string
		vm   *adminv1.Vm
		want []string
	}{
		{"reported", &adminv1.Vm{Id: "1", Name: "web", HostId: "h", PowerState: "running", Generation: 2, Vcpus: 4,
			MemoryBytes: 8 << 30, Nics: []*adminv1.Nic{{Name: "lan"}, {Name: "mgmt"}}, DiskCount: 1, TotalBytes: 1 << 30},
			[]string{"1", "web", "h", "running", "2", "4", "8.0 GiB", "2", "1", "1.0 GiB"}},
		{"not reported", &adminv1.Vm{Id: "2", Name: "old", HostId: "h", PowerState: "off"},
			[]string{"2", "old", "h", "off", "-", "-", "-", "0", "0", "0.0 GiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vmRow(tt.vm); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("row = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVMToJSON_nicsNeverNull(t *testing.T) {
	b, err := json.Marshal(vmToJSON(&adminv1.Vm{Id: "2", Name: "old"}))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if nics, ok := got["nics"].([]any); !ok || len(nics) != 0 || got["generation"] != 0.0 {
		t.Fatalf("json = %s, want an empty nics list and generation 0", b)
	}
	v := vmToJSON(&adminv1.Vm{Nics: []*adminv1.Nic{{Name: "lan", SwitchName: "External", MacAddress: "00:15:5D:00:00:01"}}})
	if want := []nicJSON{{Name: "lan", Switch: "External", MAC: "00:15:5D:00:00:01"}}; !reflect.DeepEqual(v.NICs, want) {
		t.Fatalf("nics = %+v, want %+v", v.NICs, want)
	}
}
