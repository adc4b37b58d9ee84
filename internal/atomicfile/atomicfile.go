// Package atomicfile writes files so that a crash, a kill or a full disk
// leaves either the complete new file or none: never a torn one.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// tempPrefix and tempInfix name a temporary file: "." + final name +
// ".tmp-" + random, in the final file's directory, so that the rename is
// atomic and the temporary file is hidden from globs of final names.
const (
	tempPrefix = "."
	tempInfix  = ".tmp-"
)

// WriteFile writes data to path through a temporary file in the same
// directory: write, fsync, chmod to perm, close, rename over path, fsync the
// directory. On any error the temporary file is removed and path is
// untouched.
func WriteFile(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPrefix+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file private (0600).
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is durable only once the directory is synced; a failure
	// here loses nothing already written, so it is not reported.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// staleAge is how old a temporary file must be before RemoveStale takes it
// for the leftover of a killed writer rather than another process's write
// in flight (which takes milliseconds).
const staleAge = time.Minute

// RemoveStale removes, from dir, the temporary files that WriteFile left
// behind when its process was killed, for final names matching glob (e.g.
// "proof-*.json"). Finished files are never touched. It returns how many it
// removed.
func RemoveStale(dir, glob string) (int, error) {
	matches, err := filepath.Glob(filepath.Join(dir, tempPrefix+glob+tempInfix+"*"))
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, f := range matches {
		info, err := os.Lstat(f)
		if err != nil || !info.Mode().IsRegular() || time.Since(info.ModTime()) < staleAge {
			continue
		}
		if os.Remove(f) == nil {
			removed++
		}
	}
	return removed, nil
}
