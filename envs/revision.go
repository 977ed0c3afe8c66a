package envs

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
)

// RevisionConfig configures a RevisionEnv.
type RevisionConfig struct {
	// Objective scores designs (bound to the space's metric names). A
	// minimize/constrained objective without a reference gets the metrics
	// of Reference as reference.
	Objective *Objective
	// Length is the number of revisions per episode (L >= 1; 4 to 8 is
	// typical).
	Length int
	// Pinned is the fraction of knobs pinned in each episode, in [0, 1):
	// round(Pinned*N) knobs, drawn per episode, keep their start value
	// whatever their agent chooses (the parts of a design an architect
	// cannot change). 0 pins nothing.
	Pinned float64
	// Reference is the design whose metrics are the observation reference
	// (default: every knob at its first value).
	Reference []int
	// ObsMetrics names the metrics observed (default: all; they must be
	// positive at Reference: they are observed on a log scale).
	ObsMetrics []string
	// Oracle, if not nil, writes into metrics the metrics of a best design
	// for this objective given the pinned knobs (pinned[i] = the value of
	// knob i, or -1 where free). It is called outside the evaluation budget
	// (a known landscape's solver, or a lookup in an exhaustive sweep).
	// Rewards are then measured from the best design's score, so that an
	// episode's return is minus its final regret.
	Oracle func(pinned []int, metrics []float64) error
	// Credit selects the rewards: "shared" (default: every agent receives
	// the improvement of the design's score), "difference" (agent i
	// receives the score of the new design minus the score it would have
	// had with knob i left at its previous value: Wolpert & Tumer's
	// difference reward, which removes the other agents' moves from agent
	// i's signal and keeps what depends on its partners' values), or
	// "improvement" (Start "elite" only: every agent receives the child's
	// improvement over its parent when it is positive and the child is new,
	// i.e. not placed in the evaluation order before this iteration, and 0
	// otherwise). It is the improvement criterion of Bayesian optimisation
	// (Jones, Schonlau & Welch, "Efficient global optimization of expensive
	// black-box functions", 1998) applied per child. An elitist search keeps
	// its parents whatever their children score, so a worse child costs one
	// evaluation and nothing else, while the signed difference of "shared"
	// teaches the policy to avoid bad children (a risk-averse operator) and
	// pays for re-proposing known designs better than the parent.
	Credit string
	// Counterfactual evaluates the designs of difference rewards (nil: the
	// environment's space, so a Counted charges them as evaluations).
	Counterfactual func(cfg []int, metrics []float64) error
	// AgentID appends a one-hot of the agent's index to its observation
	// (N more entries), so that a receiver can tell its senders apart: the
	// rest of a knob's observation (its value's one-hot) is anonymous, and a
	// message "some sender has value 2" does not say whose.
	AgentID bool
	// Start selects where episodes start: "uniform" (default: a design
	// drawn uniformly, Pinned of its knobs pinned) or "elite" (the search
	// form: a parent drawn uniformly from the Elite best designs evaluated
	// so far, with all knobs but Free pinned, so that an episode proposes
	// a child that differs from its parent in at most Free knobs; the space
	// must be a *Counted, whose evaluation order the archive reads).
	Start string
	// Elite is the size of the parent archive of Start "elite" (>= 1).
	Elite int
	// Free is the number of knobs each episode of Start "elite" may change
	// (1 <= Free <= the number of knobs); Pinned is not used then.
	Free int
	// Stall, with Start "elite" and > 0: once Stall unique evaluations have
	// been placed since the best score was first reached, half of the
	// episodes start from a uniformly drawn design with no knob pinned
	// (random immigrants) until the best improves. 0 never does.
	Stall int
	// FirstGen, with Start "elite", chooses how the search starts while the
	// archive holds fewer than Elite placed designs (the first iteration):
	// 0 = every episode from its own uniform design with no knob pinned (a
	// random first generation of about two designs per episode: the start
	// and the near-uniform child of the untrained policy); n > 0 = from a
	// first generation of n uniform designs drawn once from Seed, with all
	// knobs but Free pinned as later (the initial population of a (mu +
	// lambda) search).
	FirstGen int
	// FirstStart, with Start "elite" and FirstGen 0, chooses where the
	// first iteration's episodes start: "uniform" (default, as above: two
	// evaluations per episode, the uniform start and its child) or
	// "reference" (the reference design with no knob pinned, whose
	// evaluation is already charged: one evaluation per episode, the
	// policy's own proposal of a whole design, as in the bandit form's first
	// iteration, so that the policy's first update sees its own choices
	// scored against one common start). Random immigrants stay uniform.
	FirstStart string
	// Seed draws the first generation of FirstGen > 0.
	Seed uint64
	// FreeGroups, with Start "elite", restricts each child's free knobs to
	// one group of knobs: an episode from a parent draws a group uniformly,
	// then min(Free, group size) of its knobs uniformly; every other knob
	// keeps the parent's value. Groups are the blocks of a design known (or
	// measured) to interact only weakly with each other, e.g. the channels
	// of a multi-channel memory system, so that a child changes one block
	// and leaves the others' good settings alone: the linkage-respecting
	// variation of linkage-learning evolutionary algorithms (Thierens, "The
	// linkage tree genetic algorithm", PPSN 2010). nil = the free knobs are
	// drawn from all knobs. Indices must be in range; groups may overlap.
	FreeGroups [][]int
	// FreeLaw, with Start "elite" and > 0, draws each child's number of free
	// knobs anew: k in [1, Free] with P(k) proportional to k^-FreeLaw, so
	// most children change one or two knobs and a few change many (with
	// FreeGroups, min(k, group size) of one group). This is the heavy-tailed
	// mutation of Doerr, Le, Makhmara and Nguyen ("Fast genetic algorithms",
	// GECCO 2017; exponent 1.5 there), which keeps the local steps of a
	// small mutation while long jumps stay possible. 0 = every child has
	// exactly Free free knobs.
	FreeLaw float64
	// CrossRate, with Start "elite" and > 0, is the probability that an
	// episode whose parent came from the archive starts instead from a
	// uniform crossover of that parent with a second archive member drawn
	// uniformly (each knob from either with probability 1/2; Syswerda,
	// "Uniform crossover in genetic algorithms", ICGA 1989). The free knobs
	// are then drawn and pinned as for any parent, so the child recombines
	// two elites and the policy mutates it. The crossed start is not
	// evaluated: the parent's metrics and score stand for it (observations
	// and the child's credit), so a crossover costs no evaluation beyond the
	// child's. 0 = no crossover (the form before session 21).
	CrossRate float64
}

