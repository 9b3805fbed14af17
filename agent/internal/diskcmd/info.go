package diskcmd

import (
	"fmt"

	"hvmigrate/shared/vdisk"
)

// Info is what `disk info` prints as JSON.
type Info struct {
	Path               string     `json:"path"`
	Format             string     `json:"format"`
	Subformat          string     `json:"subformat,omitempty"`
	VirtualSize        int64      `json:"virtual_size"`
	LogicalSectorSize  int        `json:"logical_sector_size"`
	PhysicalSectorSize int        `json:"physical_sector_size"`
	BlockSize          int64      `json:"block_size,omitempty"`
	AllocatedBytes     int64      `json:"allocated_bytes"`
	Identity           IdentityJS `json:"identity"`
	// Parents lists the parent chain, the direct parent first.
	Parents  []Layer  `json:"parents,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Layer is one parent of a differencing disk.
type Layer struct {
	Path      string     `json:"path"`
	Format    string     `json:"format"`
	Subformat string     `json:"subformat,omitempty"`
	BlockSize int64      `json:"block_size,omitempty"`
	Identity  IdentityJS `json:"identity"`
}

// IdentityJS is vdisk.Identity with the identifiers a format lacks left out.
type IdentityJS struct {
	DiskID        string `json:"disk_id,omitempty"`
	DataWriteGUID string `json:"data_write_guid,omitempty"`
	FileWriteGUID string `json:"file_write_guid,omitempty"`
}

func identityJS(id vdisk.Identity) IdentityJS {
	s := func(g vdisk.GUID) string {
		if g.IsZero() {
			return ""
		}
		return g.String()
	}
	return IdentityJS{DiskID: s(id.DiskID), DataWriteGUID: s(id.DataWriteGUID), FileWriteGUID: s(id.FileWriteGUID)}
}

// warner is implemented by readers that record accepted oddities.
type warner interface{ Warnings() []string }

// Describe gathers the Info of an opened disk; it walks the extents (no
// data is read) to sum the allocated bytes.
func Describe(img vdisk.Image) (Info, error) {
	d := img.Describe()
	info := Info{
		Path: d.Path, Format: d.Format, Subformat: d.Subformat, VirtualSize: img.Size(),
		LogicalSectorSize: img.LogicalSectorSize(), PhysicalSectorSize: img.PhysicalSectorSize(),
		BlockSize: d.BlockSize, Identity: identityJS(img.Identity()),
	}
	for p := d.Parent; p != nil; p = p.Parent {
		info.Parents = append(info.Parents, Layer{Path: p.Path, Format: p.Format, Subformat: p.Subformat,
			BlockSize: p.BlockSize, Identity: identityJS(p.Identity)})
	}
	if w, ok := img.(warner); ok {
		info.Warnings = w.Warnings()
	}
	for e, err := range img.Extents() {
		if err != nil {
			return info, fmt.Errorf("extents: %w", err)
		}
		if e.Kind == vdisk.KindData {
			info.AllocatedBytes += e.Length
		}
	}
	return info, nil
}
