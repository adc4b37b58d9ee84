package pouw

// patternSize is the serialised length of a periodic pattern (§2).
const patternSize = 6

// maxPatternPeriod bounds the span of a pattern (§2).
const maxPatternPeriod = 1 << 24

// patternDims is the number of (stride, length) dimensions in a pattern.
const patternDims = 3

// patternDim is one dimension of a periodic pattern: length indices stride apart.
type patternDim struct {
	stride uint32
	length uint32
}

// Pattern describes the rows (or columns) of one tile relative to the tile's
// offset: the index set {a·s0 + b·s1 + c·s2 : a < l0, b < l1, c < l2}.
// Patterns are built by Contiguous, FromList and UnmarshalBinary, which hold
// them in canonical form, so two equal index sets have equal Patterns. The
// zero Pattern is not valid: no configuration accepts it.
type Pattern struct {
	dims [patternDims]patternDim
}

// Contiguous returns the pattern of n consecutive indices [0, n).
func Contiguous(n int) (Pattern, error) {
	if n <= 0 || n > 256 {
		return Pattern{}, ruleErr(ErrPattern, "pattern: %d contiguous indices, want 1 to 256", n)
	}
	idx := make([]uint32, n)
	for i := range idx {
		idx[i] = uint32(i)
	}
	return FromList(idx)
}

// FromList builds the canonical pattern of an index list, as a verifier does
// from the opened row indices minus the tile offset. The list must start at 0
// and be strictly ascending; it must be a product of at most three arithmetic
// progressions whose strides nest.
func FromList(indices []uint32) (Pattern, error) {
	if len(indices) == 0 {
		return Pattern{}, ruleErr(ErrPattern, "pattern: empty index list")
	}
	if indices[0] != 0 {
		return Pattern{}, ruleErr(ErrPattern, "pattern: index list starts at %d, want 0", indices[0])
	}
	for i := 1; i < len(indices); i++ {
		if indices[i] <= indices[i-1] {
			return Pattern{}, ruleErr(ErrPattern, "pattern: indices not strictly ascending at position %d", i)
		}
	}
	// Peel off the outermost dimension each round: the smallest period p that
	// splits the list into len/p shifted copies of its first p entries.
	x := indices
	var dims []patternDim
	for len(x) > 1 {
		p := smallestPeriod(x)
		if p == 0 {
			return Pattern{}, ruleErr(ErrPattern, "pattern: %d indices are not periodic", len(x))
		}
		dims = append(dims, patternDim{stride: x[p], length: uint32(len(x) / p)})
		x = x[:p]
	}
	if len(dims) > patternDims {
		return Pattern{}, ruleErr(ErrPattern, "pattern: needs %d dimensions, at most %d allowed", len(dims), patternDims)
	}
	var pat Pattern
	for i := range dims {
		pat.dims[i] = dims[len(dims)-1-i]
	}
	period := uint64(1)
	if len(dims) > 0 {
		last := pat.dims[len(dims)-1]
		period = uint64(last.stride) * uint64(last.length)
	}
	if period > maxPatternPeriod {
		return Pattern{}, ruleErr(ErrPattern, "pattern: period %d exceeds %d", period, maxPatternPeriod)
	}
	for i := len(dims); i < patternDims; i++ {
		pat.dims[i] = patternDim{stride: uint32(period), length: 1}
	}
	// A list FromList can split but the encoding cannot represent (strides
	// that do not nest, lengths over 256) is rejected here.
	if _, err := pat.encode(); err != nil {
		return Pattern{}, err
	}
	return pat, nil
}

// smallestPeriod returns the smallest p in [1, len(x)) with len(x) % p == 0
// and x[i] + x[p] == x[i+p] for every i, or 0 if there is none.
func smallestPeriod(x []uint32) int {
	for p := 1; p < len(x); p++ {
		if len(x)%p != 0 {
			continue
		}
		ok := true
		for i := 0; i+p < len(x); i++ {
			if x[i]+x[p] != x[i+p] {
				ok = false
				break
			}
		}
		if ok {
			return p
		}
	}
	return 0
}

// MarshalBinary returns the 6-byte serialisation (§2).
func (p Pattern) MarshalBinary() ([]byte, error) {
	b, err := p.encode()
	if err != nil {
		return nil, err
	}
	return b[:], nil
}

// UnmarshalBinary parses a 6-byte pattern strictly (see decodePattern); on
// error p is left unchanged.
func (p *Pattern) UnmarshalBinary(b []byte) error {
	q, err := decodePattern(b)
	if err == nil {
		*p = q
	}
	return err
}

// canonical reports a pattern that cannot be encoded (the zero Pattern).
func (p Pattern) canonical() error {
	_, err := p.encode()
	return err
}

// bytes is the serialisation of a pattern already known to be canonical;
// a pattern that is not gives zero bytes.
func (p Pattern) bytes() [patternSize]byte {
	b, _ := p.encode()
	return b
}

