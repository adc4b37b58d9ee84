package pouw

import (
	"math"
	"math/big"
)

// CompactToBig expands a Bitcoin compact target (nbits, §6) the way Bitcoin
// and btcd do: mantissa·256^(exponent−3), negative when the sign bit is set.
func CompactToBig(compact uint32) *big.Int {
	mantissa := compact & 0x007fffff
	negative := compact&0x00800000 != 0
	exponent := uint(compact >> 24)
	var bn *big.Int
	if exponent <= 3 {
		mantissa >>= 8 * (3 - exponent)
		bn = big.NewInt(int64(mantissa))
	} else {
		bn = big.NewInt(int64(mantissa))
		bn.Lsh(bn, 8*(exponent-3))
	}
	if negative {
		bn.Neg(bn)
	}
	return bn
}

// BigToCompact is the inverse of CompactToBig for canonical values: it keeps
// the three most significant bytes of n.
func BigToCompact(n *big.Int) uint32 {
	if n.Sign() == 0 {
		return 0
	}
	abs := new(big.Int).Abs(n)
	exponent := uint(len(abs.Bytes()))
	var mantissa uint32
	if exponent <= 3 {
		mantissa = uint32(abs.Uint64()) << (8 * (3 - exponent))
	} else {
		mantissa = uint32(new(big.Int).Rsh(abs, 8*(exponent-3)).Uint64())
	}
	// The mantissa's top bit is the sign: shift it out into the exponent.
	if mantissa&0x00800000 != 0 {
		mantissa >>= 8
		exponent++
	}
	compact := uint32(exponent<<24) | mantissa
	if n.Sign() < 0 {
		compact |= 0x00800000
	}
	return compact
}

// maxUint256 is 2²⁵⁶ − 1, where bounds saturate.
var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// two256 is 2²⁵⁶, the size of the ticket space.
var two256 = new(big.Int).Lsh(big.NewInt(1), 256)

// Target expands nbits and checks it is usable: positive and below 2²⁵⁶.
func Target(nbits uint32) (*big.Int, error) {
	if nbits&0x00800000 != 0 && nbits&0x007fffff != 0 {
		return nil, ruleErr(ErrTarget, "nbits %#08x: negative target", nbits)
	}
	t := CompactToBig(nbits)
	if t.Sign() <= 0 {
		return nil, ruleErr(ErrTarget, "nbits %#08x: zero target", nbits)
	}
	if t.Cmp(maxUint256) > 0 {
		return nil, ruleErr(ErrTarget, "nbits %#08x: target overflows 256 bits", nbits)
	}
	return t, nil
}

// expectedMACs is 2²⁵⁶ / target: the expected multiply-accumulates of mined
// work per winning tile under the plain bound (§5).
func expectedMACs(target *big.Int) float64 {
	if target.Sign() <= 0 {
		return math.Inf(1)
	}
	q := new(big.Float).Quo(new(big.Float).SetInt(two256), new(big.Float).SetInt(target))
	f, _ := q.Float64()
	return f
}

// targetForExpectedMACs returns the target at which one proof is expected per
// macs multiply-accumulates (plain bound), clamped to [1, 2²⁵⁶−1].
func targetForExpectedMACs(macs float64) *big.Int {
	if !(macs > 1) {
		return new(big.Int).Set(maxUint256)
	}
	q := new(big.Float).Quo(new(big.Float).SetInt(two256), big.NewFloat(macs))
	t, _ := q.Int(nil)
	if t.Sign() <= 0 {
		return big.NewInt(1)
	}
	if t.Cmp(maxUint256) > 0 {
		return new(big.Int).Set(maxUint256)
	}
	return t
}
