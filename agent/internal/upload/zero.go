package upload

import "bytes"

// sector is the unit of zero detection: the smallest page blob write.
const sector = 512

// span is a byte range [Off, Off+Len) relative to a buffer.
type span struct{ Off, Len int }

// dataSpans returns the ranges of buf (a whole number of sectors) that hold
// a non-zero byte, at sector granularity. Zero gaps shorter than minGap
// between two data ranges are kept inside one range: one larger request is
// cheaper than two small ones. Detection compares whole sectors with a zero
// sector, which the runtime does with vector instructions.
func dataSpans(buf []byte, minGap int, zero []byte) []span {
	var spans []span
	start, lastData := -1, -1
	for off := 0; off < len(buf); off += sector {
		if bytes.Equal(buf[off:off+sector], zero) {
			continue
		}
		switch {
		case start < 0:
			start = off
		case off-(lastData+sector) >= minGap:
			spans = append(spans, span{Off: start, Len: lastData + sector - start})
			start = off
		}
		lastData = off
	}
	if start >= 0 {
		spans = append(spans, span{Off: start, Len: lastData + sector - start})
	}
	return spans
}
