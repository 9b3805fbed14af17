package replication

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"hvmigrate/hub/internal/state"
)

// VMDefinition describes the VM to create from copied disks. Generation,
// vCPUs, memory and NICs come from the host's inventory at the time of the
// (test) migration; they are zero or empty when the host did not report
// them, and the ARM template then leaves the choice to its parameters.
type VMDefinition struct {
	Name          string           `json:"name"`
	SourceVMID    string           `json:"source_vm_id"`
	RecoveryPoint uint64           `json:"recovery_point"`
	Generation    int              `json:"generation"`
	VCPUs         int              `json:"vcpus"`
	MemoryBytes   int64            `json:"memory_bytes"`
	NICs          []DefinitionNIC  `json:"nics"`
	Disks         []DefinitionDisk `json:"disks"`
}

// DefinitionNIC is one network adapter of the source VM: its name, the
// virtual switch it was connected to and its MAC address, each empty when
// the host did not know it. Azure assigns its own MAC addresses; the
// template keeps the source's values as tags.
type DefinitionNIC struct {
	Name   string `json:"name"`
	Switch string `json:"switch"`
	MAC    string `json:"mac"`
}

// DefinitionDisk is one disk: the page blob holding it as a fixed VHD.
type DefinitionDisk struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
	BlobURL   string `json:"blob_url"`
	OSDisk    bool   `json:"os_disk"`
}

// hardware starts a VM's definition with its generation, vCPUs, memory and
// NICs from the host's inventory as stored now; a VM the host no longer
// reports gets them unknown. A (test) migration takes it once, when it
// starts, and keeps it in its record, so that a run finished after a crash
// writes the same definition whatever the host reported in between.
func (s *Service) hardware(ctx context.Context, r state.Replication) (VMDefinition, error) {
	def := VMDefinition{Name: r.Name, SourceVMID: r.VMID, NICs: []DefinitionNIC{}}
	vms, err := s.store.VMs(ctx, r.HostID)
	if err != nil {
		return def, fmt.Errorf("inventory of vm %s: %w", r.VMID, err)
	}
	for _, vm := range vms {
		if canonical(vm.ID) != canonical(r.VMID) {
			continue
		}
		def.Generation, def.VCPUs, def.MemoryBytes = int(vm.Generation), int(vm.VCPUs), int64(min(vm.MemoryBytes, 1<<62))
		for _, n := range vm.NICs {
			def.NICs = append(def.NICs, DefinitionNIC{Name: n.Name, Switch: n.SwitchName, MAC: n.MACAddress})
		}
		break
	}
	return def, nil
}

// armName keeps the characters Azure resource names accept.
func armName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "vm"
	}
	return b.String()
}

// ARMTemplate returns a deployment template that imports every disk's page
// blob as a managed disk (the OS disk with the source's Hyper-V
// generation) and creates a VM of a proposed size (see SizeFor) with one
// NIC per source NIC, all on the subnet given as a parameter. A source
// without NICs still gets one, since an Azure VM needs one. A generation 2
// source boots UEFI through its OS disk's hyperVGeneration V2; the template
// sets no securityProfile (no Trusted Launch), since nothing checked that
// the guest's boot chain passes Secure Boot under Azure's keys.
func (d VMDefinition) ARMTemplate() ([]byte, error) {
	name := armName(d.Name)
	var resources, dataDisks []any
	osDiskID := ""
	for i, disk := range d.Disks {
		dn := fmt.Sprintf("%s-disk%d", name, i)
		props := map[string]any{"creationData": map[string]any{"createOption": "Import", "sourceUri": disk.BlobURL,
			"storageAccountId": "[parameters('storageAccountId')]"}}
		if disk.OSDisk {
			props["osType"] = "[parameters('osType')]"
			props["hyperVGeneration"] = "[parameters('hyperVGeneration')]"
			osDiskID = resourceID("Microsoft.Compute/disks", dn)
		} else {
			dataDisks = append(dataDisks, map[string]any{"lun": len(dataDisks), "createOption": "Attach",
				"managedDisk": map[string]any{"id": resourceID("Microsoft.Compute/disks", dn)}})
		}
		resources = append(resources, map[string]any{"type": "Microsoft.Compute/disks", "apiVersion": "2023-04-02",
			"name": dn, "location": "[parameters('location')]", "sku": map[string]any{"name": "[parameters('diskSku')]"},
			"properties": props})
	}
	nics := d.armNICs(name)
	for _, n := range nics {
		resources = append(resources, n)
	}
	resources = append(resources, d.armVM(name, len(nics), osDiskID, dataDisks))
	tmpl := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"parameters":     d.armParameters(),
		"resources":      resources,
	}
	return json.MarshalIndent(tmpl, "", "  ")
}

