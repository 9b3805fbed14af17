package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

var (
	errSyntax   = errors.New("not a number")
	errOverflow = errors.New("too large")
	errFraction = errors.New("not a whole number")
)

// scale parses a non-negative decimal such as "1.5" and multiplies it by
// unit exactly, in integers. The product must be whole.
func scale(num string, unit int64) (int64, error) {
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" || strings.ContainsAny(num, "+-eE_") || len(frac) > 18 {
		return 0, errSyntax
	}
	w := int64(0)
	if whole != "" {
		var err error
		if w, err = strconv.ParseInt(whole, 10, 64); err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return 0, errOverflow
			}
			return 0, errSyntax
		}
	}
	if w > math.MaxInt64/unit {
		return 0, errOverflow
	}
	v := w * unit
	if frac == "" {
		return v, nil
	}
	f, err := strconv.ParseUint(frac, 10, 64)
	if err != nil {
		return 0, errSyntax
	}
	den := pow10(len(frac))
	hi, lo := mul64(f, uint64(unit))
	if hi != 0 || lo%den != 0 {
		if hi != 0 {
			return 0, errOverflow
		}
		return 0, errFraction
	}
	add := lo / den
	if add > uint64(math.MaxInt64-v) {
		return 0, errOverflow
	}
	return v + int64(add), nil
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// mul64 returns the 128-bit product of a and b.
func mul64(a, b uint64) (hi, lo uint64) {
	const mask = 1<<32 - 1
	a1, a0 := a>>32, a&mask
	b1, b0 := b>>32, b&mask
	p00, p01, p10, p11 := a0*b0, a0*b1, a1*b0, a1*b1
	mid := p00>>32 + p01&mask + p10&mask
	lo = mid<<32 | p00&mask
	hi = p11 + p01>>32 + p10>>32 + mid>>32
	return hi, lo
}

// format prints v/unit with at most two decimals if that is exact, else "".
func format(v, unit int64) string {
	q, r := v/unit, v%unit
	if r == 0 {
		return strconv.FormatInt(q, 10)
	}
	if r < 0 || (r*100)%unit != 0 { // r < unit <= 2^50, so r*100 fits
		return ""
	}
	return strings.TrimRight(fmt.Sprintf("%d.%02d", q, r*100/unit), "0")
}
