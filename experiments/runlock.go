package experiments

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// lockName is the lock file of a run directory. While a run works in the
// directory it holds an exclusive lock on this file (flock; see
// lock_unix.go) and records itself in it ("pid N host H started T"); the
// content is cleared when the run ends. A second run into the same
// directory, from this or any other process, is refused at once with the
// holder named. A holder that died (SIGKILL, power cut) holds nothing: the
// kernel released its lock, and the next run takes over the file.
const lockName = "LOCK"

// runLock is a held lock on a run directory.
type runLock struct{ f *os.File }

// lockRunDir locks the run directory dir (which must exist).
func lockRunDir(dir string) (*runLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock run directory: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock run directory: %s: %w", path, err)
	}
	holder := readHolder(f)
	if !lockIsAdvisoryFlock && !held {
		held = holderAlive(holder)
	}
	if held {
		f.Close()
		if holder == "" {
			holder = "another process (it has not recorded itself yet)"
		}
		return nil, fmt.Errorf("run directory %s is in use by %s: a second run into the same directory is refused; wait for that run to end or stop it (%s names the holder)", dir, holder, path)
	}
	host, _ := os.Hostname()
	rec := fmt.Sprintf("pid %d host %s started %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(rec), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock run directory: %s: %w", path, err)
	}
	return &runLock{f}, nil
}

// unlock clears the holder record and releases the lock.
func (l *runLock) unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close()
	l.f = nil
}

// readHolder returns the holder record of a lock file ("" when empty).
func readHolder(f *os.File) string {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// holderAlive reports whether a holder record names a live process on this
// host (used only where there is no flock).
func holderAlive(rec string) bool {
	var pid int
	var host string
	fields := strings.Fields(rec)
	for i := 0; i+1 < len(fields); i += 2 {
		switch fields[i] {
		case "pid":
			pid, _ = strconv.Atoi(fields[i+1])
		case "host":
			host = fields[i+1]
		}
	}
	me, _ := os.Hostname()
	return pid > 0 && pid != os.Getpid() && host == me && processAlive(pid)
}
