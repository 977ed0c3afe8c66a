package commformer

import (
	"math/rand/v2"

	"github.com/commgraph/commgraph/envs"
)

// signalEnv is a tiny cooperative task that needs communication: agent 0
// (the speaker) observes a random bit; agent 1 (the listener) observes only
// a constant. Each agent is rewarded 1 when its action equals the bit, so
// the listener can only beat chance (0.5) by hearing the speaker. Episodes
// last Len steps (terminated), with a fresh bit every step. Agent 1 has 3
// actions (action 2 is never right) to exercise heterogeneous action counts.
type signalEnv struct {
	Len int
	// Bystanders adds agents that observe a constant and whose actions do
	// not matter (so a graph has more than one candidate sender).
	Bystanders int
	t          int
	bit        int
	src        *rand.PCG
	rng        *rand.Rand
}

func (e *signalEnv) Spec() envs.Spec {
	s := envs.Spec{Name: "signal", Agents: []envs.AgentSpec{
		{Name: "speaker", ObsSize: 3, NumActions: 2},
		{Name: "listener", ObsSize: 2, NumActions: 3},
	}, MaxSteps: e.Len}
	for range e.Bystanders {
		s.Agents = append(s.Agents, envs.AgentSpec{Name: "bystander", ObsSize: 2, NumActions: 2})
	}
	return s
}

func (e *signalEnv) obs(o [][]float32) {
	o[0][0], o[0][1], o[0][2] = float32(e.bit), float32(1-e.bit), 1
	o[1][0], o[1][1] = 1, 0
	for i := 2; i < len(o); i++ {
		o[i][0], o[i][1] = 0, 1
	}
}

func (e *signalEnv) Reset(seed uint64, o [][]float32) {
	e.src = rand.NewPCG(seed, 99)
	e.rng = rand.New(e.src)
	e.t = 0
	e.bit = e.rng.IntN(2)
	e.obs(o)
}

func (e *signalEnv) Step(a []int, o [][]float32, r []float32) envs.StepResult {
	for i := range r {
		r[i] = 0
		if i < 2 && a[i] == e.bit {
			r[i] = 1
		}
	}
	e.t++
	e.bit = e.rng.IntN(2)
	e.obs(o)
	return envs.StepResult{Terminated: e.t >= e.Len}
}

func (e *signalEnv) Clone() envs.Env {
	c := *e
	if e.src != nil {
		p := *e.src
		c.src = &p
		c.rng = rand.New(c.src)
	}
	return &c
}
