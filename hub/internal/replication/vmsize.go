package replication

import (
	"fmt"
	"strings"
)

// vmSize is one Azure VM size the template can propose.
type vmSize struct {
	Name         string
	VCPUs        int
	MemoryGiB    int64
	MaxNICs      int
	MaxDataDisks int
}

// vmSizes is the table the template's vmSize comes from: the Dsv5 family
// (general purpose, 4 GiB per vCPU, premium storage), smallest first, with
// each size's vCPUs, memory, NIC and data disk limits as Azure documents
// them. It is
// a starting point, not a sizing: memory-heavy sources get more vCPUs than
// they had, a source larger than the largest size gets the largest, and
// the region's offer and the subscription's quota are not checked. The
// operator reviews the proposal (the template's vmSize parameter) before
// deploying.
func vmSizes() []vmSize {
	return []vmSize{
		{"Standard_D2s_v5", 2, 8, 2, 4},
		{"Standard_D4s_v5", 4, 16, 2, 8},
		{"Standard_D8s_v5", 8, 32, 4, 16},
		{"Standard_D16s_v5", 16, 64, 8, 32},
		{"Standard_D32s_v5", 32, 128, 8, 32},
		{"Standard_D48s_v5", 48, 192, 8, 32},
		{"Standard_D64s_v5", 64, 256, 8, 32},
		{"Standard_D96s_v5", 96, 384, 8, 32},
	}
}

// SizeFor proposes the smallest size of the table that has at least the
// source's vCPUs, memory, NICs and data disks; unknown (0) values ask for
// nothing, so a source that reported none gets the smallest size, and one
// beyond the table gets the largest.
func SizeFor(vcpus int, memoryBytes int64, nics, dataDisks int) string {
	sizes := vmSizes()
	for _, s := range sizes {
		if s.VCPUs >= vcpus && s.MemoryGiB<<30 >= memoryBytes && s.MaxNICs >= nics && s.MaxDataDisks >= dataDisks {
			return s.Name
		}
	}
	return sizes[len(sizes)-1].Name
}

// SizeTable renders the table for people: "Standard_D2s_v5 (2 vCPUs,
// 8 GiB, 2 NICs, 4 data disks), ...".
func SizeTable() string {
	var parts []string
	for _, s := range vmSizes() {
		parts = append(parts, fmt.Sprintf("%s (%d vCPUs, %d GiB, %d NICs, %d data disks)", s.Name, s.VCPUs, s.MemoryGiB, s.MaxNICs, s.MaxDataDisks))
	}
	return strings.Join(parts, ", ")
}