// CheckFormKeys reports the errors of the run-file keys that choose a
// design space's environment form (form = "bandit", "revision" or "search", pinned in
// [0, 1), credit = "shared" or "difference", or "improvement" with form =
// "search"), each starting with its key; the design-space kinds share them.
func CheckFormKeys(form string, pinned float64, credit string) []error {
	var errs []error
	if form != "bandit" && form != "revision" && form != "search" {
		errs = append(errs, fmt.Errorf(`form = %q: must be "bandit", "revision" or "search"`, form))
	}
	if !(pinned >= 0 && pinned < 1) {
		errs = append(errs, fmt.Errorf("pinned = %v: must be in [0, 1)", pinned))
	}
	switch {
	case credit == "improvement" && form != "search":
		errs = append(errs, fmt.Errorf(`credit = "improvement": needs form = "search" (form = %q)`, form))
	case credit != "shared" && credit != "difference" && credit != "improvement":
		errs = append(errs, fmt.Errorf(`credit = %q: must be "shared", "difference" or "improvement"`, credit))
	}
	return errs
}

// CheckSearchKeys reports the errors of the keys of the search form
// (elite in [1, 4096], free in [1, knobs], stall >= 0, first_gen in [0,
// 4096], first_start "uniform" or "reference", the latter with first_gen =
// 0; checked whatever the form, as every key is), each starting with its
// key.
func CheckSearchKeys(elite, free, stall, firstGen int, firstStart string, knobs int) []error {
	var errs []error
	if stall < 0 {
		errs = append(errs, fmt.Errorf("stall = %d: must be >= 0", stall))
	}
	if elite < 1 || elite > 4096 {
		errs = append(errs, fmt.Errorf("elite = %d: must be in [1, 4096]", elite))
	}
	if free < 1 || free > knobs {
		errs = append(errs, fmt.Errorf("free = %d: must be in [1, %d] (the knobs)", free, knobs))
	}
	if firstGen < 0 || firstGen > 4096 {
		errs = append(errs, fmt.Errorf("first_gen = %d: must be in [0, 4096]", firstGen))
	}
	switch {
	case firstStart != "uniform" && firstStart != "reference":
		errs = append(errs, fmt.Errorf(`first_start = %q: must be "uniform" or "reference"`, firstStart))
	case firstStart == "reference" && firstGen != 0:
		errs = append(errs, fmt.Errorf(`first_start = "reference": needs first_gen = 0 (first_gen = %d draws its own first generation)`, firstGen))
	}
	return errs
}

