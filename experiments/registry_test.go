package experiments_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/marl/commformer"
)

// gridSpace is a design space defined outside the repository's packages: two
// knobs, f = (a-3)^2 + (b-5)^2 + 1, minimum 1 at (3, 5). After FailAfter
// evaluations (0 = never) every evaluation fails.
type gridSpace struct {
	values    int
	failAfter int
	mu        sync.Mutex
	calls     int
}

var errBroken = errors.New("simulator crashed")

func (g *gridSpace) Name() string { return "grid" }
func (g *gridSpace) Knobs() []envs.Knob {
	var vals []string
	for v := range g.values {
		vals = append(vals, fmt.Sprint(v))
	}
	return []envs.Knob{{Name: "a", Values: vals}, {Name: "b", Values: vals}}
}
func (g *gridSpace) MetricNames() []string { return []string{"f"} }
func (g *gridSpace) Evaluate(cfg []int, out []float64) error {
	g.mu.Lock()
	g.calls++
	n := g.calls
	g.mu.Unlock()
	if g.failAfter > 0 && n > g.failAfter {
		return errBroken
	}
	a, b := float64(cfg[0]-3), float64(cfg[1]-5)
	out[0] = a*a + b*b + 1
	return nil
}

// gridConfig is the [env.grid] table of the external kind.
type gridConfig struct {
	Values    int `toml:"values" range:"[6, 100]" doc:"values per knob"`
	FailAfter int `toml:"fail_after" range:"[0, inf)" doc:"evaluations before the simulator breaks; 0 = never"`
}

func init() {
	experiments.RegisterDesignSpace("grid", gridConfig{Values: 8}, func(c gridConfig, run experiments.RunInfo) (*experiments.DesignProblem, error) {
		space := &gridSpace{values: c.Values, failAfter: c.FailAfter}
		obj, err := envs.ObjectiveConfig{Kind: envs.KindMinimize, Metrics: []string{"f"}}.Bind(space.MetricNames())
		if err != nil {
			return nil, err
		}
		// The optimum is found on a space that never fails.
		opt, err := envs.FindOptimum(&gridSpace{values: c.Values}, obj)
		if err != nil {
			return nil, err
		}
		return &experiments.DesignProblem{Label: "grid", Space: space, Objective: obj, Optimum: opt,
			Env: envs.SpaceEnvConfig{EpisodeLength: 1}}, nil
	})
}

func gridRun(t *testing.T, alg string) experiments.Config {
	t.Helper()
	cfg := experiments.DefaultConfig()
	cfg.Name = "grid-" + alg
	cfg.OutDir = t.TempDir()
	cfg.Env.Kind = "grid"
	cfg.Algorithm.Kind = alg
	cfg.Algorithm.Threads = 1
	cf := commformer.DefaultConfig()
	cf.Embed, cf.Warmup, cf.Envs, cf.Steps, cf.Epochs, cf.AlphaEvery = 8, 1, 2, 6, 2, 2
	if err := cfg.Algorithm.SetTable("commformer", cf); err != nil {
		t.Fatal(err)
	}
	if alg != "commformer" {
		setKey(t, &cfg, "algorithm."+alg+".batch", int64(6))
	}
	cfg.Budget.Iterations = 5
	cfg.Eval.Every = 1
	cfg.Eval.Episodes = 1
	cfg.Log.Timing = false
	cfg.Checkpoint.Every = 1
	return cfg
}

