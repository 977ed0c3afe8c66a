//go:build unix

package experiments

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive advisory lock (flock) on f without waiting;
// held reports that another process holds it. The kernel drops the lock
// when the holder closes the file or dies, so a killed run never leaves a
// stale lock: its LOCK file only records who held it last.
func tryLock(f *os.File) (held bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

// processAlive is only needed where flock is missing.
func processAlive(int) bool { return true }

const lockIsAdvisoryFlock = true
