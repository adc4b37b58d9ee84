// Package impl is the registry of this module's CPU-specific implementations
// (the assembly kernels), so that one test helper can run a package's tests
// under every implementation the CPU has, and under none of them.
//
// A package with an assembly path registers the boolean that switches it on,
// once, at initialisation:
//
//	var hasAVX512 = cpu.X86.HasAVX512F && …
//
//	func init() { impl.Register("gemm", "avx512-vnni", &hasAVX512) }
//
// and consults that boolean every time it dispatches. Builds with the purego
// tag (or for other architectures) register nothing: only the portable Go
// code exists there. Outside tests nothing changes a registered boolean, so
// production code always runs the fastest implementation the CPU supports.
package impl

import (
	"slices"
	"sync"
)

type entry struct {
	pkg, name string
	on        *bool
	supported bool // what the CPU allowed at registration
}

var (
	mu       sync.Mutex
	registry []*entry
)

// Register records that package pkg has an implementation called name that
// runs while *on is true. The value of *on at registration is taken as what
// this CPU supports; Select never enables more than that.
func Register(pkg, name string, on *bool) {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range registry {
		if e.pkg == pkg && e.name == name {
			panic("impl: " + pkg + "/" + name + " registered twice")
		}
	}
	registry = append(registry, &entry{pkg: pkg, name: name, on: on, supported: *on})
}

// Packages lists the packages that registered an implementation, sorted.
func Packages() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for _, e := range registry {
		if !slices.Contains(out, e.pkg) {
			out = append(out, e.pkg)
		}
	}
	slices.Sort(out)
	return out
}

// List returns the names of pkg's implementations that this CPU supports, in
// registration order (fastest first, by convention).
func List(pkg string) []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for _, e := range registry {
		if e.pkg == pkg && e.supported {
			out = append(out, e.name)
		}
	}
	return out
}

// Select switches on only the implementation name of pkg, or none of them
// when name is "" (the portable Go code then runs). It reports false, and
// changes nothing, when name is not a supported implementation of pkg.
// Select is for tests: it is not safe while pkg's code runs.
func Select(pkg, name string) bool {
	mu.Lock()
	defer mu.Unlock()
	if name != "" && !slices.ContainsFunc(registry, func(e *entry) bool {
		return e.pkg == pkg && e.name == name && e.supported
	}) {
		return false
	}
	for _, e := range registry {
		if e.pkg == pkg {
			*e.on = e.supported && e.name == name
		}
	}
	return true
}

// Reset switches every implementation of pkg back to what the CPU supports.
func Reset(pkg string) {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range registry {
		if e.pkg == pkg {
			*e.on = e.supported
		}
	}
}

// Active returns the name of pkg's first implementation that is switched on,
// or "generic" when none is: what pkg's code runs now.
func Active(pkg string) string {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range registry {
		if e.pkg == pkg && *e.on {
			return e.name
		}
	}
	return "generic"
}
