package quant

// Noise is the stream of uniform numbers for stochastic rounding of one
// operand of one product: element idx (its row-major index in the window,
// row·Cols + col) draws from Mix64(Key + (Base+idx)·Golden), so any element
// can be rounded independently (and in parallel) with the same result.
type Noise struct {
	// Key selects the stream; derive it with Mix64 from whatever must make
	// streams differ (seed, node, call, operand).
	Key uint64
	// Base is the index of the window's first element in the whole
	// operand (0 for a whole operand).
	Base int
}

// Golden is 2⁶⁴/φ, odd: the increment of SplitMix64's counter, which
// spreads consecutive indices across the 64-bit space.
const Golden = 0x9e3779b97f4a7c15

// Mix64 is SplitMix64's finaliser: a bijection with full avalanche, enough
// for rounding decisions and for deriving Noise keys (not for cryptography).
func Mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns the element's number in [0, 1) with 53 random bits.
func (n Noise) uniform(idx int) float64 {
	return float64(Mix64(n.counter(idx))>>11) * 0x1p-53
}

// counter is the input of Mix64 that element idx draws from.
func (n Noise) counter(idx int) uint64 { return n.Key + uint64(n.Base+idx)*Golden }
