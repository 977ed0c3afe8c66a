package experimentstest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/marl"
)

// Delay is slept in every Iterate call (to give a test time to kill a run).
var Delay time.Duration

// Config is the [algorithm.fake] table.
type Config struct {
	LR    float64 `toml:"lr" range:"(0, 1]" doc:"step size of the fake descent"`
	Batch int64   `toml:"batch" unit:"environment steps" range:"[1, inf)" doc:"env_steps counted per iteration"`
}

// Register registers the fake algorithm and task under the kind "fake"
// (the task has no options; the algorithm's table is Config, with lr 5e-4
// and batch 4000).
func Register() {
	experiments.RegisterEnv("fake", struct{}{}, func(struct{}, experiments.RunInfo) (*experiments.Task, error) {
		return &experiments.Task{
			Label:     "fake-task",
			Primary:   experiments.Primary{Name: "eval_return", HigherIsBetter: true, X: "env_steps"},
			Threshold: -0.5,
		}, nil
	})
	experiments.RegisterAlgorithm("fake", Config{LR: 5e-4, Batch: 4000}, func(c Config, _ *experiments.Task, run experiments.RunInfo) (marl.Algorithm, error) {
		return New(run.Seed, c.LR, c.Batch), nil
	})
}

// Algorithm is a noisy gradient descent on a 4-parameter quadratic whose
// noise comes from a seeded PCG stream: deterministic, checkpointable and
// fast.
type Algorithm struct {
	iter  int
	steps int64
	batch int64
	lr    float64
	pcg   *rand.PCG
	theta [4]float64
}

// New returns a fake algorithm for a seed.
func New(seed uint64, lr float64, batch int64) *Algorithm {
	a := &Algorithm{lr: lr, batch: batch, pcg: rand.NewPCG(seed, 0x66616b65)}
	for i := range a.theta {
		a.theta[i] = 2 + float64(i)
	}
	return a
}

func (a *Algorithm) loss() float64 {
	s := 0.0
	for _, t := range a.theta {
		s += t * t
	}
	return s
}

// Iterate implements marl.Algorithm.
func (a *Algorithm) Iterate(ctx context.Context) (marl.Metrics, error) {
	if Delay > 0 {
		time.Sleep(Delay)
	}
	rng := rand.New(a.pcg)
	step := math.Min(0.5, a.lr*500)
	for i := range a.theta {
		a.theta[i] -= step*a.theta[i] + 0.05*rng.NormFloat64()
	}
	a.iter++
	a.steps += a.batch
	return marl.Metrics{
		"env_steps":    float64(a.steps),
		"unique_evals": float64(a.iter * 3),
		"return":       -a.loss() + 0.01*rng.NormFloat64(),
		"policy_loss":  a.loss(),
		"kl":           math.Abs(rng.NormFloat64()) * 1e-3,
		"entropy":      1 / float64(a.iter),
	}, nil
}

// Iteration implements marl.Algorithm.
func (a *Algorithm) Iteration() int { return a.iter }

// Checkpoint implements marl.Algorithm.
func (a *Algorithm) Checkpoint() (*marl.Checkpoint, error) {
	st, err := a.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &marl.Checkpoint{Algorithm: "fake", Iteration: a.iter, EnvSteps: a.steps,
		Scalars: slices.Clone(a.theta[:]), RNG: []marl.NamedBlob{{Name: "noise", Data: st}}}, nil
}

// Restore implements marl.Algorithm.
func (a *Algorithm) Restore(c *marl.Checkpoint) error {
	if c.Algorithm != "fake" || len(c.Scalars) != len(a.theta) || len(c.RNG) != 1 {
		return fmt.Errorf("fake checkpoint: algorithm %q with %d scalars and %d streams, want fake, %d and 1", c.Algorithm, len(c.Scalars), len(c.RNG), len(a.theta))
	}
	a.iter, a.steps = c.Iteration, c.EnvSteps
	copy(a.theta[:], c.Scalars)
	return a.pcg.UnmarshalBinary(c.RNG[0].Data)
}

// Evaluate implements marl.Algorithm; it uses no random numbers.
func (a *Algorithm) Evaluate(ctx context.Context, episodes int) (marl.Metrics, error) {
	return marl.Metrics{"return": -a.loss()}, nil
}

// GraphSnapshot returns a 3-agent graph whose weights change with the
// iteration (a valid comm.Snapshot, so every export format works on it).
func (a *Algorithm) GraphSnapshot() (any, error) {
	w := 1 / (1 + math.Abs(a.theta[0]))
	p := [][]float64{{1 - w, w, 0}, {0, 1 - w, w}, {w, 0, 1 - w}}
	return &comm.Snapshot{
		Iteration: a.iter, Agents: []string{"a0", "a1", "a2"}, Variant: comm.Learned, Sparsity: 0.4, K: 1,
		Logits: p, Probabilities: p, Adjacency: [][]int{{1, 1, 0}, {0, 1, 1}, {1, 0, 1}},
		ReceiveRates: []float64{1, 1, 1},
	}, nil
}
