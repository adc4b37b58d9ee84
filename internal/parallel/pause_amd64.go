//go:build !purego

package parallel

// pause spins for a few dozen cycles, politely (PAUSE).
//
//go:noescape
func pause()