// RevisionEnv is the design-revision form of a DesignSpace: one agent per
// knob; an episode starts from a design drawn uniformly from the space
// (seeded by the reset seed) with a random subset of the knobs pinned, and
// for Length steps every agent sets its knob's next value (a pinned knob
// keeps its value). Unlike the bandit form (SpaceEnv with one step from a
// fixed start, where every agent observes the same constant), the best
// value of a free knob here depends on the current values of the knobs it
// interacts with, which its agent observes only through messages.
//
// Observation of agent i (every agent has size M + V + 2, plus N with
// AgentID):
//
//	[0, M)      log(metric_j / reference_j) of the current design, for each
//	            observed metric (global: every agent sees the same)
//	[M, M+V)    one-hot of the agent's own current value, zero-padded to V,
//	            the largest value count
//	M+V         1 if the agent's knob is pinned in this episode, else 0
//	M+V+1       step fraction t / Length
//	[M+V+2, +N) with AgentID: one-hot of the agent's index i
//
// Reward (Credit "shared", the same for every agent): the improvement of the
// objective's score, r_t = score(x_t) - score(x_{t-1}), so that the return telescopes to
// score(x_L) - score(x_0): credit for the final design, with a dense signal
// (potential-based shaping, Ng, Harada & Russell 1999, keeps the optimal
// policy). With an Oracle, x_0's score is replaced by the best score
// reachable given the pinned knobs, so the return is minus the final
// regret (0 is perfect) and its mean over evaluation episodes is directly
// the quality measure. With Credit "difference" agent i instead receives
// score(x_t) - score(x_t with knob i at x_{t-1,i}). The last step
// terminates the episode.
//
// The last step's StepResult.Info carries "final_gain" (score(x_L) -
// score(x_0)) and, with an oracle, "final_regret" (score(x*) - score(x_L)
// for the oracle's x*).
//
// An evaluation error ends the episode with zero rewards; Err reports it,
// and Failure keeps the first failure of any clone (the Env contract has no
// error return: a run checks it after each iteration).
type RevisionEnv struct {
	spaceView
	cfg  RevisionConfig
	spec Spec
	nPin int
	// freeCDF is the cumulative distribution of a child's free-knob count
	// (RevisionConfig.FreeLaw; entry k-1 = P(count <= k)); nil = Free.
	freeCDF []float64
	fail    *failure // the first failed evaluation of any clone, shared
	// elite is the parent archive of the search form (Start "elite"),
	// shared by the clones; nil otherwise.
	elite *eliteArchive

	// Episode state (deep-copied by Clone).
	cur, pinned []int // pinned: value or -1
	prev, cf    []int // the previous design; counterfactual scratch
	cfM         []float64
	metrics     []float64
	score, best float64 // current score; the oracle's best score (NaN without oracle)
	startScore  float64
	t           int
	done        bool
	err         error
	perm        []int
}

var (
	_ Env          = (*RevisionEnv)(nil)
	_ ActionForcer = (*RevisionEnv)(nil)
)

