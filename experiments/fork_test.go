package experiments_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// metricsLines returns the lines of a run's metrics.jsonl.
func metricsLines(t *testing.T, dir string) []string {
	t.Helper()
	return strings.Split(strings.TrimSpace(read(t, filepath.Join(dir, "metrics.jsonl"))), "\n")
}

// TestForkContinuesAnotherRun: a run forked from another run's checkpoint
// at iteration 9 is that run continued: with the same config it ends with
// the same metrics and graphs as the source; with a changed key it equals
// the source up to iteration 9 and differs after. The fork is recorded in
// meta.json and summary.json, and a directory holding another run is
// refused.
func TestForkContinuesAnotherRun(t *testing.T) {
	src := fakeConfig(t, "src")
	src.Checkpoint.Keep = 100 // keep iter-000009.ckpt
	if _, err := experiments.Run(context.Background(), src, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	srcDir := experiments.RunDir(&src, 1)
	ckpt := filepath.Join(srcDir, "checkpoints", "iter-000009.ckpt")

	same := fakeConfig(t, "same")
	same.Checkpoint.Keep = 100
	sums, err := experiments.Run(context.Background(), same, experiments.RunOptions{Fork: ckpt})
	if err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&same, 1)
	if got, want := read(t, filepath.Join(dir, "metrics.jsonl")), read(t, filepath.Join(srcDir, "metrics.jsonl")); got != want {
		t.Errorf("a fork with the same config is not the source continued:\n%s\n%s", got, want)
	}
	for _, g := range []string{"iter-000008.json", "iter-000012.json", "iter-000023.json"} {
		if read(t, filepath.Join(dir, "graphs", g)) != read(t, filepath.Join(srcDir, "graphs", g)) {
			t.Errorf("graph %s differs", g)
		}
	}
	if f := sums[0].ForkedFrom; f == nil || f.Iteration != 9 || f.Checkpoint != ckpt {
		t.Errorf("summary forked_from = %+v", f)
	}
	var meta experiments.Meta
	if err := json.Unmarshal([]byte(read(t, filepath.Join(dir, "meta.json"))), &meta); err != nil || meta.ForkedFrom == nil || meta.ForkedFrom.Iteration != 9 {
		t.Errorf("meta forked_from = %+v (%v)", meta.ForkedFrom, err)
	}

	changed := fakeConfig(t, "changed")
	setKey(t, &changed, "algorithm.fake.lr", 3e-3)
	if _, err := experiments.Run(context.Background(), changed, experiments.RunOptions{Fork: ckpt}); err != nil {
		t.Fatal(err)
	}
	a, b := metricsLines(t, experiments.RunDir(&changed, 1)), metricsLines(t, srcDir)
	if len(a) != len(b) {
		t.Fatalf("%d rows, the source has %d", len(a), len(b))
	}
	for i := range a {
		if (i < 9) != (a[i] == b[i]) {
			t.Errorf("row %d: equal to the source = %v, want %v", i+1, a[i] == b[i], i < 9)
		}
	}

	// Refusals: a directory that holds a run not forked from the
	// checkpoint; a checkpoint at or past the budget.
	if _, err := experiments.Run(context.Background(), src, experiments.RunOptions{Fork: ckpt}); err != nil {
		// src is DONE: a finished run is reported, not redone.
		t.Fatalf("finished run: %v", err)
	}
	other := fakeConfig(t, "other")
	if _, err := experiments.Run(context.Background(), other, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(experiments.RunDir(&other, 1), "DONE"))
	if _, err := experiments.Run(context.Background(), other, experiments.RunOptions{Fork: ckpt}); err == nil || !strings.Contains(err.Error(), "not forked from it") {
		t.Errorf("fork into a used directory: %v", err)
	}
	short := fakeConfig(t, "short")
	short.Budget.Iterations = 9
	if _, err := experiments.Run(context.Background(), short, experiments.RunOptions{Fork: ckpt}); err == nil || !strings.Contains(err.Error(), "nothing left to run") {
		t.Errorf("fork at the budget: %v", err)
	}
}

