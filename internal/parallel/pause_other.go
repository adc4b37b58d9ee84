//go:build !amd64 || purego

package parallel

// pause is a no-op without an assembly spin hint.
func pause() {}
