//go:build !unix

package experiments

import "os"

// tryLock where flock is unavailable: the LOCK file's content decides (a
// holder recorded with this host's name and a live pid holds it).
func tryLock(*os.File) (bool, error) { return false, nil }

// processAlive reports whether pid names a running process.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}

const lockIsAdvisoryFlock = false
