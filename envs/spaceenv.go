package envs

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
)

// SpaceEnvConfig configures a SpaceEnv.
type SpaceEnvConfig struct {
	// Objective scores designs; it must be bound to the space's metric
	// names. A minimize/constrained objective without a reference gets the
	// starting design's metrics as reference.
	Objective *Objective
	// EpisodeLength is the number of design revisions per episode, >= 1
	// (1: the bandit form of the published MARL memory-controller study).
	EpisodeLength int
	// Start is the starting design (default: every knob at its first value,
	// ArchGym's starting point). It is also the reference of the metric
	// observations.
	Start []int
	// RandomStart draws each episode's starting design uniformly from the
	// space with the reset seed instead of using Start.
	RandomStart bool
	// ObsMetrics names the metrics observed (default: all of the space's
	// metrics). Observed metrics must be positive at the starting design
	// (they are observed on a log scale); pick positive ones for spaces with
	// signed metrics.
	ObsMetrics []string
	// TruncateAtEnd reports the end of an episode as truncation (bootstrap)
	// rather than termination. Default false: a DSE episode is a finite-
	// horizon task (the step fraction is observed), so the last step
	// terminates, as in ArchGym.
	TruncateAtEnd bool
}

// SpaceEnv presents a DesignSpace as a cooperative multi-agent environment
// with one agent per knob (agent name = knob name).
//
// Observation of agent i (all agents share one size, M + V + 1):
//
//	[0, M)       log(metric_j / start_j) for each of the M observed metrics
//	             (SpaceEnvConfig.ObsMetrics, default all) of the current
//	             design, relative to the starting design (so the start
//	             observes zeros; a design twice as slow +0.69); clamped to
//	             [-50, 50] should a metric reach zero or below
//	[M, M+V)     one-hot of the agent's own current value index, padded with
//	             zeros to V, the largest value count over the knobs
//	M+V          step fraction t / EpisodeLength
//
// Actions: agent i picks a value index of its knob (NumActions = the knob's
// value count, heterogeneous). Every step, all agents set their knobs at
// once, the new design is evaluated, and every agent receives the same
// reward, the objective. Evaluations go through the DesignSpace as given:
// wrap it in a Counted to charge and cache them (clones share it).
//
// If an evaluation fails (e.g. ErrBudgetExhausted) the step terminates the
// episode with zero rewards, the design and metrics stay at the last good
// ones, and Err reports the error until the next successful evaluation.
// The Env contract has no error return, so the first failure of any clone
// is also kept for good: Failure reports it on every clone, and a run
// checks it after each iteration and stops with the error.
type SpaceEnv struct {
	spaceView
	cfg  SpaceEnvConfig
	spec Spec
	fail *failure // the first failed evaluation of any clone, shared

	// Episode state (deep-copied by Clone).
	cur     []int
	metrics []float64
	reward  float64
	t       int
	done    bool
	err     error
}

var _ Env = (*SpaceEnv)(nil)

// NewSpaceEnv builds the environment and evaluates the starting design once
// (through ds, so a Counted charges it).
func NewSpaceEnv(ds DesignSpace, cfg SpaceEnvConfig) (*SpaceEnv, error) {
	if cfg.Objective == nil {
		return nil, fmt.Errorf("space env %s: no objective", ds.Name())
	}
	if cfg.EpisodeLength < 1 {
		return nil, fmt.Errorf("space env %s: episode length %d, want >= 1 (1 = the bandit form)", ds.Name(), cfg.EpisodeLength)
	}
	v, start, err := newSpaceView(ds, cfg.Objective, cfg.Start, cfg.ObsMetrics, "space env", "start design")
	if err != nil {
		return nil, err
	}
	cfg.Start = start
	e := &SpaceEnv{spaceView: v, cfg: cfg, fail: &failure{}}
	e.spec = Spec{Name: "space:" + ds.Name(), MaxSteps: cfg.EpisodeLength, Agents: e.agents(len(e.obsM) + e.maxV + 1)}
	e.cur = slices.Clone(cfg.Start)
	e.metrics = slices.Clone(e.ref)
	e.done = true
	return e, nil
}

// Spec implements Env.
func (e *SpaceEnv) Spec() Spec {
	s := e.spec
	s.Agents = slices.Clone(s.Agents)
	return s
}

