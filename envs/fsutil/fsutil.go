// Package fsutil is the one implementation of crash-safe file writing in
// commgraph: every file the project writes whole (checkpoints, metrics
// rewrites, summaries, graph exports, sweep tables, optimum files, reports)
// goes through WriteFile or WriteFileWith, and every directory that may hold
// leftovers of a killed writer is cleaned with RemoveTemps.
//
// # Where it lives, and why
//
// The top-level layout is fixed and dependencies point one way:
// cmd -> experiments -> marl -> (comm, attention), and experiments and marl
// -> envs; envs imports none of the others. Writers exist at every level,
// from envs/exhaustive (which may import nothing of ours but envs) to comm
// (which must not depend on environments) to experiments. The only place all
// of them may import is a leaf under the bottom layer, so this package sits
// in envs/ but knows nothing about environments: it imports only the
// standard library, and comm importing it does not make comm depend on the
// environment contracts.
//
// # The protocol
//
// WriteFileWith(path, write) creates a temporary file in path's directory,
// named
//
//	.<base>.<digits>.tmp
//
// (a dot, the target's base name, a dot, a random decimal number chosen by
// os.CreateTemp, ".tmp"), hands it to write, fsyncs it, makes it
// world-readable (0644; CreateTemp makes it 0600), renames it over path and
// fsyncs the directory so that the rename itself survives a power loss. A
// reader, or a process killed at any instant, sees the old content or the
// complete new one, never a part. If anything fails the temporary file is
// removed and path is untouched. A kill between creating and renaming the
// temporary file leaves it behind; RemoveTemps(dir) deletes exactly the
// names of that pattern (isTemp), nothing else.
//
// Syncing a directory is best effort: some file systems and platforms refuse
// it, and then the rename is as durable as the system makes it.
package fsutil

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tempSuffix ends every temporary name.
const tempSuffix = ".tmp"

// WriteFile atomically replaces path with data (see the package doc).
func WriteFile(path string, data []byte) error {
	return WriteFileWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileWith atomically replaces path with what write produces (see the
// package doc). Errors name path.
func WriteFileWith(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Rename renames oldpath to newpath and syncs newpath's directory, so that
// after it returns the new name survives a crash. Use it to publish a file
// that was written and fsynced under another name in the same directory
// (e.g. a finished .partial table).
func Rename(oldpath, newpath string) error {
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	SyncDir(filepath.Dir(newpath))
	return nil
}

// SyncDir fsyncs a directory, making renames and creations in it durable.
// It is best effort: errors (a file system or platform that cannot sync a
// directory) are ignored.
func SyncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// isTemp reports whether name (a base name) is a temporary name made by
// WriteFileWith: ".<base>.<digits>.tmp" with a non-empty base.
func isTemp(name string) bool {
	if !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, tempSuffix) {
		return false
	}
	rest := strings.TrimSuffix(name[1:], tempSuffix)
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 || i == len(rest)-1 {
		return false
	}
	for _, c := range rest[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveTemps deletes the leftovers of interrupted WriteFileWith calls in
// dir (the names isTemp accepts; nothing else, and no subdirectories). A
// missing dir is not an error. It returns the first removal error.
func RemoveTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var first error
	for _, e := range ents {
		if e.Type().IsRegular() && isTemp(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}