// NewRevisionEnv builds the environment and evaluates the reference design
// once (through ds, so a Counted charges it).
func NewRevisionEnv(ds DesignSpace, cfg RevisionConfig) (*RevisionEnv, error) {
	name := ds.Name()
	switch {
	case cfg.Length < 1:
		return nil, fmt.Errorf("revision env %s: length %d, must be >= 1", name, cfg.Length)
	case !(cfg.Pinned >= 0 && cfg.Pinned < 1):
		return nil, fmt.Errorf("revision env %s: pinned fraction %v, must be in [0, 1)", name, cfg.Pinned)
	case cfg.Credit != "" && cfg.Credit != "shared" && cfg.Credit != "difference" && cfg.Credit != "improvement":
		return nil, fmt.Errorf("revision env %s: credit %q, want shared, difference or improvement", name, cfg.Credit)
	case cfg.Start != "" && cfg.Start != "uniform" && cfg.Start != "elite":
		return nil, fmt.Errorf("revision env %s: start %q, want uniform or elite", name, cfg.Start)
	case cfg.Credit == "improvement" && cfg.Start != "elite":
		return nil, fmt.Errorf("revision env %s: credit improvement needs start elite (the search form)", name)
	}
	var counted *Counted
	if cfg.Start == "elite" {
		c, ok := ds.(*Counted)
		switch {
		case !ok:
			return nil, fmt.Errorf("revision env %s: start elite needs a counted space (its evaluation order), got %T", name, ds)
		case cfg.Elite < 1:
			return nil, fmt.Errorf("revision env %s: elite %d, must be >= 1", name, cfg.Elite)
		case cfg.Free < 1 || cfg.Free > len(ds.Knobs()):
			return nil, fmt.Errorf("revision env %s: free %d, must be in [1, %d] (the knobs)", name, cfg.Free, len(ds.Knobs()))
		case cfg.Stall < 0:
			return nil, fmt.Errorf("revision env %s: stall %d, must be >= 0", name, cfg.Stall)
		case cfg.FirstGen < 0:
			return nil, fmt.Errorf("revision env %s: first generation %d, must be >= 0", name, cfg.FirstGen)
		case cfg.FirstStart != "" && cfg.FirstStart != "uniform" && cfg.FirstStart != "reference":
			return nil, fmt.Errorf("revision env %s: first start %q, want uniform or reference", name, cfg.FirstStart)
		case cfg.FirstStart == "reference" && cfg.FirstGen != 0:
			return nil, fmt.Errorf("revision env %s: first start reference needs no first generation (first generation %d)", name, cfg.FirstGen)
		}
		if err := CheckFreeLaw(cfg.FreeLaw); err != nil {
			return nil, fmt.Errorf("revision env %s: %w", name, err)
		}
		if err := CheckCrossRate(cfg.CrossRate); err != nil {
			return nil, fmt.Errorf("revision env %s: %w", name, err)
		}
		for gi, g := range cfg.FreeGroups {
			if len(g) == 0 {
				return nil, fmt.Errorf("revision env %s: free group %d is empty", name, gi)
			}
			for _, k := range g {
				if k < 0 || k >= len(ds.Knobs()) {
					return nil, fmt.Errorf("revision env %s: free group %d names knob %d, want 0 to %d", name, gi, k, len(ds.Knobs())-1)
				}
			}
		}
		counted = c
	}
	v, ref, err := newSpaceView(ds, cfg.Objective, cfg.Reference, cfg.ObsMetrics, "revision env", "reference design")
	if err != nil {
		return nil, err
	}
	cfg.Reference = ref
	e := &RevisionEnv{spaceView: v, cfg: cfg, fail: &failure{}}
	knobs := e.knobs
	e.nPin = int(math.Round(cfg.Pinned * float64(len(knobs))))
	if counted != nil {
		e.nPin = len(knobs) - cfg.Free
		e.freeCDF = freeLawCDF(cfg.Free, cfg.FreeLaw)
		e.elite = newEliteArchive(counted, e.obj, cfg.Elite, cfg.Stall, firstGeneration(knobs, cfg.FirstGen, cfg.Seed))
	}
	e.spec = Spec{Name: "revision:" + name, MaxSteps: cfg.Length, Agents: e.agents(len(e.obsM) + e.maxV + 2 + e.idSize())}
	n := len(knobs)
	e.cur, e.pinned, e.perm = make([]int, n), make([]int, n), make([]int, n)
	e.prev, e.cf, e.cfM = make([]int, n), make([]int, n), make([]float64, len(e.ref))
	e.metrics = slices.Clone(e.ref)
	e.done = true
	return e, nil
}

