package pouw

// denoise turns the noisy product C' = A'·B' (in dst) into the exact A·B (§7):
//
//	A·B = A'B' − (A·E_BL)·E_BR − E_AL·(E_AR·B')
//
// A·E_BL (m×r) and E_AR·B' (r×n) come from the sparse pairs with additions
// only; the two rank-r products cost 2rmn. Arithmetic wraps in int32, which
// is exact because the true result fits.
func denoise(dst []int32, a, noisyBT []int8, m, n, k int, nz *Noise) {
	r := nz.Rank
	// aBL[i][f] = Σ_l A[i][l]·E_BL[l][f]: +A[i][l] at firstB(l), −A[i][l] at secondB(l).
	aBL := make([]int32, m*r)
	for i := 0; i < m; i++ {
		sparseRowTimesPairs(aBL[i*r:(i+1)*r], a[i*k:(i+1)*k], nz.PairsB)
	}
	// arBT[j][f] = (E_AR·B')[f][j], kept transposed so both products below
	// read rows of length r.
	arBT := make([]int32, n*r)
	for j := 0; j < n; j++ {
		sparseRowTimesPairs(arBT[j*r:(j+1)*r], noisyBT[j*k:(j+1)*k], nz.PairsA)
	}
	for i := 0; i < m; i++ {
		p, al := aBL[i*r:(i+1)*r], nz.AL[i*r:(i+1)*r]
		row := dst[i*n : (i+1)*n]
		for j := range row {
			brt, q := nz.BRT[j*r:(j+1)*r], arBT[j*r:(j+1)*r]
			var corr int32
			for f := 0; f < r; f++ {
				corr += p[f]*int32(brt[f]) + int32(al[f])*q[f]
			}
			row[j] -= corr
		}
	}
}

// sparseRowTimesPairs sets dst (len r) to x·S, where S (k×r) has +1 at
// (l, First) and −1 at (l, Second) in every row l.
func sparseRowTimesPairs(dst []int32, x []int8, pairs []NoisePair) {
	clear(dst)
	for l, p := range pairs {
		v := int32(x[l])
		dst[p.First] += v
		dst[p.Second] -= v
	}
}
