package experiments

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/commgraph/commgraph/envs/fsutil"
	"github.com/commgraph/commgraph/marl"
)

// ForkInfo names the checkpoint a forked run started from (RunOptions.Fork):
// the run's numbers are those of its config and seed continued from that
// state, so the source is part of what made them.
type ForkInfo struct {
	Checkpoint   string `json:"checkpoint"`    // absolute path of the source checkpoint
	Iteration    int    `json:"iteration"`     // the iteration it holds
	ConfigSHA256 string `json:"config_sha256"` // the source run's resolved config
}

// startFork starts a fresh run directory from the checkpoint r.opts.Fork of
// another run (a paired ablation: both runs share everything up to that
// iteration, then each continues under its own config). The source run's
// metrics rows and graph snapshots up to the checkpoint are copied, so the
// new run's files are complete, and the state is checkpointed at once under
// the new config: from then on the run resumes like any other. handled is
// false when r.dir already holds the same fork (the caller resumes it). A
// directory that holds anything else is refused, as is a checkpoint whose
// model does not fit the config (the algorithm's Restore names the
// mismatch).
func (r *runner) startFork() (handled bool, err error) {
	src, err := filepath.Abs(r.opts.Fork)
	if err != nil {
		return false, err
	}
	if len(listCheckpoints(r.dir)) > 0 || isFile(filepath.Join(r.dir, "metrics.jsonl")) {
		if m := readMeta(r.dir); m.ForkedFrom != nil && m.ForkedFrom.Checkpoint == src {
			return false, nil
		}
		return false, fmt.Errorf("--fork %s: the run directory %s already holds a run that was not forked from it; fork into a new run name (--set name=...) or delete the directory", r.opts.Fork, r.dir)
	}
	c := r.forkCkpt
	srcDir := filepath.Dir(filepath.Dir(src)) // <run>/checkpoints/iter-N.ckpt
	rows := r.forkRows
	if err := os.MkdirAll(filepath.Join(r.dir, "graphs"), 0o755); err != nil {
		return false, fmt.Errorf("create graphs directory: %w", err)
	}
	snaps, _ := filepath.Glob(filepath.Join(srcDir, "graphs", "iter-*.json"))
	if r.forkGraphChanged {
		snaps = nil // the source's graph is not this run's
	}
	for _, s := range snaps {
		if it, ok := snapshotIter(s); !ok || it > c.Iteration {
			continue
		}
		data, err := os.ReadFile(s)
		if err != nil {
			return false, fmt.Errorf("--fork: copy graph snapshot: %w", err)
		}
		if err := fsutil.WriteFile(filepath.Join(r.dir, "graphs", filepath.Base(s)), data); err != nil {
			return false, err
		}
	}
	r.resumed = c.Iteration
	r.wallBase = c.Run.WallSeconds
	r.started = time.Now()
	r.lastCkpt = c.Iteration
	if r.metrics, err = openMetricsLog(r.dir, rows); err != nil {
		return false, err
	}
	r.fork = &ForkInfo{Checkpoint: src, Iteration: c.Iteration, ConfigSHA256: c.Run.ConfigSHA256}
	if err := r.writeMeta(); err != nil {
		return false, err
	}
	r.log.Info("forked", "from", src, "iteration", c.Iteration)
	return true, r.saveCheckpoint()
}

// loadFork reads the checkpoint r.opts.Fork and loads it into the built
// algorithm, before the run directory is touched: a checkpoint that cannot
// be read, is at or past the budget, or does not fit the config is refused
// with nothing written.
func (r *runner) loadFork() error {
	c, err := marl.ReadCheckpoint(r.opts.Fork)
	if err != nil {
		return fmt.Errorf("--fork: %w", err)
	}
	if c.Iteration >= r.cfg.Budget.Iterations && r.cfg.Budget.Iterations > 0 {
		return fmt.Errorf("--fork %s: the checkpoint holds iteration %d, the run's budget.iterations is %d: nothing left to run", r.opts.Fork, c.Iteration, r.cfg.Budget.Iterations)
	}
	if f, ok := r.alg.(forkAdapter); ok {
		if c, r.forkGraphChanged, err = f.ForkCheckpoint(c); err != nil {
			return fmt.Errorf("--fork %s: the checkpoint does not fit this config: %w", r.opts.Fork, err)
		}
	}
	if err := r.alg.Restore(c); err != nil {
		return fmt.Errorf("--fork %s: the checkpoint does not fit this config: %w", r.opts.Fork, err)
	}
	if got := r.alg.Iteration(); got != c.Iteration {
		return fmt.Errorf("--fork %s: algorithm reports iteration %d after loading a checkpoint of iteration %d", r.opts.Fork, got, c.Iteration)
	}
	rows, err := ReadMetricsJSONL(filepath.Join(filepath.Dir(filepath.Dir(r.opts.Fork)), "metrics.jsonl"))
	if err != nil {
		return fmt.Errorf("--fork %s: the source run's metrics: %w", r.opts.Fork, err)
	}
	keep := 0
	for keep < len(rows) && int(rows[keep]["iteration"]) <= c.Iteration {
		keep++
	}
	if keep == 0 || int(rows[keep-1]["iteration"]) != c.Iteration {
		return fmt.Errorf("--fork %s: the source run's metrics.jsonl has no row of iteration %d", r.opts.Fork, c.Iteration)
	}
	r.forkCkpt, r.forkRows = c, rows[:keep]
	return nil
}

// forkAdapter is an algorithm that adapts another run's checkpoint before
// Restore when forking (commformer: a learned graph's run continued with a
// fixed graph); graphChanged means the source's graph snapshots are not
// copied.
type forkAdapter interface {
	ForkCheckpoint(c *marl.Checkpoint) (out *marl.Checkpoint, graphChanged bool, err error)
}

// readMeta reads dir/meta.json; a missing or unreadable file gives the zero
// Meta.
func readMeta(dir string) Meta {
	var m Meta
	if data, err := os.ReadFile(filepath.Join(dir, "meta.json")); err == nil {
		if json.Unmarshal(data, &m) != nil {
			return Meta{}
		}
	}
	return m
}
