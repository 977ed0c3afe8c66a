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
