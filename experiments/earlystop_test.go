package experiments_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/marl"
	"github.com/commgraph/commgraph/marl/blackbox"
)

// synthConfig is random search, 4 designs per iteration, on a small
// planted landscape (5 knobs of 4 values, 1,024 designs, its optimum known
// exactly).
func synthConfig(t *testing.T, name string) experiments.Config {
	t.Helper()
	cfg := experiments.DefaultConfig()
	cfg.Name = name
	cfg.OutDir = t.TempDir()
	cfg.Env.Kind = "synthetic"
	cfg.Algorithm.Kind = "random"
	cfg.Budget.Iterations = 5000
	cfg.Eval.Every = 0
	cfg.Log.Timing = false
	cfg.Checkpoint.Every = 50
	for _, kv := range []string{"env.synthetic.knobs=5", "env.synthetic.pairs=2", "algorithm.random.batch=4"} {
		if err := experiments.ApplyOverride(&cfg, kv); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func readRows(t *testing.T, dir string) []map[string]float64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]float64
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var row map[string]float64
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	return rows
}

// budget.regret = 0 ends the run at the first iteration whose best design
// is the optimum, long before the iteration budget.
func TestEarlyStopRegret(t *testing.T) {
	cfg := synthConfig(t, "regret")
	cfg.Budget.Regret = 0
	sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := sums[0]
	rows := readRows(t, s.Dir)
	last := rows[len(rows)-1]
	if s.Stopped != "regret" || last["regret"] != 0 || last["unique_evals"] >= 1024 {
		t.Fatalf("stopped %q at iteration %d with regret %v after %v evaluations; want regret 0 before the space is exhausted", s.Stopped, s.Iterations, last["regret"], last["unique_evals"])
	}
	for _, r := range rows[:len(rows)-1] {
		if r["regret"] == 0 {
			t.Fatalf("iteration %v already had regret 0 and the run went on", r["iteration"])
		}
	}
	var onDisk map[string]any
	data, _ := os.ReadFile(filepath.Join(s.Dir, "summary.json"))
	if err := json.Unmarshal(data, &onDisk); err != nil || onDisk["stopped"] != "regret" {
		t.Fatalf("summary.json stopped = %v (%v)", onDisk["stopped"], err)
	}
}

// budget.patience = 6 ends the run once the primary metric (regret) has
// not improved for 6 iterations: the last improvement is exactly 6
// iterations before the end, and no earlier stretch was that long.
func TestEarlyStopPatience(t *testing.T) {
	cfg := synthConfig(t, "patience")
	cfg.Budget.Patience = 6
	sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := sums[0]
	rows := readRows(t, s.Dir)
	if s.Stopped != "patience" || s.Iterations >= 5000 {
		t.Fatalf("stopped %q at iteration %d", s.Stopped, s.Iterations)
	}
	best, at := rows[0]["regret"], rows[0]["iteration"]
	for _, r := range rows[1:] {
		if r["iteration"]-at >= 6 && r["iteration"] != float64(s.Iterations) {
			t.Fatalf("no improvement from iteration %v to %v, and the run went on", at, r["iteration"])
		}
		if r["regret"] < best {
			best, at = r["regret"], r["iteration"]
		}
	}
	if float64(s.Iterations)-at != 6 {
		t.Fatalf("stopped at %d, last improvement at %v", s.Iterations, at)
	}
}

func TestEarlyStopErrors(t *testing.T) {
	_, err := experiments.DecodeConfig("x.toml", []byte("name = \"a\"\n[env]\nkind = \"synthetic\"\n[budget]\niterations = 3\nregret = -0.5\n"))
	if err == nil || !strings.Contains(err.Error(), "budget.regret") {
		t.Fatalf("regret = -0.5: error %v", err)
	}
	cfg := fakeConfig(t, "noopt")
	cfg.Budget.Regret = 0.01
	if _, _, err := experiments.Build(&cfg, 1); err == nil || !strings.Contains(err.Error(), "budget.regret") {
		t.Fatalf("regret on a task without an optimum: error %v", err)
	}
}

// A run interrupted before its patience runs out and resumed stops at the
// same iteration, with the same rows, as the uninterrupted run: the rule's
// state comes from the metrics rows, which the resume restores.
func TestEarlyStopPatienceResumes(t *testing.T) {
	ref := synthConfig(t, "patience-ref")
	ref.Budget.Patience = 6
	want, err := experiments.Run(context.Background(), ref, experiments.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := ref
	cfg.OutDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	k := want[0].Iterations - 3 // before the end, after the last improvement's row is written
	experiments.RegisterAlgorithm("random_cancel", blackbox.Options(blackbox.KindRandom).(blackbox.RandomOptions), func(o blackbox.RandomOptions, task *experiments.Task, run experiments.RunInfo) (marl.Algorithm, error) {
		c := o.Settings()
		c.Workers, c.Optimum = 1, task.Design.Optimum()
		s, err := blackbox.New(blackbox.KindRandom, task.Design.Space(), task.Design.Objective(), c, run.Seed)
		return &cancelSearch{s, &k, cancel}, err
	})
	cfg.Algorithm.Kind = "random_cancel"
	if err := cfg.Algorithm.SetTable("random_cancel", blackbox.Options(blackbox.KindRandom).(blackbox.RandomOptions)); err != nil {
		t.Fatal(err)
	}
	if err := experiments.ApplyOverride(&cfg, "algorithm.random_cancel.batch=4"); err != nil {
		t.Fatal(err)
	}
	if _, err := experiments.Run(ctx, cfg, experiments.RunOptions{}); !errors.Is(err, experiments.ErrInterrupted) {
		t.Fatalf("want ErrInterrupted, got %v", err)
	}
	k = -1
	got, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Stopped != "patience" || got[0].Iterations != want[0].Iterations {
		t.Fatalf("resumed run stopped %q at %d, uninterrupted %q at %d", got[0].Stopped, got[0].Iterations, want[0].Stopped, want[0].Iterations)
	}
	if a, b := read(t, filepath.Join(got[0].Dir, "metrics.csv")), read(t, filepath.Join(want[0].Dir, "metrics.csv")); a != b {
		t.Fatal("metrics differ after resume")
	}
}

// cancelSearch cancels a context after iteration *k of a search.
type cancelSearch struct {
	*blackbox.Search
	k      *int
	cancel context.CancelFunc
}

func (c *cancelSearch) Iterate(ctx context.Context) (marl.Metrics, error) {
	m, err := c.Search.Iterate(ctx)
	if c.Search.Iteration() == *c.k {
		c.cancel()
	}
	return m, err
}
