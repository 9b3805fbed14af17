package replication_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"hvmigrate/hub/internal/replication"
)

// armTemplate is the part of a deployment template the tests look at.
type armTemplate struct {
	Parameters map[string]struct {
		Type          string   `json:"type"`
		DefaultValue  *string  `json:"defaultValue"`
		AllowedValues []string `json:"allowedValues"`
		Metadata      struct {
			Description string `json:"description"`
		} `json:"metadata"`
	} `json:"parameters"`
	Resources []armResource `json:"resources"`
}

type armResource struct {
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	DependsOn  []string          `json:"dependsOn"`
	Tags       map[string]string `json:"tags"`
	Properties struct {
		HyperVGeneration string `json:"hyperVGeneration"`
		IPConfigurations []struct {
			Properties struct {
				Subnet struct {
					ID string `json:"id"`
				} `json:"subnet"`
			} `json:"properties"`
		} `json:"ipConfigurations"`
		HardwareProfile struct {
			VMSize string `json:"vmSize"`
		} `json:"hardwareProfile"`
		StorageProfile struct {
			DataDisks []json.RawMessage `json:"dataDisks"`
		} `json:"storageProfile"`
		NetworkProfile struct {
			NetworkInterfaces []struct {
				ID         string `json:"id"`
				Properties struct {
					Primary bool `json:"primary"`
				} `json:"properties"`
			} `json:"networkInterfaces"`
		} `json:"networkProfile"`
	} `json:"properties"`
}

func parseTemplate(t *testing.T, d replication.VMDefinition) armTemplate {
	t.Helper()
	b, err := d.ARMTemplate()
	if err != nil {
		t.Fatal(err)
	}
	var tmpl armTemplate
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatalf("template is not JSON: %v\n%s", err, b)
	}
	return tmpl
}

func (tm armTemplate) ofType(kind string) []armResource {
	var out []armResource
	for _, r := range tm.Resources {
		if r.Type == kind {
			out = append(out, r)
		}
	}
	return out
}

func (tm armTemplate) defaultOf(t *testing.T, param string) string {
	t.Helper()
	p, ok := tm.Parameters[param]
	if !ok || p.DefaultValue == nil {
		t.Fatalf("parameter %s has no default: %+v", param, p)
	}
	return *p.DefaultValue
}

func definition(gen, vcpus int, mem int64, nics []replication.DefinitionNIC, disks int) replication.VMDefinition {
	d := replication.VMDefinition{Name: "web 01", SourceVMID: "id", RecoveryPoint: 3, Generation: gen, VCPUs: vcpus, MemoryBytes: mem, NICs: nics}
	for i := range disks {
		d.Disks = append(d.Disks, replication.DefinitionDisk{ID: "d", Name: "n", SizeBytes: 1 << 30,
			BlobURL: "https://acct.blob.core.windows.net/c/disk" + string(rune('0'+i)), OSDisk: i == 0})
	}
	return d
}

