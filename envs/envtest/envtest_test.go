package envtest_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/envtest"
)

// coinEnv: two agents guess a seeded hidden bit; the episode terminates
// when both guess it and is truncated after 5 steps.
type coinEnv struct {
	bit, t int
}

func (e *coinEnv) Spec() envs.Spec {
	return envs.Spec{Name: "coin", MaxSteps: 5, Agents: []envs.AgentSpec{
		{Name: "a", ObsSize: 2, NumActions: 2}, {Name: "b", ObsSize: 1, NumActions: 3}}}
}
func (e *coinEnv) Reset(seed uint64, obs [][]float32) {
	e.bit = int(rand.NewPCG(seed, 0).Uint64() & 1)
	e.t = 0
	e.obs(obs)
}
func (e *coinEnv) obs(obs [][]float32) {
	obs[0][0], obs[0][1] = float32(e.t), float32(e.bit)
	obs[1][0] = float32(e.t)
}
func (e *coinEnv) Step(a []int, obs [][]float32, rew []float32) envs.StepResult {
	e.t++
	ok := a[0] == e.bit && a[1] == e.bit
	for i := range rew {
		rew[i] = -1
		if ok {
			rew[i] = 0
		}
	}
	e.obs(obs)
	return envs.StepResult{Terminated: ok, Truncated: !ok && e.t >= 5}
}
func (e *coinEnv) Clone() envs.Env { c := *e; return &c }

func TestEnvContract(t *testing.T) {
	envtest.EnvWith(t, func() envs.Env { return &coinEnv{} }, envtest.EnvOptions{ZeroAllocStep: true})
}

// sumSpace: metric = sum of value indices (and its square); safe for
// concurrent use because it has no state.
type sumSpace struct{}

func (sumSpace) Name() string { return "sum" }
func (sumSpace) Knobs() []envs.Knob {
	return []envs.Knob{{Name: "x", Values: []string{"0", "1", "2"}}, {Name: "y", Values: []string{"a", "b"}}}
}
func (sumSpace) MetricNames() []string { return []string{"s", "s2"} }
func (s sumSpace) Evaluate(cfg []int, out []float64) error {
	k := s.Knobs()
	if len(cfg) != len(k) {
		return fmt.Errorf("config has %d values, want %d", len(cfg), len(k))
	}
	v := 0
	for i, c := range cfg {
		if c < 0 || c >= len(k[i].Values) {
			return fmt.Errorf("knob %s: index %d out of range", k[i].Name, c)
		}
		v += c
	}
	out[0], out[1] = float64(v), float64(v*v)
	return nil
}

func TestDesignSpaceContract(t *testing.T) {
	envtest.DesignSpace(t, sumSpace{})
}
