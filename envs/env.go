package envs

// AgentSpec describes one agent of a multi-agent environment.
type AgentSpec struct {
	Name       string // stable, human-readable (e.g. a knob name)
	ObsSize    int    // length of this agent's observation vector
	NumActions int    // number of discrete actions available to this agent
}

// Spec describes a multi-agent environment.
type Spec struct {
	Name      string
	Agents    []AgentSpec
	StateSize int // length of the optional global state; 0 when absent
	MaxSteps  int // episode cap; reaching it truncates (bootstraps), it does not terminate
}

// MaxObs returns the largest observation size over the agents.
func (s Spec) MaxObs() int {
	m := 0
	for _, a := range s.Agents {
		m = max(m, a.ObsSize)
	}
	return m
}

// MaxActions returns the largest action count over the agents.
func (s Spec) MaxActions() int {
	m := 0
	for _, a := range s.Agents {
		m = max(m, a.NumActions)
	}
	return m
}

// StepResult is what an environment reports besides observations and rewards.
type StepResult struct {
	// Terminated: the episode ended in the environment's own terms (no bootstrap).
	Terminated bool
	// Truncated: the episode was cut by the step cap (bootstrap from the value).
	Truncated bool
	// Info carries optional named scalars (nil when there is nothing to report).
	Info map[string]float64
}

// Done reports whether the episode is over for either reason.
func (r StepResult) Done() bool { return r.Terminated || r.Truncated }

// Env is a cooperative multi-agent environment with PettingZoo "parallel"
// semantics: every agent acts at every step.
//
// Observations and rewards are written into caller-owned buffers so that the
// hot path allocates nothing: obs[i] has length Spec().Agents[i].ObsSize and
// rewards has one entry per agent.
//
// All state, including the environment's random source, lives in the value;
// Clone returns an independent copy, so K copies can be stepped from K
// goroutines without sharing anything.
type Env interface {
	Spec() Spec
	// Reset starts a new episode determined entirely by seed.
	Reset(seed uint64, obs [][]float32)
	// Step applies one action per agent. Calling Step after the episode is
	// done without a Reset is a programming error.
	Step(actions []int, obs [][]float32, rewards []float32) StepResult
	// Clone returns a deep copy of the environment and its state.
	Clone() Env
}

// ActionForcer is implemented by environments in which an agent can be
// bound to one action at a step (e.g. the agent of a knob pinned by the
// revision form can only keep its value). Learners then take that action
// with probability 1: it carries the agent's value to the agents that hear
// it, and, having no alternative, adds no noise to the policy gradient.
type ActionForcer interface {
	// ForcedActions writes, for every agent, the only action it may take
	// now, or -1 when it may take any of its actions.
	ForcedActions(dst []int)
}