func TestVMDefinition_ARMTemplate_nicsAndGeneration(t *testing.T) {
	nics := []replication.DefinitionNIC{{Name: "lan", Switch: "External", MAC: "00:15:5D:00:00:01"}, {Name: "backup", Switch: "Internal"},
		{Name: "mgmt"}}
	tmpl := parseTemplate(t, definition(2, 4, 12<<30, nics, 2))

	if g := tmpl.defaultOf(t, "hyperVGeneration"); g != "V2" {
		t.Fatalf("hyperVGeneration default = %s, want V2 for a generation 2 source", g)
	}
	disks := tmpl.ofType("Microsoft.Compute/disks")
	if len(disks) != 2 || disks[0].Properties.HyperVGeneration != "[parameters('hyperVGeneration')]" || disks[1].Properties.HyperVGeneration != "" {
		t.Fatalf("disks = %+v: only the OS disk carries the generation", disks)
	}
	// 4 vCPUs and 12 GiB need D4s_v5 (16 GiB), but 3 NICs need D8s_v5.
	if s := tmpl.defaultOf(t, "vmSize"); s != "Standard_D8s_v5" {
		t.Fatalf("vmSize default = %s, want Standard_D8s_v5", s)
	}
	if d := tmpl.Parameters["vmSize"].Metadata.Description; !strings.Contains(strings.ToLower(d), "review") {
		t.Fatalf("vmSize description does not ask for a review: %q", d)
	}
	got := tmpl.ofType("Microsoft.Network/networkInterfaces")
	if len(got) != 3 {
		t.Fatalf("%d NIC resources, want one per source NIC (3)", len(got))
	}
	for i, n := range got {
		if len(n.Properties.IPConfigurations) != 1 || n.Properties.IPConfigurations[0].Properties.Subnet.ID != "[parameters('subnetId')]" {
			t.Fatalf("nic %d does not join the subnet parameter: %+v", i, n)
		}
		if n.Tags["sourceNicName"] != nics[i].Name || n.Tags["sourceSwitch"] != nics[i].Switch || n.Tags["sourceMacAddress"] != nics[i].MAC {
			t.Fatalf("nic %d tags = %v, want %+v", i, n.Tags, nics[i])
		}
	}
	vms := tmpl.ofType("Microsoft.Compute/virtualMachines")
	if len(vms) != 1 || vms[0].Name != "web01" {
		t.Fatalf("vms = %+v", vms)
	}
	vm := vms[0]
	refs := vm.Properties.NetworkProfile.NetworkInterfaces
	if len(refs) != 3 || !refs[0].Properties.Primary || refs[1].Properties.Primary || refs[2].Properties.Primary {
		t.Fatalf("vm nics = %+v: want 3, the first primary", refs)
	}
	for i, r := range refs {
		want := "[resourceId('Microsoft.Network/networkInterfaces', '" + got[i].Name + "')]"
		if r.ID != want || !slices.Contains(vm.DependsOn, want) {
			t.Fatalf("vm nic %d = %s (depends on it: %v), want %s", i, r.ID, slices.Contains(vm.DependsOn, want), want)
		}
	}
	if vm.Properties.HardwareProfile.VMSize != "[parameters('vmSize')]" || len(vm.Properties.StorageProfile.DataDisks) != 1 {
		t.Fatalf("vm properties = %+v", vm.Properties)
	}
}

func TestVMDefinition_ARMTemplate_unknownHardware(t *testing.T) {
	tmpl := parseTemplate(t, definition(0, 0, 0, nil, 1))
	gen, ok := tmpl.Parameters["hyperVGeneration"]
	if !ok || gen.DefaultValue != nil || len(gen.AllowedValues) != 2 {
		t.Fatalf("hyperVGeneration of an unknown generation = %+v, want a required V1/V2 parameter", gen)
	}
	if s := tmpl.defaultOf(t, "vmSize"); s != "Standard_D2s_v5" {
		t.Fatalf("vmSize default = %s, want the smallest size", s)
	}
	nics := tmpl.ofType("Microsoft.Network/networkInterfaces")
	if len(nics) != 1 || nics[0].Tags != nil {
		t.Fatalf("nics of a source without NICs = %+v, want one untagged", nics)
	}
	if g := parseTemplate(t, definition(1, 1, 1<<30, nil, 1)).defaultOf(t, "hyperVGeneration"); g != "V1" {
		t.Fatalf("hyperVGeneration default = %s, want V1 for a generation 1 source", g)
	}
}

func TestSizeFor_table(t *testing.T) {
	tests := []struct {
		name            string
		vcpus           int
		mem             int64
		nics, dataDisks int
		want            string
	}{
		{"unknown", 0, 0, 0, 0, "Standard_D2s_v5"},
		{"small", 1, 2 << 30, 1, 0, "Standard_D2s_v5"},
		{"exactly D2s", 2, 8 << 30, 2, 4, "Standard_D2s_v5"},
		{"a byte over 8 GiB", 2, 8<<30 + 1, 1, 0, "Standard_D4s_v5"},
		{"vcpus decide", 6, 4 << 30, 1, 0, "Standard_D8s_v5"},
		{"memory decides", 2, 100 << 30, 1, 0, "Standard_D32s_v5"},
		{"nics decide", 2, 1 << 30, 5, 0, "Standard_D16s_v5"},
		{"data disks decide", 2, 1 << 30, 1, 9, "Standard_D8s_v5"},
		{"largest", 96, 384 << 30, 8, 32, "Standard_D96s_v5"},
		{"beyond the table", 128, 1 << 40, 12, 64, "Standard_D96s_v5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replication.SizeFor(tt.vcpus, tt.mem, tt.nics, tt.dataDisks); got != tt.want {
				t.Fatalf("SizeFor(%d, %d, %d, %d) = %s, want %s", tt.vcpus, tt.mem, tt.nics, tt.dataDisks, got, tt.want)
			}
		})
	}
}