// Clone implements Env; the design space and objective are shared.
func (e *SpaceEnv) Clone() Env {
	c := *e
	c.cur = slices.Clone(e.cur)
	c.metrics = slices.Clone(e.metrics)
	return &c
}

// Space returns the design space.
func (e *SpaceEnv) Space() DesignSpace { return e.ds }

// Objective returns the objective (with its reference resolved).
func (e *SpaceEnv) Objective() *Objective { return e.obj }

// Design returns a copy of the current (last evaluated) configuration.
func (e *SpaceEnv) Design() []int { return slices.Clone(e.cur) }

// Metrics returns a copy of the current design's metrics, physical units.
func (e *SpaceEnv) Metrics() []float64 { return slices.Clone(e.metrics) }

// Reward returns the objective's reward of the current design.
func (e *SpaceEnv) Reward() float64 { return e.reward }

// StartMetrics returns a copy of the starting design's metrics (the
// observation reference).
func (e *SpaceEnv) StartMetrics() []float64 { return slices.Clone(e.ref) }

// Err returns the error of the last failed evaluation, nil after a
// successful one.
func (e *SpaceEnv) Err() error { return e.err }

// Failure returns the first evaluation error of this environment or any of
// its clones (nil when none failed); unlike Err it is never cleared.
func (e *SpaceEnv) Failure() error { return e.fail.get() }

// failure keeps the first error reported to it; safe for concurrent use.
type failure struct {
	mu  sync.Mutex
	err error
}

func (f *failure) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *failure) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Reset implements Env. With RandomStart, the start is drawn from a PCG
// stream seeded by seed (and evaluated); otherwise it is the configured
// start and seed is ignored.
func (e *SpaceEnv) Reset(seed uint64, obs [][]float32) {
	e.t, e.done = 0, false
	if e.cfg.RandomStart {
		var p rand.PCG
		p.Seed(seed, 0x7370616365) // "space"
		for i, k := range e.knobs {
			hi, _ := bits.Mul64(p.Uint64(), uint64(len(k.Values)))
			e.cur[i] = int(hi)
		}
		if !e.evaluate() {
			// Fall back to the configured start; Err reports the failure.
			copy(e.cur, e.cfg.Start)
			copy(e.metrics, e.ref)
			e.reward = e.obj.Reward(e.metrics)
		}
	} else {
		copy(e.cur, e.cfg.Start)
		copy(e.metrics, e.ref)
		e.reward = e.obj.Reward(e.metrics)
		e.err = nil
	}
	e.writeObs(obs)
}

// evaluate runs the current design; on failure it restores nothing (the
// caller decides) and returns false.
func (e *SpaceEnv) evaluate() bool {
	if err := e.ds.Evaluate(e.cur, e.metrics); err != nil {
		e.err = err
		e.fail.set(err)
		return false
	}
	e.err = nil
	e.reward = e.obj.Reward(e.metrics)
	return true
}

// Step implements Env: actions are the new value index of every knob.
func (e *SpaceEnv) Step(actions []int, obs [][]float32, rewards []float32) StepResult {
	if e.done {
		panic("envs.SpaceEnv: Step on a finished episode (call Reset)")
	}
	if len(actions) != len(e.knobs) {
		panic(fmt.Sprintf("envs.SpaceEnv: %d actions for %d knobs", len(actions), len(e.knobs)))
	}
	var prev [16]int
	saved := append(prev[:0], e.cur...)
	var prevM [8]float64
	savedM := append(prevM[:0], e.metrics...)
	copy(e.cur, actions)
	e.t++
	ok := e.evaluate()
	r := StepResult{}
	if ok {
		for i := range rewards {
			rewards[i] = float32(e.reward)
		}
		if e.t >= e.cfg.EpisodeLength {
			r.Truncated = e.cfg.TruncateAtEnd
			r.Terminated = !e.cfg.TruncateAtEnd
		}
	} else {
		copy(e.cur, saved)
		copy(e.metrics, savedM)
		clear(rewards)
		r.Terminated = true
	}
	e.done = r.Done()
	e.writeObs(obs)
	return r
}

func (e *SpaceEnv) writeObs(obs [][]float32) {
	n := e.writeKnobObs(obs, e.metrics, e.cur)
	frac := float32(e.t) / float32(e.cfg.EpisodeLength)
	for i := range e.knobs {
		obs[i][n] = frac
	}
}
