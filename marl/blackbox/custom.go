package blackbox

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/marl/contract"
)

// Method is a search method defined outside this package (the single-agent
// RL baselines of marl/single are methods): it proposes each batch and
// learns from its rewards, while the Search it runs in owns everything the
// methods share and the contract requires: the unique-evaluation budget
// and cache, parallel evaluation in proposal order, the best design and
// regret columns, and the checkpoint (history, evaluation cache, the random
// streams the method was given, and the method's State).
type Method interface {
	// Propose returns the next batch of configurations.
	Propose(v View) [][]int
	// Observe receives the reward of each proposal (Objective.Reward, -Inf
	// for a failed value), NaN for a proposal the budget dropped.
	Observe(v View, props [][]int, rewards []float64)
	// Metrics adds method-specific columns to an iteration's row.
	Metrics(m contract.Metrics)
	// State and SetState (de)serialise the method's own state (parameters,
	// optimiser moments, buffers); the random streams are not part of it.
	State() ([]byte, error)
	SetState([]byte) error
}

// View is what a Method may read of its search.
type View struct{ s *Search }

// Sizes returns the number of values of each knob.
func (v View) Sizes() []int { return v.s.sizes }

// Batch returns the configured batch size.
func (v View) Batch() int { return v.s.cfg.Batch }

// Remaining returns the unique evaluations left (math.MaxInt when unlimited).
func (v View) Remaining() int { return v.s.remaining() }

// Known reports whether cfg has been evaluated by the search.
func (v View) Known(cfg []int) bool { return v.s.known(cfg) }

// Evaluations returns the number of designs evaluated by the search.
func (v View) Evaluations() int { return len(v.s.hist) }

// Record returns the configuration and reward of the i-th evaluated design
// (the slice is shared: do not modify it).
func (v View) Record(i int) ([]int, float64) { return v.s.hist[i].Config, v.s.hist[i].Reward }

// Iteration returns the number of completed iterations.
func (v View) Iteration() int { return v.s.iter }

// NewMethod builds a search whose proposals come from the Method that build
// returns; kind names it in checkpoints (as "blackbox/<kind>") and errors.
// build receives a function that derives a named random stream from the
// search's seed (purpose numbers from 100 up, distinct from the built-in
// kinds'); those streams are saved and restored with the search. Everything
// else is as for New: the budget, the Counted cache (shared when ds is
// one), determinism for any number of workers, and exact resume.
func NewMethod(kind string, ds envs.DesignSpace, obj *envs.Objective, cfg Config, seed uint64,
	build func(stream func(name string) *rand.Rand) (Method, error)) (*Search, error) {
	// Built as a random search, then given the custom method and only the
	// streams that method asks for.
	s, err := New(KindRandom, ds, obj, cfg, seed)
	if err != nil {
		return nil, err
	}
	s.kind = kind
	s.streams = nil
	purpose := uint64(100)
	m, err := build(func(name string) *rand.Rand {
		purpose++
		return s.stream(name, purpose)
	})
	if err != nil {
		return nil, fmt.Errorf("blackbox %s: %w", kind, err)
	}
	if m == nil {
		return nil, fmt.Errorf("blackbox %s: nil method", kind)
	}
	s.m = &custom{m: m}
	return s, nil
}

// custom adapts a Method to the package's method interface.
type custom struct{ m Method }

func (c *custom) propose(s *Search) [][]int { return c.m.Propose(View{s}) }

func (c *custom) observe(s *Search, props [][]int, idx []int) {
	rw := make([]float64, len(props))
	for i, j := range idx {
		if j < 0 {
			rw[i] = math.NaN()
		} else {
			rw[i] = s.hist[j].Reward
		}
	}
	c.m.Observe(View{s}, props, rw)
}

func (c *custom) metrics(m contract.Metrics) { c.m.Metrics(m) }
func (c *custom) state() ([]byte, error)     { return c.m.State() }
func (c *custom) setState(data []byte) error { return c.m.SetState(data) }
func (c *custom) check(*Search) error        { return nil }