// TestForkLearnedGraphIntoFixedGraph: a learned graph's dense, unweighted
// warm-up (alpha_source = influence) trains the same model as the full
// graph, so the full graph forked from the learned run's checkpoint inside
// the warm-up continues exactly like a full-graph run from scratch: the
// paired "what if the graph had stayed dense" arm without re-running the
// warm-up. The learned run's graph snapshots are not copied into the
// fixed-graph run, and the reverse (a fixed graph's checkpoint into a
// learned graph, which has logits to restore) is refused.
func TestForkLearnedGraphIntoFixedGraph(t *testing.T) {
	base := func(name, graph string) experiments.Config {
		cfg := experiments.DefaultConfig()
		cfg.Name = name
		cfg.OutDir = t.TempDir()
		cfg.Env.Kind = "synthetic"
		cfg.Algorithm.Kind = "commformer"
		cfg.Budget.Iterations = 10
		cfg.Eval.Every = 0
		cfg.Log.Timing = false
		cfg.Checkpoint.Every = 1
		cfg.Checkpoint.Keep = 100
		for _, kv := range []string{
			"env.synthetic.knobs=4", "env.synthetic.graph=planted", "env.synthetic.form=revision",
			"env.synthetic.episode_len=1", "env.synthetic.pinned=0.5", "env.synthetic.credit=difference",
			"env.synthetic.agent_id=true",
			"algorithm.threads=1", "algorithm.commformer.embed_dim=8", "algorithm.commformer.num_envs=2",
			"algorithm.commformer.rollout_steps=4", "algorithm.commformer.epochs=2", "algorithm.commformer.senders=1",
			"algorithm.commformer.graph=" + graph,
		} {
			if err := experiments.ApplyOverride(&cfg, kv); err != nil {
				t.Fatal(err)
			}
		}
		if graph == "learned" {
			for _, kv := range []string{"algorithm.commformer.alpha_source=influence", "algorithm.commformer.warmup=8",
				"algorithm.commformer.alpha_start=3", "algorithm.commformer.influence_every=1"} {
				if err := experiments.ApplyOverride(&cfg, kv); err != nil {
					t.Fatal(err)
				}
			}
		} else if err := experiments.ApplyOverride(&cfg, "algorithm.commformer.alpha_source=gradient"); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	learned, full := base("learned", "learned"), base("full", "full")
	for _, c := range []experiments.Config{learned, full} {
		if _, err := experiments.Run(context.Background(), c, experiments.RunOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	learnedDir, fullDir := experiments.RunDir(&learned, 1), experiments.RunDir(&full, 1)
	ckpt := filepath.Join(learnedDir, "checkpoints", "iter-000006.ckpt")
	fork := base("fork", "full")
	if _, err := experiments.Run(context.Background(), fork, experiments.RunOptions{Fork: ckpt}); err != nil {
		t.Fatal(err)
	}
	forkDir := experiments.RunDir(&fork, 1)
	got, want := metricsLines(t, forkDir), metricsLines(t, fullDir)
	if len(got) != 10 || len(want) != 10 {
		t.Fatalf("rows: fork %d, full %d, want 10", len(got), len(want))
	}
	for i := 6; i < 10; i++ {
		if got[i] != want[i] {
			t.Errorf("iteration %d: the full graph forked from the learned warm-up differs from the full graph:\n%s\n%s", i+1, got[i], want[i])
		}
	}
	if snaps, _ := filepath.Glob(filepath.Join(forkDir, "graphs", "iter-*.json")); len(snaps) == 0 {
		t.Error("the fork wrote no graph snapshot of its own")
	} else {
		for _, s := range snaps {
			if strings.Contains(read(t, s), `"learned"`) {
				t.Errorf("%s: a learned graph snapshot in the fixed-graph fork", filepath.Base(s))
			}
		}
	}
	none := base("none", "none")
	if _, err := experiments.Run(context.Background(), none, experiments.RunOptions{Fork: ckpt}); err != nil {
		t.Errorf("fork into graph none: %v", err)
	}
	back := base("back", "learned")
	if _, err := experiments.Run(context.Background(), back, experiments.RunOptions{Fork: filepath.Join(fullDir, "checkpoints", "iter-000006.ckpt")}); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("a full graph's checkpoint forked into a learned graph: err = %v, want a refusal", err)
	}
}
