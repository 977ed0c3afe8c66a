package experiments

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/marl"
	"github.com/commgraph/commgraph/marl/commformer"
)

// TestMemoryGuardRefusesHugeLearners: the settings of issue 10 that
// exhausted memory at run time (num_envs 4096 x rollout_steps 100000;
// embed_dim 4096 x blocks 64) are refused when the learner is built, with
// the keys and the estimate named; the shipped defaults pass, and a raised
// limit lets a large setting through.
func TestMemoryGuardRefusesHugeLearners(t *testing.T) {
	base := DefaultConfig()
	base.Name = "m"
	base.OutDir = t.TempDir()
	base.Env.Kind = "predprey"
	base.Algorithm.Kind = "commformer"
	base.Budget.Iterations = 1
	build := func(mut func(*commformer.Config), limit int64) error {
		cfg := base
		c := cfg.Algorithm.Table("commformer").(commformer.Config)
		mut(&c)
		if err := cfg.Algorithm.SetTable("commformer", c); err != nil {
			t.Fatal(err)
		}
		cfg.MaxMemory = limit
		task, alg, err := Build(&cfg, 1)
		if err == nil {
			if cl, ok := alg.(Closer); ok {
				cl.Close()
			}
			if task.Close != nil {
				task.Close()
			}
		}
		return err
	}
	if err := build(func(*commformer.Config) {}, DefaultMaxMemory); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	err := build(func(c *commformer.Config) { c.Envs, c.Steps = 4096, 100000 }, DefaultMaxMemory)
	if err == nil || !strings.Contains(err.Error(), "num_envs (4096) x rollout_steps (100000)") || !strings.Contains(err.Error(), "GiB") || !strings.Contains(err.Error(), "--max-memory") {
		t.Errorf("huge rollout: %v", err)
	}
	err = build(func(c *commformer.Config) { c.Embed, c.Blocks = 4096, 64 }, DefaultMaxMemory)
	if err == nil || !strings.Contains(err.Error(), "embed_dim (4096) x blocks (64)") {
		t.Errorf("huge model: %v", err)
	}
	// The same learner as the defaults, refused under a tiny limit and
	// accepted under the default one: the limit is what decides.
	if err := build(func(*commformer.Config) {}, 1<<20); err == nil || !strings.Contains(err.Error(), "above the limit of 1.0 MiB") {
		t.Errorf("tiny limit: %v", err)
	}
	// A limit is used as given: 0 is not a stand-in for the default.
	if err := build(func(*commformer.Config) {}, 0); err == nil || !strings.Contains(err.Error(), "want a positive limit") {
		t.Errorf("zero limit: %v", err)
	}
	if got := DefaultConfig().MaxMemory; got != DefaultMaxMemory {
		t.Errorf("DefaultConfig().MaxMemory = %d, want DefaultMaxMemory", got)
	}
}

// stallAlg is an algorithm whose unique_evals never grow past 3.
type stallAlg struct{ it int }

func (a *stallAlg) Iterate(context.Context) (marl.Metrics, error) {
	a.it++
	return marl.Metrics{"unique_evals": float64(min(a.it, 3))}, nil
}
func (a *stallAlg) Iteration() int { return a.it }
func (a *stallAlg) Checkpoint() (*marl.Checkpoint, error) {
	return &marl.Checkpoint{Algorithm: "stall", Iteration: a.it}, nil
}
func (a *stallAlg) Restore(c *marl.Checkpoint) error                    { a.it = c.Iteration; return nil }
func (a *stallAlg) Evaluate(context.Context, int) (marl.Metrics, error) { return marl.Metrics{}, nil }

// TestUnreachableEvaluationBudgetEnds: an evaluations budget larger than
// the design space is refused before the run starts; one the search stops
// approaching (unique_evals flat for stallIterations iterations) ends the
// run with a message instead of spinning forever.
func TestUnreachableEvaluationBudgetEnds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Name = "unreach"
	cfg.OutDir = t.TempDir()
	cfg.Env.Kind = "synthetic"
	cfg.Algorithm.Kind = "random"
	cfg.Budget.Iterations = 0
	cfg.Budget.Evaluations = 1_000_000
	if err := SetKey(&cfg, "env.synthetic.knobs", int64(2)); err != nil {
		t.Fatal(err)
	}
	if err := SetKey(&cfg, "env.synthetic.values", int64(2)); err != nil {
		t.Fatal(err)
	}
	if err := SetKey(&cfg, "env.synthetic.pairs", int64(1)); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), cfg, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "budget.evaluations") || !strings.Contains(err.Error(), "has 4 designs") {
		t.Fatalf("evaluations above the space size: %v", err)
	}
	RegisterAlgorithm("stall-test", struct{}{}, func(struct{}, *Task, RunInfo) (marl.Algorithm, error) { return &stallAlg{}, nil })
	st := DefaultConfig()
	st.Name = "stall"
	st.OutDir = t.TempDir()
	st.Env.Kind = "fake"
	st.Algorithm.Kind = "stall-test"
	st.Budget.Iterations = 0
	st.Budget.Evaluations = 10
	st.Log.Timing = false
	st.Checkpoint.Every = 100
	_, err = Run(context.Background(), st, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "budget.evaluations = 10 cannot be reached: unique_evals has stayed at 3 for 1000 iterations") {
		t.Fatalf("stalled search: %v", err)
	}
	// An env_steps budget on an algorithm that counts no env_steps (a
	// black-box search) ends after the first iteration instead of never.
	st.OutDir = t.TempDir()
	st.Budget.Evaluations, st.Budget.EnvSteps = 0, 100
	_, err = Run(context.Background(), st, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "budget.env_steps = 100 cannot be reached: algorithm stall-test reports no env_steps") {
		t.Fatalf("env_steps budget without env_steps: %v", err)
	}
	if rows, rerr := ReadMetricsJSONL(filepath.Join(runDirOf(&st, 1), "metrics.jsonl")); rerr != nil || len(rows) != 0 {
		t.Errorf("after the refusal: %d rows, %v", len(rows), rerr)
	}
	// With both limits, the run goes on while either can still be reached,
	// and the message names both.
	st.OutDir = t.TempDir()
	st.Budget.Evaluations = 10
	_, err = Run(context.Background(), st, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "reports no env_steps; budget.evaluations = 10 cannot be reached: unique_evals has stayed at 3 for 1000 iterations") {
		t.Fatalf("both limits unreachable: %v", err)
	}
}
