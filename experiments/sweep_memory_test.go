package experiments_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC() // a second cycle frees what finalizers released
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSweepTrialsReleaseMemory runs four tiny trials of the predator-prey
// ablation sweep one after another in this process, as `commgraph sweep`
// does, and checks that the live heap after the fourth is about what it was
// after the first: nothing of a finished trial (its model, compiled graphs,
// rollout buffers, goroutines) stays reachable. Before attention.NewMachine
// every trial's compiled graphs stayed alive (about 5.5 MB per trial at
// these sizes, 16 MB over the three later trials; 12.8 GB after 24 trials at
// the sweep's real sizes); the allowance of 4 MB covers the noise of the
// runtime and the package caches filled by the first trial.
func TestSweepTrialsReleaseMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four tiny models")
	}
	sw, err := experiments.LoadSweep("../configs/sweeps/predprey_ablation.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"out_dir=" + t.TempDir(), "budget.iterations=2", "eval.every=1", "eval.episodes=2",
		"checkpoint.every=1", "log.graph_every=1", "algorithm.commformer.num_envs=4", "algorithm.commformer.rollout_steps=10",
		"algorithm.commformer.epochs=2", "algorithm.commformer.warmup=1"} {
		if err := sw.Override(kv); err != nil {
			t.Fatal(err)
		}
	}
	trials, err := sw.Trials()
	if err != nil {
		t.Fatal(err)
	}
	var afterFirst uint64
	goroutines := 0
	for i, tr := range trials[:4] {
		res, err := experiments.RunTrials(context.Background(), []experiments.Trial{tr}, 1, experiments.RunOptions{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Failed) > 0 || res.Ran != 1 {
			t.Fatalf("trial %d: %+v", tr.Index, res)
		}
		if i == 0 {
			afterFirst, goroutines = liveHeap(), runtime.NumGoroutine()
		}
	}
	after := liveHeap()
	t.Logf("live heap after trial 1: %.1f MB, after trial 4: %.1f MB", float64(afterFirst)/(1<<20), float64(after)/(1<<20))
	if after > afterFirst+4<<20 {
		t.Errorf("live heap grew from %.1f MB after the first trial to %.1f MB after the fourth: finished trials are retained",
			float64(afterFirst)/(1<<20), float64(after)/(1<<20))
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines after the fourth trial, %d after the first: trials leave goroutines behind", n, goroutines)
	}
}