// encode serialises each dimension as (factor−1, length−1), where factor is
// the stride divided by the span of the dimensions before it, and checks
// that the bytes decode to the same pattern (Pearl's is_valid).
func (p Pattern) encode() ([patternSize]byte, error) {
	var b [patternSize]byte
	minStride := uint64(1)
	for i, d := range p.dims {
		stride, length := uint64(d.stride), uint64(d.length)
		if length == 0 || stride == 0 || stride%minStride != 0 || stride/minStride > 256 || length > 256 {
			return [patternSize]byte{}, ruleErr(ErrPattern, "pattern: dimension %d (stride %d, length %d) cannot be encoded", i, stride, length)
		}
		b[2*i] = byte(stride/minStride - 1)
		b[2*i+1] = byte(length - 1)
		minStride = stride * length
	}
	back, err := decodePattern(b[:])
	if err != nil {
		return [patternSize]byte{}, ruleErr(ErrPattern, "pattern %v: %v", p.dims, err)
	}
	if back != p {
		return [patternSize]byte{}, ruleErr(ErrPattern, "pattern %v does not round-trip (%x decodes to %v)", p.dims, b, back.dims)
	}
	return b, nil
}

// decodePattern parses a 6-byte pattern strictly (§2): once a dimension has
// length 1 every later one must be 00 00; a used dimension after the first
// must multiply the period by at least 2 (a single stride is never split in
// two); the period never exceeds 2²⁴. It enumerates nothing, so its cost does
// not depend on the pattern's size.
func decodePattern(b []byte) (Pattern, error) {
	if len(b) != patternSize {
		return Pattern{}, ruleErr(ErrBadEncoding, "pattern: %d bytes, want %d", len(b), patternSize)
	}
	var p Pattern
	minStride := uint64(1)
	done := false
	for i := range p.dims {
		factor, length := uint64(b[2*i])+1, uint64(b[2*i+1])+1
		switch {
		case done || length == 1:
			if factor != 1 || length != 1 {
				return Pattern{}, ruleErr(ErrBadEncoding, "pattern %x: dimension %d must be 00 00 after a length-1 dimension", b, i)
			}
			done = true
		case factor == 1 && minStride != 1:
			return Pattern{}, ruleErr(ErrBadEncoding, "pattern %x: dimension %d continues the stride of dimension %d", b, i, i-1)
		}
		if minStride*factor*length > maxPatternPeriod {
			return Pattern{}, ruleErr(ErrBadEncoding, "pattern %x: period exceeds %d", b, maxPatternPeriod)
		}
		stride := factor * minStride
		p.dims[i] = patternDim{stride: uint32(stride), length: uint32(length)}
		minStride = stride * length
	}
	return p, nil
}

// Len is the number of indices in the pattern (the tile's height or width).
func (p Pattern) Len() int {
	n := 1
	for _, d := range p.dims {
		n *= int(d.length)
	}
	return n
}

// Max is the largest index of the pattern.
func (p Pattern) Max() uint32 {
	var m uint32
	for _, d := range p.dims {
		m += d.stride * (d.length - 1)
	}
	return m
}

// Period is the span after which the pattern repeats: stride·length of its
// outermost dimension.
func (p Pattern) Period() uint32 {
	d := p.dims[patternDims-1]
	return d.stride * d.length
}

// Indices lists the pattern's indices in ascending order.
func (p Pattern) Indices() []uint32 {
	out := make([]uint32, 0, p.Len())
	d := p.dims
	for c := uint32(0); c < d[2].length; c++ {
		for b := uint32(0); b < d[1].length; b++ {
			for a := uint32(0); a < d[0].length; a++ {
				out = append(out, a*d[0].stride+b*d[1].stride+c*d[2].stride)
			}
		}
	}
	return out
}

// IsContiguous reports whether the pattern is [0, Len()).
func (p Pattern) IsContiguous() bool {
	return p.dims[0].stride == 1 && p.dims[1].length == 1
}

// ValidOffset reports whether o may be a tile offset: tiles at valid offsets
// are disjoint and together cover every index (§2).
func (p Pattern) ValidOffset(o uint64) bool {
	for i := patternDims - 1; i >= 0; i-- {
		d := p.dims[i]
		o %= uint64(d.stride) * uint64(d.length)
		if o >= uint64(d.stride) {
			return false
		}
	}
	return true
}

// Offsets lists every valid tile offset o with o + Max() < size, ascending.
//
// ValidOffset depends only on o modulo Period (its first step), so only the
// first period is tested and then repeated: testing every o (three divisions
// each) cost 20 µs per mined 128×1024 output, as much as its tickets.
func (p Pattern) Offsets(size int) []int {
	last := size - 1 - int(p.Max()) // the largest admissible offset
	if last < 0 {
		return nil
	}
	period := int(p.Period())
	var base []int
	for o := 0; o < period && o <= last; o++ {
		if p.ValidOffset(uint64(o)) {
			base = append(base, o)
		}
	}
	var out []int
	for start := 0; start <= last; start += period {
		for _, b := range base {
			if start+b > last {
				return out
			}
			out = append(out, start+b)
		}
	}
	return out
}
