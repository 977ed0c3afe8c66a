package predprey

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/commgraph/commgraph/envs"
)

// MaxAgents bounds the number of agents (predators plus capture agents).
const MaxAgents = 16

// Actions.
const (
	Up = iota
	Right
	Down
	Left
	Stay
	Capture // capture variant only
)

// StepPenalty is the per-agent reward of a step not spent on the prey.
const StepPenalty = -0.05

// Config describes a predator-prey task.
//
// The struct tags document the fields for run files ([env.predprey] and
// [env.capture] of experiments decode straight into this type, from Easy and
// CaptureEasy; see experiments.Config for the tags' meaning).
type Config struct {
	Name      string `toml:"-"`                                                                                               // spec name; "" gives a generated one
	Dim       int    `toml:"grid_size" unit:"cells" range:"[2, 100]" doc:"side D of the square grid"`                         // grid side D
	Predators int    `toml:"predators" unit:"agents" range:"[0, 16]" doc:"perception predators"`                              // perception predators
	Capturers int    `toml:"capturers" unit:"agents" range:"[0, 16]" doc:"blind capture agents (> 0: predator-capture-prey)"` // capture agents (> 0 selects predator-capture-prey)
	Vision    int    `toml:"vision" unit:"cells" range:"[0, 10]" doc:"observation window radius v"`                           // window radius v
	MaxSteps  int    `toml:"max_steps" unit:"steps" range:"[1, 100000]" doc:"episode cap (truncation)"`                       // episode cap (truncation)
}

// Easy is the paper's predator-prey setting: 5x5, 3 predators, vision 1, cap 20.
func Easy() Config {
	return Config{Name: "predprey-easy", Dim: 5, Predators: 3, Vision: 1, MaxSteps: 20}
}

// Medium: 10x10, 5 predators, vision 1, cap 40.
func Medium() Config {
	return Config{Name: "predprey-medium", Dim: 10, Predators: 5, Vision: 1, MaxSteps: 40}
}

// Hard: 20x20, 10 predators, vision 1, cap 80.
func Hard() Config {
	return Config{Name: "predprey-hard", Dim: 20, Predators: 10, Vision: 1, MaxSteps: 80}
}

// CaptureEasy is predator-capture-prey: 5x5, 2 perception predators, 1 blind
// capture agent, vision 1, cap 20 (the reference's evaluation episode length).
func CaptureEasy() Config {
	return Config{Name: "predcapture-easy", Dim: 5, Predators: 2, Capturers: 1, Vision: 1, MaxSteps: 20}
}

// Presets maps preset names to configurations.
var presets = map[string]func() Config{
	"easy": Easy, "medium": Medium, "hard": Hard, "capture": CaptureEasy,
}

// PresetNames lists the names Preset accepts, sorted.
func PresetNames() []string {
	var out []string
	for k := range presets {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Preset returns the named preset (easy, medium, hard, capture).
func Preset(name string) (Config, error) {
	f, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("predprey: unknown preset %q (have %v)", name, PresetNames())
	}
	return f(), nil
}

// Validate reports every problem with c, each error starting with the
// field's run-file key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) { errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want)) }
	n := c.Predators + c.Capturers
	if c.Dim < 2 || c.Dim > 100 {
		bad("grid_size", c.Dim, "must be in [2, 100]")
	}
	if c.Predators < 0 || c.Predators > MaxAgents {
		bad("predators", c.Predators, fmt.Sprintf("must be in [0, %d]", MaxAgents))
	}
	if c.Capturers < 0 || c.Capturers > MaxAgents {
		bad("capturers", c.Capturers, fmt.Sprintf("must be in [0, %d]", MaxAgents))
	}
	switch {
	case n < 1:
		bad("predators", c.Predators, fmt.Sprintf("need at least one agent (capturers %d)", c.Capturers))
	case n > MaxAgents:
		bad("predators", c.Predators, fmt.Sprintf("%d agents > MaxAgents %d", n, MaxAgents))
	case c.Dim >= 2 && n+1 > c.Dim*c.Dim:
		bad("predators", c.Predators, fmt.Sprintf("%d agents and a prey do not fit distinct cells of a %dx%d grid", n, c.Dim, c.Dim))
	}
	if c.Vision < 0 || c.Vision > 10 {
		bad("vision", c.Vision, "must be in [0, 10]")
	}
	if c.MaxSteps < 1 || c.MaxSteps > 100000 {
		bad("max_steps", c.MaxSteps, "must be in [1, 100000]")
	}
	return errors.Join(errs...)
}

