//go:build !amd64 || purego

package train

// adamStep32 is the Go loop where no assembly is built.
func adamStep32(w, g, m, v []float32, p *adamParams[float32]) { adamStep(w, g, m, v, p) }