// Spec implements Env.
func (e *RevisionEnv) Spec() Spec {
	s := e.spec
	s.Agents = slices.Clone(s.Agents)
	return s
}

// Clone implements Env; the design space, objective and oracle are shared.
func (e *RevisionEnv) Clone() Env {
	c := *e
	c.cur, c.pinned, c.perm = slices.Clone(e.cur), slices.Clone(e.pinned), slices.Clone(e.perm)
	c.prev, c.cf, c.cfM = slices.Clone(e.prev), slices.Clone(e.cf), slices.Clone(e.cfM)
	c.metrics = slices.Clone(e.metrics)
	return &c
}

// Space returns the design space.
func (e *RevisionEnv) Space() DesignSpace { return e.ds }

// Objective returns the objective (with its reference resolved).
func (e *RevisionEnv) Objective() *Objective { return e.obj }

// Design returns a copy of the current design.
func (e *RevisionEnv) Design() []int { return slices.Clone(e.cur) }

// Pinned returns a copy of the pinned values (-1 = free).
func (e *RevisionEnv) Pinned() []int { return slices.Clone(e.pinned) }

// Metrics returns a copy of the current design's metrics.
func (e *RevisionEnv) Metrics() []float64 { return slices.Clone(e.metrics) }

// Regret returns the current design's regret against the oracle's best
// design for the pinned knobs (NaN without an oracle).
func (e *RevisionEnv) Regret() float64 { return e.best - e.score }

// Err returns the error of the last failed evaluation (nil after success).
func (e *RevisionEnv) Err() error { return e.err }

// ForcedActions implements ActionForcer: the agent of a pinned knob can only
// choose the knob's (pinned) value.
func (e *RevisionEnv) ForcedActions(dst []int) { copy(dst, e.pinned) }

// CostlyReset implements CostlyReset for the search form (Start "elite"):
// a start drawn uniformly (the first iteration, random immigrants) is a
// counted evaluation, so an episode a rollout would never run should not
// be started. The uniform form (Start "uniform") reports false and keeps
// a rollout's trailing resets, so that the revision-form runs documented
// before session 17 reproduce.
func (e *RevisionEnv) CostlyReset() bool { return e.elite != nil }

// Failure returns the first evaluation error of this environment or any of
// its clones (nil when none failed).
func (e *RevisionEnv) Failure() error { return e.fail.get() }