// CellSize is the length of one window cell's vector, D^2+4.
func (c Config) CellSize() int { return c.Dim*c.Dim + 4 }

// ObsSize is the observation length of every agent, (2v+1)^2 (D^2+4).
func (c Config) ObsSize() int { w := 2*c.Vision + 1; return w * w * c.CellSize() }

// NumActions is 5, or 6 in the capture variant.
func (c Config) NumActions() int {
	if c.Capturers > 0 {
		return 6
	}
	return 5
}

// Pos is a grid cell.
type Pos struct{ Row, Col int }

// Env is a predator-prey environment. Its zero value is not usable: call New.
type Env struct {
	cfg   Config
	spec  envs.Spec // Agents is shared between clones and never modified
	n     int       // agents; 0..Predators-1 perceive, the rest capture
	row   [MaxAgents]int32
	col   [MaxAgents]int32
	prey  [2]int32
	reach [MaxAgents]bool
	capt  [MaxAgents]bool
	t     int
	done  bool
}

var _ envs.Env = (*Env)(nil)

// New returns an environment for c; call Reset before Step.
func New(c Config) (*Env, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("predprey: %w", err)
	}
	if c.Name == "" {
		c.Name = fmt.Sprintf("predprey-%dx%d-p%d-c%d-v%d", c.Dim, c.Dim, c.Predators, c.Capturers, c.Vision)
	}
	e := &Env{cfg: c, n: c.Predators + c.Capturers}
	e.spec = envs.Spec{Name: c.Name, MaxSteps: c.MaxSteps}
	for i := range e.n {
		name := fmt.Sprintf("predator%d", i)
		if i >= c.Predators {
			name = fmt.Sprintf("capturer%d", i-c.Predators)
		}
		e.spec.Agents = append(e.spec.Agents, envs.AgentSpec{Name: name, ObsSize: c.ObsSize(), NumActions: c.NumActions()})
	}
	e.done = true
	return e, nil
}

// MustNew is New for known-good configurations (presets); it panics on error.
func MustNew(c Config) *Env {
	e, err := New(c)
	if err != nil {
		panic(err)
	}
	return e
}

// Config returns the configuration.
func (e *Env) Config() Config { return e.cfg }

// Spec implements envs.Env.
func (e *Env) Spec() envs.Spec {
	s := e.spec
	s.Agents = slices.Clone(s.Agents)
	return s
}

// Clone implements envs.Env.
func (e *Env) Clone() envs.Env { c := *e; return &c }

// Reset implements envs.Env: agents and prey get distinct uniformly random
// cells drawn from a PCG stream seeded by seed.
func (e *Env) Reset(seed uint64, obs [][]float32) {
	var p rand.PCG
	p.Seed(seed, 0x70726564) // stream tag "pred"
	cells := e.cfg.Dim * e.cfg.Dim
	var taken [MaxAgents + 1]int32
	for i := 0; i <= e.n; i++ {
	draw:
		// Lemire's multiply-shift maps a 64-bit draw onto [0, cells); the
		// bias is below cells/2^64 and irrelevant here.
		hi, _ := bits.Mul64(p.Uint64(), uint64(cells))
		c := int32(hi)
		for _, t := range taken[:i] {
			if t == c {
				goto draw
			}
		}
		taken[i] = c
	}
	d := int32(e.cfg.Dim)
	for i := range e.n {
		e.row[i], e.col[i] = taken[i]/d, taken[i]%d
	}
	e.prey = [2]int32{taken[e.n] / d, taken[e.n] % d}
	e.clearEpisode()
	e.writeObs(obs)
}

func (e *Env) clearEpisode() {
	e.reach = [MaxAgents]bool{}
	e.capt = [MaxAgents]bool{}
	e.t, e.done = 0, false
}

// SetPositions starts an episode from hand-placed agents and prey (for tests
// and scripted scenarios) and writes the first observations. Positions need
// not be distinct, but agents must not start on the prey.
func (e *Env) SetPositions(agents []Pos, prey Pos, obs [][]float32) error {
	if len(agents) != e.n {
		return fmt.Errorf("predprey: %d agent positions, want %d", len(agents), e.n)
	}
	in := func(p Pos) bool { return p.Row >= 0 && p.Col >= 0 && p.Row < e.cfg.Dim && p.Col < e.cfg.Dim }
	if !in(prey) {
		return fmt.Errorf("predprey: prey %v outside the %dx%d grid", prey, e.cfg.Dim, e.cfg.Dim)
	}
	for i, p := range agents {
		if !in(p) {
			return fmt.Errorf("predprey: agent %d at %v outside the grid", i, p)
		}
		if p == prey {
			return fmt.Errorf("predprey: agent %d starts on the prey", i)
		}
	}
	for i, p := range agents {
		e.row[i], e.col[i] = int32(p.Row), int32(p.Col)
	}
	e.prey = [2]int32{int32(prey.Row), int32(prey.Col)}
	e.clearEpisode()
	e.writeObs(obs)
	return nil
}

