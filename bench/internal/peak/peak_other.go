//go:build !amd64 || purego

package peak

const macsPerIter = 0

func available() bool { return false }

func vnniLoop(iters int) {}
