package replication

import (
	"encoding/json"
	"fmt"
	"strings"
)

// VMDefinition describes the VM to create from copied disks. Generation,
// vCPUs, memory and NICs are zero or empty while hosts do not report them
// in their inventory; the ARM template then takes them as parameters.
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

// DefinitionNIC is one network adapter.
type DefinitionNIC struct {
	Name string `json:"name"`
	MAC  string `json:"mac"`
}

// DefinitionDisk is one disk: the page blob holding it as a fixed VHD.
type DefinitionDisk struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
	BlobURL   string `json:"blob_url"`
	OSDisk    bool   `json:"os_disk"`
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
// blob as a managed disk and creates a VM with a NIC on a given subnet.
func (d VMDefinition) ARMTemplate() ([]byte, error) {
	name := armName(d.Name)
	var resources []any
	var dataDisks []any
	osDiskID := ""
	for i, disk := range d.Disks {
		dn := fmt.Sprintf("%s-disk%d", name, i)
		props := map[string]any{"creationData": map[string]any{"createOption": "Import", "sourceUri": disk.BlobURL,
			"storageAccountId": "[parameters('storageAccountId')]"}}
		if disk.OSDisk {
			props["osType"] = "[parameters('osType')]"
			props["hyperVGeneration"] = hyperVGeneration(d.Generation)
			osDiskID = fmt.Sprintf("[resourceId('Microsoft.Compute/disks', '%s')]", dn)
		} else {
			dataDisks = append(dataDisks, map[string]any{"lun": len(dataDisks), "createOption": "Attach",
				"managedDisk": map[string]any{"id": fmt.Sprintf("[resourceId('Microsoft.Compute/disks', '%s')]", dn)}})
		}
		resources = append(resources, map[string]any{"type": "Microsoft.Compute/disks", "apiVersion": "2023-04-02",
			"name": dn, "location": "[parameters('location')]", "sku": map[string]any{"name": "[parameters('diskSku')]"},
			"properties": props})
	}
	nic := name + "-nic0"
	resources = append(resources, map[string]any{"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2023-09-01",
		"name": nic, "location": "[parameters('location')]", "properties": map[string]any{"ipConfigurations": []any{
			map[string]any{"name": "ipconfig1", "properties": map[string]any{"subnet": map[string]any{"id": "[parameters('subnetId')]"},
				"privateIPAllocationMethod": "Dynamic"}}}}})
	resources = append(resources, d.armVM(name, nic, osDiskID, dataDisks))
	tmpl := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"parameters":     d.armParameters(),
		"resources":      resources,
	}
	return json.MarshalIndent(tmpl, "", "  ")
}

func (d VMDefinition) armVM(name, nic, osDiskID string, dataDisks []any) map[string]any {
	depends := []any{fmt.Sprintf("[resourceId('Microsoft.Network/networkInterfaces', '%s')]", nic)}
	for i := range d.Disks {
		depends = append(depends, fmt.Sprintf("[resourceId('Microsoft.Compute/disks', '%s-disk%d')]", name, i))
	}
	return map[string]any{"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2023-09-01", "name": name,
		"location": "[parameters('location')]", "dependsOn": depends,
		"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": "[parameters('vmSize')]"},
			"storageProfile": map[string]any{"osDisk": map[string]any{"createOption": "Attach", "osType": "[parameters('osType')]",
				"managedDisk": map[string]any{"id": osDiskID}}, "dataDisks": dataDisks},
			"networkProfile": map[string]any{"networkInterfaces": []any{map[string]any{
				"id": fmt.Sprintf("[resourceId('Microsoft.Network/networkInterfaces', '%s')]", nic)}}},
		}}
}

func (d VMDefinition) armParameters() map[string]any {
	str := func(def any) map[string]any {
		p := map[string]any{"type": "string"}
		if def != nil {
			p["defaultValue"] = def
		}
		return p
	}
	return map[string]any{"location": str("[resourceGroup().location]"), "vmSize": str("Standard_D2s_v3"),
		"osType": str("Windows"), "diskSku": str("Standard_LRS"), "storageAccountId": str(nil), "subnetId": str(nil)}
}

func hyperVGeneration(g int) string {
	if g == 1 {
		return "V1"
	}
	return "V2"
}
