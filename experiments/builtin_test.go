package experiments_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/marl/commformer"
)

func setKey(t *testing.T, cfg *experiments.Config, key string, v any) {
	t.Helper()
	if err := experiments.SetKey(cfg, key, v); err != nil {
		t.Fatal(err)
	}
}

// tinyLearner is a CommFormer config small enough for a unit test.
func tinyLearner(t *testing.T, kind string) experiments.Config {
	t.Helper()
	cfg := experiments.DefaultConfig()
	cfg.Name = "tiny-" + kind
	cfg.OutDir = t.TempDir()
	cfg.Env.Kind = kind
	cf := commformer.DefaultConfig()
	cf.Embed, cf.Warmup, cf.Envs, cf.Steps, cf.Epochs, cf.AlphaEvery = 8, 1, 2, 6, 2, 2
	if err := cfg.Algorithm.SetTable("commformer", cf); err != nil {
		t.Fatal(err)
	}
	cfg.Algorithm.Threads = 1
	cfg.Budget.Iterations = 4
	cfg.Eval.Every = 2
	cfg.Eval.Episodes = 2
	cfg.Log.GraphEvery = 2
	cfg.Log.Timing = false
	cfg.Checkpoint.Every = 2
	return cfg
}

// TestBuiltinLearnerResumesExactly runs the real learner on predator-prey
// and on the DRAM space (whose evaluation cache is part of the checkpoint),
// then simulates a crash after the iteration-2 checkpoint: the rerun must
// reproduce the metrics, graph snapshots and summary exactly. The DRAM space
// runs in the bandit and in the search form (whose parents come from the
// evaluation order, restored from the checkpoint).
func TestBuiltinLearnerResumesExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny learner")
	}
	for _, name := range []string{"predprey", "dram", "dram-search"} {
		t.Run(name, func(t *testing.T) {
			kind, form, _ := strings.Cut(name, "-")
			cfg := tinyLearner(t, kind)
			if kind == "dram" {
				cfg.Eval.Episodes = 1
			}
			if form != "" {
				setKey(t, &cfg, "env.dram.form", form)
				setKey(t, &cfg, "env.dram.elite", int64(3))
			}
			sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dir := sums[0].Dir
			if kind == "dram" {
				if sums[0].UniqueEvals < 2 || sums[0].Best == nil || len(sums[0].Best.Knobs) != 10 {
					t.Fatalf("DRAM summary: %+v", sums[0])
				}
				if !strings.HasPrefix(sums[0].Task, "dram-stream-latency") || sums[0].Primary.X != "unique_evals" {
					t.Errorf("task %q primary %+v", sums[0].Task, sums[0].Primary)
				}
			}
			s, err := comm.ReadSnapshot(filepath.Join(dir, "graphs", "iter-000004.json"))
			if err != nil || s.N() < 3 {
				t.Fatalf("graph snapshot: %v %+v", err, s)
			}
			want := map[string]string{}
			files := []string{"metrics.csv", "metrics.jsonl", "summary.json", "graphs/iter-000004.json"}
			for _, f := range files {
				want[f] = read(t, filepath.Join(dir, f))
			}
			for _, f := range []string{"DONE", "summary.json", "checkpoints/iter-000004.ckpt", "graphs/iter-000004.json"} {
				if err := os.Remove(filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if got := read(t, filepath.Join(dir, f)); got != want[f] {
					t.Errorf("%s differs after resuming from iteration 2:\n%s\n---\n%s", f, got, want[f])
				}
			}
		})
	}
}

// TestBlackBoxBaselines runs each black-box search on the DRAM space with an
// evaluation budget, and checks the budget, the regret column and an exact
// resume.
func TestBlackBoxBaselines(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates designs")
	}
	for _, kind := range []string{"random", "genetic", "aco"} {
		t.Run(kind, func(t *testing.T) {
			cfg := tinyLearner(t, "dram")
			cfg.Algorithm.Kind = kind
			setKey(t, &cfg, "algorithm."+kind+".batch", int64(8))
			cfg.Budget.Iterations = 0
			cfg.Budget.Evaluations = 30
			sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s := sums[0]
			if s.UniqueEvals < 30 || s.UniqueEvals > 31 || s.Best == nil || s.Best.Regret == nil {
				t.Fatalf("summary: evals %v best %+v", s.UniqueEvals, s.Best)
			}
			if _, ok := s.Final["regret"]; !ok {
				t.Error("no regret column")
			}
			want := read(t, filepath.Join(s.Dir, "metrics.csv"))
			for _, f := range []string{"DONE", "summary.json"} {
				os.Remove(filepath.Join(s.Dir, f))
			}
			cks, _ := filepath.Glob(filepath.Join(s.Dir, "checkpoints", "*.ckpt"))
			os.Remove(cks[len(cks)-1])
			if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := read(t, filepath.Join(s.Dir, "metrics.csv")); got != want {
				t.Errorf("metrics differ after resume:\n%s\n---\n%s", got, want)
			}
		})
	}
}