// Reset implements Env: the start design and the pinned knobs are drawn from
// a PCG stream seeded by seed. In the search form (Start "elite") the start
// design is a parent drawn uniformly from the archive of the best designs
// evaluated so far, or, while the archive holds fewer than Elite designs
// (the first iteration), a uniform design with no knob pinned, or with
// FirstGen > 0 a design of the first generation (FirstGen uniform designs
// drawn once per run, RevisionConfig.Seed) with all knobs but Free pinned,
// or with FirstStart "reference" the reference design with no knob pinned
// (the children, drawn by the policy, are the first designs); either way
// the first parents are neither all the reference design nor near copies
// of each other. A random immigrant (see RevisionConfig.Stall)
// is a uniform design with no knob pinned.
func (e *RevisionEnv) Reset(seed uint64, obs [][]float32) {
	var p rand.PCG
	p.Seed(seed, 0x7265766973696f6e) // "revision"
	draw := func(n int) int {
		hi, _ := bits.Mul64(p.Uint64(), uint64(n))
		return int(hi)
	}
	var parent []int
	fromRef := false
	if e.elite != nil {
		var first bool
		parent, first = e.elite.pick(draw)
		fromRef = first && parent == nil && e.cfg.FirstStart == "reference"
	}
	var mate []int // the second parent of a crossover (CrossRate)
	if e.cfg.CrossRate > 0 && e.elite != nil && parent != nil {
		if u := float64(p.Uint64()>>11) / (1 << 53); u < e.cfg.CrossRate {
			mate = e.elite.member(draw)
		}
	}
	for i, k := range e.knobs {
		switch {
		case parent != nil:
			e.cur[i] = parent[i]
			if mate != nil && draw(2) == 1 {
				e.cur[i] = mate[i]
			}
		case fromRef:
			e.cur[i] = e.cfg.Reference[i]
		default:
			e.cur[i] = draw(len(k.Values))
		}
		e.pinned[i] = -1
		e.perm[i] = i
	}
	nPin, free := e.nPin, e.cfg.Free
	if e.elite != nil && parent == nil {
		nPin = 0 // a random first generation or a random immigrant: every knob free
	}
	if e.freeCDF != nil && parent != nil {
		u := float64(p.Uint64()>>11) / (1 << 53)
		free = 1 + sort.Search(len(e.freeCDF), func(i int) bool { return e.freeCDF[i] > u })
		nPin = len(e.knobs) - free
	}
	if groups := e.cfg.FreeGroups; e.elite != nil && parent != nil && len(groups) > 0 {
		// One group, then its free subset by a partial Fisher-Yates.
		copy(e.pinned, e.cur)
		g := e.perm[:copy(e.perm, groups[draw(len(groups))])]
		for t := 0; t < min(free, len(g)); t++ {
			r := t + draw(len(g)-t)
			g[t], g[r] = g[r], g[t]
			e.pinned[g[t]] = -1
		}
		nPin = 0
	}
	for t := 0; t < nPin; t++ { // partial Fisher-Yates: the pinned subset
		r := t + draw(len(e.perm)-t)
		e.perm[t], e.perm[r] = e.perm[r], e.perm[t]
		e.pinned[e.perm[t]] = e.cur[e.perm[t]]
	}
	e.t, e.done, e.err = 0, false, nil
	e.best = math.NaN()
	start := e.cur
	if mate != nil {
		start = parent // evaluated already: the crossed start costs nothing
	}
	if err := e.ds.Evaluate(start, e.metrics); err != nil {
		e.failWith(err)
	} else {
		e.score = e.obj.Reward(e.metrics)
		e.startScore = e.score
		if e.cfg.Oracle != nil {
			e.best = e.oracleScore()
		}
	}
	e.writeObs(obs)
}

// firstGeneration draws the n uniform designs of the search form's first
// generation from a PCG stream seeded by seed (none for n = 0).
func firstGeneration(knobs []Knob, n int, seed uint64) [][]int {
	if n <= 0 {
		return nil
	}
	var p rand.PCG
	p.Seed(seed, 0x666972737467656e) // "firstgen"
	g := make([][]int, n)
	for j := range g {
		g[j] = make([]int, len(knobs))
		for i, k := range knobs {
			hi, _ := bits.Mul64(p.Uint64(), uint64(len(k.Values)))
			g[j][i] = int(hi)
		}
	}
	return g
}

func (e *RevisionEnv) failWith(err error) {
	e.err = err
	e.fail.set(err)
	e.done = true
}

// oracleScore is the score of the oracle's best design for the pinned
// knobs (at least the start's).
func (e *RevisionEnv) oracleScore() float64 {
	m := make([]float64, len(e.metrics))
	if err := e.cfg.Oracle(e.pinned, m); err != nil {
		e.failWith(fmt.Errorf("revision env %s: oracle: %w", e.ds.Name(), err))
		return math.NaN()
	}
	return max(e.obj.Reward(m), e.score)
}