// TestExternalDesignSpace: a design space registered from outside the
// package gets the environment form, the black-box searches, the regret
// against its optimum and the best design in the summary.
func TestExternalDesignSpace(t *testing.T) {
	for _, alg := range []string{"random", "tpe", "commformer"} {
		t.Run(alg, func(t *testing.T) {
			sums, err := experiments.Run(context.Background(), gridRun(t, alg), experiments.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s := sums[0]
			if s.Primary.Name != "regret" || s.Best == nil || s.Best.Regret == nil || s.Best.Optimum["a"] != "3" || s.Best.Optimum["b"] != "5" {
				t.Fatalf("summary %+v best %+v", s, s.Best)
			}
			if r, ok := s.Final["regret"]; !ok || float64(r) != *s.Best.Regret || float64(s.Final["best_value"]) != s.Best.Objective {
				t.Fatalf("final row %v, best %+v", s.Final, s.Best)
			}
			if s.UniqueEvals < 2 {
				t.Fatalf("unique evaluations %v", s.UniqueEvals)
			}
		})
	}
}

// TestFailedEvaluationStopsRun: a simulator that breaks mid-run fails the
// iteration with its error (never a quiet reward of 0); the run stops, keeps
// the last good checkpoint and is not marked done.
func TestFailedEvaluationStopsRun(t *testing.T) {
	for _, alg := range []string{"commformer", "random"} {
		t.Run(alg, func(t *testing.T) {
			cfg := gridRun(t, alg)
			// The start design takes one evaluation and each iteration
			// proposes 12 (learner) or 6 (search) designs: the simulator
			// breaks during iteration 3 at the latest.
			setKey(t, &cfg, "env.grid.fail_after", int64(14))
			setKey(t, &cfg, "env.grid.values", int64(60))
			_, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
			if err == nil || !errors.Is(err, errBroken) {
				t.Fatalf("run error %v, want one wrapping %v", err, errBroken)
			}
			dir := experiments.RunDir(&cfg, 1)
			var failedAt, lastCkpt int
			if _, err := fmt.Sscanf(err.Error()[strings.Index(err.Error(), "iteration "):], "iteration %d", &failedAt); err != nil {
				t.Fatalf("error %q names no iteration", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("last checkpoint: iteration %d", failedAt-1)) {
				t.Fatalf("error %q does not name the last checkpoint %d", err, failedAt-1)
			}
			cks, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "iter-*.ckpt"))
			for _, c := range cks {
				fmt.Sscanf(filepath.Base(c), "iter-%d.ckpt", &lastCkpt)
			}
			if failedAt < 2 || lastCkpt != failedAt-1 {
				t.Fatalf("failed at iteration %d, last checkpoint %d (%v)", failedAt, lastCkpt, cks)
			}
			rows, err := experiments.ReadMetricsJSONL(filepath.Join(dir, "metrics.jsonl"))
			if err != nil || len(rows) != failedAt-1 {
				t.Fatalf("%d metrics rows (%v), want %d", len(rows), err, failedAt-1)
			}
			for _, f := range []string{"DONE", "summary.json"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Errorf("a failed run wrote %s", f)
				}
			}
		})
	}
}

// TestSummaryOutcome: every algorithm kind's summary says when the final
// best value was first reached (checked against the metrics rows), the start
// design (every knob at 0: f = 9 + 25 + 1 = 35), the gain over it and the
// number of designs tying for the optimum (the grid's minimum is unique).
func TestSummaryOutcome(t *testing.T) {
	for _, alg := range []string{"random", "commformer"} {
		t.Run(alg, func(t *testing.T) {
			cfg := gridRun(t, alg)
			if alg == "random" {
				// One design per iteration: the best is found later than
				// iteration 1, at an exact evaluation.
				setKey(t, &cfg, "algorithm.random.batch", int64(1))
				cfg.Budget.Iterations = 12
			}
			sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b := sums[0].Best
			if b == nil || b.Start == nil || b.GainOverStart == nil || b.FoundAtIteration == nil || b.FoundAtEvaluation == nil || b.FoundFromEvaluation == nil {
				t.Fatalf("best design without its outcome: %+v", b)
			}
			if b.Start.Objective != 35 || b.Start.Knobs["a"] != "0" || b.Start.Knobs["b"] != "0" {
				t.Errorf("start design %+v, want a=0 b=0 with f = 35", b.Start)
			}
			if want := (35 - b.Objective) / 35; *b.GainOverStart != want {
				t.Errorf("gain over start %v, want %v", *b.GainOverStart, want)
			}
			if b.OptimumTies != 1 || b.Unit != "1" {
				t.Errorf("optimum ties %d unit %q, want 1 and \"1\"", b.OptimumTies, b.Unit)
			}
			rows, err := experiments.ReadMetricsJSONL(filepath.Join(sums[0].Dir, "metrics.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			// Independently: the first row at the final best value, and the
			// unique evaluations spent before it (the start design is 1).
			wantIt, wantFrom, wantAt, prev := -1, 0, 0, 1.0
			for _, r := range rows {
				if r["best_value"] == b.Objective {
					wantIt, wantFrom, wantAt = int(r["iteration"]), int(prev)+1, int(r["unique_evals"])
					break
				}
				prev = r["unique_evals"]
			}
			if b.Objective == 35 {
				wantIt, wantFrom, wantAt = 0, 1, 1
			}
			if *b.FoundAtIteration != wantIt || *b.FoundFromEvaluation != wantFrom || *b.FoundAtEvaluation != wantAt {
				t.Errorf("found at iteration %d, evaluations %d-%d; want %d, %d-%d", *b.FoundAtIteration, *b.FoundFromEvaluation, *b.FoundAtEvaluation, wantIt, wantFrom, wantAt)
			}
			if alg == "random" && *b.FoundFromEvaluation != *b.FoundAtEvaluation {
				t.Errorf("one design per iteration, but found among evaluations %d-%d", *b.FoundFromEvaluation, *b.FoundAtEvaluation)
			}
			t.Logf("best %v found at iteration %d, evaluations %d-%d", b.Objective, wantIt, wantFrom, wantAt)
			data := read(t, filepath.Join(sums[0].Dir, "summary.json"))
			for _, key := range []string{`"found_at_iteration"`, `"found_at_evaluation"`, `"gain_over_start"`, `"start_design"`, `"optimum_ties": 1`} {
				if !strings.Contains(data, key) {
					t.Errorf("summary.json lacks %s", key)
				}
			}
		})
	}
}
