// Package impltest runs a test under every implementation that this CPU has
// of the packages registered with package impl.
package impltest

import (
	"testing"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

// Run calls f as a subtest once for each supported implementation of each
// package in pkgs (the other packages left at their fastest), and once more
// with every implementation of pkgs switched off, so the portable Go code
// runs. The subtests are named "pkg=name" and "generic". The defaults are
// restored when Run returns. The subtests must not call t.Parallel.
func Run(t *testing.T, f func(t *testing.T), pkgs ...string) {
	t.Helper()
	defer func() {
		for _, p := range pkgs {
			impl.Reset(p)
		}
	}()
	for _, p := range pkgs {
		for _, name := range impl.List(p) {
			impl.Select(p, name)
			t.Run(p+"="+name, f)
			impl.Reset(p)
		}
	}
	for _, p := range pkgs {
		impl.Select(p, "")
	}
	t.Run("generic", f)
}
