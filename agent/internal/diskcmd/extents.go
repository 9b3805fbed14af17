package diskcmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"hvmigrate/shared/vdisk"
)

// ExtentLine is one line of `disk extents` output.
type ExtentLine struct {
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Kind   string `json:"kind"`
}

// WriteExtents writes one JSON object per extent, one per line.
func WriteExtents(img vdisk.Image, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	for e, err := range img.Extents() {
		if err != nil {
			return fmt.Errorf("extents: %w", err)
		}
		if err := enc.Encode(ExtentLine{Offset: e.Offset, Length: e.Length, Kind: e.Kind.String()}); err != nil {
			return err
		}
	}
	return bw.Flush()
}