// Agent returns agent i's cell.
func (e *Env) Agent(i int) Pos { return Pos{int(e.row[i]), int(e.col[i])} }

// Prey returns the prey's cell.
func (e *Env) Prey() Pos { return Pos{int(e.prey[0]), int(e.prey[1])} }

// Reached reports whether agent i has reached the prey.
func (e *Env) Reached(i int) bool { return e.reach[i] }

// Captured reports whether capture agent i (an agent index) has captured.
func (e *Env) Captured(i int) bool { return e.capt[i] }

// Steps returns the number of steps taken in the current episode.
func (e *Env) Steps() int { return e.t }

// IsCapturer reports whether agent i is a (blind) capture agent.
func (e *Env) IsCapturer(i int) bool { return i >= e.cfg.Predators }

func (e *Env) onPrey(i int) bool { return e.row[i] == e.prey[0] && e.col[i] == e.prey[1] }

// Step implements envs.Env.
func (e *Env) Step(actions []int, obs [][]float32, rewards []float32) envs.StepResult {
	if e.done {
		panic("predprey: Step on a finished episode (call Reset)")
	}
	if len(actions) != e.n || len(rewards) != e.n {
		panic(fmt.Sprintf("predprey: %d actions and %d rewards for %d agents", len(actions), len(rewards), e.n))
	}
	na := e.cfg.NumActions()
	last := int32(e.cfg.Dim - 1)
	for i, a := range actions {
		if a < 0 || a >= na {
			panic(fmt.Sprintf("predprey: agent %d action %d outside [0,%d)", i, a, na))
		}
		if e.IsCapturer(i) {
			if e.capt[i] {
				continue
			}
			if a == Capture {
				// Capturing needs the agent to be on the prey already: it
				// arrives in one step and captures in a later one.
				if e.onPrey(i) {
					e.capt[i] = true
				}
				continue
			}
		}
		if e.reach[i] {
			continue // frozen on the prey
		}
		switch a {
		case Up:
			e.row[i] = max(e.row[i]-1, 0)
		case Right:
			e.col[i] = min(e.col[i]+1, last)
		case Down:
			e.row[i] = min(e.row[i]+1, last)
		case Left:
			e.col[i] = max(e.col[i]-1, 0)
		}
	}
	all := true
	for i := range e.n {
		rewards[i] = StepPenalty
		if e.onPrey(i) {
			e.reach[i] = true
			if !e.IsCapturer(i) || e.capt[i] {
				rewards[i] = 0
			}
		}
		all = all && e.reach[i] && (!e.IsCapturer(i) || e.capt[i])
	}
	e.t++
	r := envs.StepResult{Terminated: all, Truncated: !all && e.t >= e.cfg.MaxSteps}
	e.done = r.Done()
	e.writeObs(obs)
	return r
}

// writeObs fills every agent's window (see the package comment for the
// layout).
func (e *Env) writeObs(obs [][]float32) {
	d := int32(e.cfg.Dim)
	v := int32(e.cfg.Vision)
	cs := e.cfg.CellSize()
	base := int(d * d)
	for i := range e.n {
		o := obs[i][:e.cfg.ObsSize()]
		clear(o)
		blind := e.IsCapturer(i)
		k := 0
		for r := e.row[i] - v; r <= e.row[i]+v; r++ {
			for c := e.col[i] - v; c <= e.col[i]+v; c++ {
				cell := o[k*cs : (k+1)*cs]
				k++
				if r < 0 || c < 0 || r >= d || c >= d {
					cell[base+1] = 1
				} else {
					cell[r*d+c] = 1
					if r == e.prey[0] && c == e.prey[1] {
						cell[base+2] = 1
					}
					for j := range e.n {
						if e.row[j] == r && e.col[j] == c {
							if e.IsCapturer(j) {
								cell[base]++
							} else {
								cell[base+3]++
							}
						}
					}
				}
				if blind {
					cell[base], cell[base+1], cell[base+2], cell[base+3] = -1, -1, -1, -1
				}
			}
		}
	}
}