func resourceID(kind, name string) string {
	return fmt.Sprintf("[resourceId('%s', '%s')]", kind, name)
}

func nicName(vm string, i int) string { return fmt.Sprintf("%s-nic%d", vm, i) }

// armNICs returns one network interface per source NIC (at least one),
// tagged with the source adapter's name, switch and MAC.
func (d VMDefinition) armNICs(name string) []map[string]any {
	src := d.NICs
	if len(src) == 0 {
		src = []DefinitionNIC{{}}
	}
	out := make([]map[string]any, 0, len(src))
	for i, n := range src {
		nic := map[string]any{"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2023-09-01",
			"name": nicName(name, i), "location": "[parameters('location')]",
			"properties": map[string]any{"ipConfigurations": []any{map[string]any{"name": "ipconfig1",
				"properties": map[string]any{"subnet": map[string]any{"id": "[parameters('subnetId')]"},
					"privateIPAllocationMethod": "Dynamic", "primary": true}}}}}
		if tags := nicTags(n); len(tags) > 0 {
			nic["tags"] = tags
		}
		out = append(out, nic)
	}
	return out
}

// nicTags records the source adapter on its Azure NIC; tag values are
// limited to 256 characters.
func nicTags(n DefinitionNIC) map[string]any {
	tags := map[string]any{}
	for k, v := range map[string]string{"sourceNicName": n.Name, "sourceSwitch": n.Switch, "sourceMacAddress": n.MAC} {
		if v != "" {
			tags[k] = truncateRunes(v, 256)
		}
	}
	return tags
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func (d VMDefinition) armVM(name string, nics int, osDiskID string, dataDisks []any) map[string]any {
	var depends, refs []any
	for i := range nics {
		id := resourceID("Microsoft.Network/networkInterfaces", nicName(name, i))
		depends = append(depends, id)
		refs = append(refs, map[string]any{"id": id, "properties": map[string]any{"primary": i == 0}})
	}
	for i := range d.Disks {
		depends = append(depends, resourceID("Microsoft.Compute/disks", fmt.Sprintf("%s-disk%d", name, i)))
	}
	if dataDisks == nil {
		dataDisks = []any{}
	}
	return map[string]any{"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2023-09-01", "name": name,
		"location": "[parameters('location')]", "dependsOn": depends,
		"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": "[parameters('vmSize')]"},
			"storageProfile": map[string]any{"osDisk": map[string]any{"createOption": "Attach", "osType": "[parameters('osType')]",
				"managedDisk": map[string]any{"id": osDiskID}}, "dataDisks": dataDisks},
			"networkProfile": map[string]any{"networkInterfaces": refs},
		}}
}

// armParameters are what the operator supplies or reviews: vmSize and
// hyperVGeneration default to what the source suggests.
func (d VMDefinition) armParameters() map[string]any {
	str := func(def any, desc string) map[string]any {
		p := map[string]any{"type": "string", "metadata": map[string]any{"description": desc}}
		if def != nil {
			p["defaultValue"] = def
		}
		return p
	}
	size := SizeFor(d.VCPUs, d.MemoryBytes, max(len(d.NICs), 1), max(len(d.Disks)-1, 0))
	gen := str(nil, "Hyper-V generation of the OS disk: V1 (BIOS, source generation 1) or V2 (UEFI, source generation 2). "+
		"The host did not report the source's generation: set it, or the VM will not boot.")
	if g := hyperVGeneration(d.Generation); g != "" {
		gen = str(g, fmt.Sprintf("Hyper-V generation of the OS disk, from the source's generation %d.", d.Generation))
	}
	gen["allowedValues"] = []any{"V1", "V2"}
	return map[string]any{
		"location": str("[resourceGroup().location]", "Region of every resource."),
		"vmSize": str(size, fmt.Sprintf("Proposed from the source (vCPUs %d, memory %d MiB, NICs %d, disks %d; 0 is not reported) as the "+
			"smallest Dsv5 size that holds it: %s. Review it for the workload, the region's offer and the quota before deploying.",
			d.VCPUs, d.MemoryBytes>>20, len(d.NICs), len(d.Disks), SizeTable())),
		"hyperVGeneration": gen,
		"osType":           str("Windows", "Windows or Linux: the guest operating system on the OS disk."),
		"diskSku":          str("Standard_LRS", "SKU of the managed disks."),
		"storageAccountId": str(nil, "Resource id of the storage account holding the page blobs."),
		"subnetId":         str(nil, "Resource id of the subnet every NIC joins."),
	}
}

// hyperVGeneration maps a source generation to the managed disk's
// hyperVGeneration; "" when unknown.
func hyperVGeneration(g int) string {
	switch g {
	case 1:
		return "V1"
	case 2:
		return "V2"
	}
	return ""
}
