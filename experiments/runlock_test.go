package experiments

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lockTestConfig is a two-iteration run of the fake kinds (registered by
// the external tests' init in this test binary).
func lockTestConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Name = "lk"
	cfg.OutDir = t.TempDir()
	cfg.Env.Kind = "fake"
	cfg.Algorithm.Kind = "fake"
	cfg.Budget.Iterations = 2
	cfg.Log.Timing = false
	return cfg
}

// TestSecondRunIntoLockedDirRefused: while a run holds its directory, a
// second run into it (here from another open of the lock file, as another
// process would do) is refused at once, naming the holder's pid and host;
// once the holder is gone the run goes ahead and leaves the LOCK file empty.
func TestSecondRunIntoLockedDirRefused(t *testing.T) {
	cfg := lockTestConfig(t)
	dir := RunDir(&cfg, cfg.Seed)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	held, err := lockRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	_, err = Run(context.Background(), cfg, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("in use by pid %d host %s", os.Getpid(), host)) {
		t.Fatalf("second run into a locked directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "metrics.jsonl")); err == nil {
		t.Error("the refused run wrote metrics")
	}
	held.unlock()
	if _, err := Run(context.Background(), cfg, RunOptions{}); err != nil {
		t.Fatalf("after the holder released the lock: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, lockName)); len(b) != 0 {
		t.Errorf("LOCK after the run: %q, want empty", b)
	}
	// A finished run is locked too while it is checked.
	held, err = lockRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.unlock()
	if _, err := Run(context.Background(), cfg, RunOptions{}); err == nil || !strings.Contains(err.Error(), "in use by") {
		t.Fatalf("finished run, locked: %v", err)
	}
}

// TestStaleLockTakenOver: a LOCK file left by a process that died (its
// record names it, but nobody holds the lock) does not block the next run.
func TestStaleLockTakenOver(t *testing.T) {
	cfg := lockTestConfig(t)
	dir := RunDir(&cfg, cfg.Seed)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, lockName), []byte("pid 2147483646 host elsewhere started 2026-01-01T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, RunOptions{}); err != nil {
		t.Fatalf("stale lock: %v", err)
	}
}