// Step implements Env: actions are the next value index of every knob
// (ignored for pinned knobs).
func (e *RevisionEnv) Step(actions []int, obs [][]float32, rewards []float32) StepResult {
	if e.done {
		if e.err != nil {
			clear(rewards)
			e.writeObs(obs)
			return StepResult{Terminated: true}
		}
		panic("envs.RevisionEnv: Step on a finished episode (call Reset)")
	}
	if len(actions) != len(e.knobs) {
		panic(fmt.Sprintf("envs.RevisionEnv: %d actions for %d knobs", len(actions), len(e.knobs)))
	}
	copy(e.prev, e.cur)
	for i, a := range actions {
		if e.pinned[i] < 0 {
			e.cur[i] = a
		}
	}
	base := e.score
	if e.t == 0 && !math.IsNaN(e.best) {
		base = e.best
	}
	e.t++
	r := StepResult{Terminated: e.t >= e.cfg.Length}
	known := e.cfg.Credit == "improvement" && e.elite.c.isPlaced(e.cur)
	if err := e.ds.Evaluate(e.cur, e.metrics); err != nil {
		e.failWith(err)
		clear(rewards)
		r.Terminated = true
	} else {
		e.score = e.obj.Reward(e.metrics)
		gain := e.score - base
		if e.cfg.Credit == "improvement" && (known || !(gain > 0)) {
			gain = 0
		}
		for i := range rewards {
			rewards[i] = float32(gain)
		}
		if e.cfg.Credit == "difference" {
			if err := e.differenceRewards(rewards); err != nil {
				e.failWith(err)
				clear(rewards)
				r.Terminated = true
			}
		}
		if r.Terminated {
			r.Info = map[string]float64{"final_gain": e.score - e.startScore}
			if !math.IsNaN(e.best) {
				r.Info["final_regret"] = e.best - e.score
			}
		}
	}
	e.done = r.Done()
	e.writeObs(obs)
	return r
}

// differenceRewards sets rewards[i] = score(x) - score(x with knob i at its
// previous value) (0 for a knob that did not move).
func (e *RevisionEnv) differenceRewards(rewards []float32) error {
	eval := e.cfg.Counterfactual
	if eval == nil {
		eval = e.ds.Evaluate
	}
	for i := range rewards {
		if e.cur[i] == e.prev[i] {
			rewards[i] = 0
			continue
		}
		copy(e.cf, e.cur)
		e.cf[i] = e.prev[i]
		if err := eval(e.cf, e.cfM); err != nil {
			return err
		}
		rewards[i] = float32(e.score - e.obj.Reward(e.cfM))
	}
	return nil
}

func (e *RevisionEnv) writeObs(obs [][]float32) {
	n := e.writeKnobObs(obs, e.metrics, e.cur)
	frac := float32(e.t) / float32(e.cfg.Length)
	for i := range e.knobs {
		obs[i][n] = 0
		if e.pinned[i] >= 0 {
			obs[i][n] = 1
		}
		obs[i][n+1] = frac
		if e.cfg.AgentID {
			id := obs[i][n+2 : n+2+len(e.knobs)]
			clear(id)
			id[i] = 1
		}
	}
}

// idSize is the length of the agent-index one-hot (0 without AgentID).
func (e *RevisionEnv) idSize() int {
	if e.cfg.AgentID {
		return len(e.knobs)
	}
	return 0
}

// MaxFreeLaw bounds RevisionConfig.FreeLaw (beyond it nearly every child
// has one free knob).
const MaxFreeLaw = 10

// CheckFreeLaw reports a RevisionConfig.FreeLaw (run-file key free_law)
// outside [0, MaxFreeLaw], the error starting with the key.
func CheckFreeLaw(law float64) error {
	if !(law >= 0 && law <= MaxFreeLaw) {
		return fmt.Errorf("free_law = %v: must be in [0, %d]", law, MaxFreeLaw)
	}
	return nil
}

// CheckCrossRate reports a RevisionConfig.CrossRate (run-file key
// cross_rate) outside [0, 1], the error starting with the key.
func CheckCrossRate(rate float64) error {
	if !(rate >= 0 && rate <= 1) {
		return fmt.Errorf("cross_rate = %v: must be in [0, 1]", rate)
	}
	return nil
}

// freeLawCDF returns the cumulative distribution over k = 1..free of
// P(k) proportional to k^-law, its last entry exactly 1; nil for law 0.
func freeLawCDF(free int, law float64) []float64 {
	if law == 0 || free < 1 {
		return nil
	}
	cdf := make([]float64, free)
	var sum float64
	for k := 1; k <= free; k++ {
		sum += math.Pow(float64(k), -law)
		cdf[k-1] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	cdf[free-1] = 1
	return cdf
}
