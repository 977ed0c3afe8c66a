package blackbox

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/marl/contract"
)

// Kinds accepted by New.
const (
	KindRandom  = "random"
	KindGenetic = "genetic"
	KindACO     = "aco"
	KindTPE     = "tpe"
)

// kinds lists the method kinds New accepts.
func kinds() []string { return []string{KindRandom, KindGenetic, KindACO, KindTPE} }

// Config configures a search. DefaultConfig is the one place of its
// defaults; a Config is used as given and Validate says what is out of
// range. The struct tags document the fields for run files (see
// experiments.Config for their meaning): a run's [algorithm.<kind>] table
// decodes into the kind's options type (RandomOptions, GeneticOptions,
// ACOOptions, TPEOptions), which inlines Config and the kind's own settings.
type Config struct {
	// Batch is the number of designs proposed per iteration. For the
	// genetic algorithm it is the number of offspring per generation; for
	// ACO the number of ants per iteration.
	Batch int `toml:"batch" unit:"designs per iteration" range:"[1, 100000]" doc:"designs proposed (and evaluated) per iteration (the genetic algorithm's offspring per generation, ACO's ants)"`
	// Retries is how many times the genetic algorithm and ACO re-draw a
	// proposal that repeats an already evaluated design (or one earlier in
	// the batch) before accepting the repeat (which costs no budget but
	// wastes a slot of the batch).
	Retries int `toml:"retries" unit:"draws" range:"[0, 1000]" doc:"re-draws of a genetic or ACO proposal that repeats a known design before the repeat is accepted"`
	// Workers is the number of goroutines evaluating a batch in parallel
	// (0 = runtime.GOMAXPROCS(0)). Results do not depend on it.
	Workers int `toml:"-"`
	// Budget caps the unique evaluations (0 = unlimited). Batches are cut in
	// proposal order so a run ends with exactly Budget of them; Done then
	// reports true. It counts every unique evaluation of the Counted cache,
	// so a cache shared with another user must not be used concurrently
	// (the run would no longer be deterministic). It also sets the Counted
	// budget as a safety net.
	Budget int `toml:"-"`
	// Optimum is the known optimal design (e.g. the exhaustive DRAM
	// optimum); when set, every metrics row has a regret column.
	Optimum *envs.Optimum `toml:"-"`

	Genetic GeneticConfig `toml:"-"`
	ACO     ACOConfig     `toml:"-"`
	TPE     TPEConfig     `toml:"-"`
}

// GeneticConfig configures the genetic algorithm (see genetic.go).
type GeneticConfig struct {
	// Population is the number of parents kept between generations. The
	// first iteration evaluates Population random designs.
	Population int `toml:"population" unit:"designs" range:"[1, 100000]" doc:"parents kept between generations (the first generation is this many random designs)"`
	// Tournament is the tournament size of parent selection.
	Tournament int `toml:"tournament" unit:"designs" range:"[1, 1000]" doc:"tournament size of parent selection"`
	// Crossover is the probability that a child is the uniform crossover of
	// two parents rather than a copy of the first.
	Crossover float64 `toml:"crossover" unit:"probability" range:"[0, 1]" doc:"probability that a child is the uniform crossover of two parents (else a copy of the first)"`
	// Mutation is the per-knob probability of replacing a child's value by a
	// different one drawn uniformly.
	Mutation float64 `toml:"mutation" unit:"probability per knob" range:"[0, 1]" doc:"per-knob probability of replacing a child's value by another one (0 = no mutation)"`
}

// ACOConfig configures ant colony optimisation (see aco.go).
type ACOConfig struct {
	// Evaporation is the pheromone evaporation rate rho in (0,1] (0.2 by
	// default: on the planted synthetic landscapes, 0.1 converged too slowly
	// for budgets of a few hundred evaluations, and 0.2-0.5 did equally
	// well at 2,000).
	Evaporation float64 `toml:"evaporation" range:"(0, 1]" doc:"pheromone evaporation rate rho"`
	// Elite is the number of the iteration's best ants that deposit
	// pheromone, with rank weights Elite, Elite-1, ..., 1.
	Elite int `toml:"elite" unit:"ants" range:"[1, 100000]" doc:"best ants of an iteration that deposit pheromone (rank weights elite, ..., 1)"`
	// BestShare is the share of each deposit laid by the best-so-far design;
	// the rest is split among the elite.
	BestShare float64 `toml:"best_share" range:"[0, 1]" doc:"share of each deposit laid by the best-so-far design"`
	// TauMin is the lower pheromone bound (MAX-MIN Ant System); pheromone
	// lives in [TauMin, 1] and starts at 1.
	TauMin float64 `toml:"tau_min" range:"[0, 1)" doc:"lower pheromone bound (MAX-MIN Ant System; pheromone lives in [tau_min, 1])"`
}

// TPEConfig configures Bayesian optimisation with a tree-structured Parzen
// estimator (see tpe.go).
type TPEConfig struct {
	// Init is the number of uniformly random designs evaluated before the
	// model is used.
	Init int `toml:"init" unit:"designs" range:"[1, 100000]" doc:"uniformly random designs evaluated before the model is used"`
	// Gamma is the fraction of evaluated designs modelled as good (at least
	// one design is good).
	Gamma float64 `toml:"gamma" range:"(0, 1]" doc:"fraction of the evaluated designs modelled as good"`
	// Candidates is the number of designs drawn from the good-design
	// density per batch slot; the one with the best density ratio is
	// proposed (more is greedier).
	Candidates int `toml:"candidates" unit:"designs" range:"[1, 100000]" doc:"designs drawn from the good density per batch slot; the best density ratio is proposed"`
	// Prior is the total pseudo-count of the uniform prior of each knob's
	// densities.
	Prior float64 `toml:"prior" unit:"pseudo-counts" range:"[0, inf)" doc:"total pseudo-count of the uniform prior of each knob's densities"`
}

// DefaultConfig returns the defaults: batches of 32 designs, 20 retries;
// genetic population 32, tournament 3, crossover 0.9, mutation 0.1; ACO
// evaporation 0.2, elite 8, best share 0.5, tau min 0.02; TPE 32 random
// designs first, gamma 0.15, 64 candidates, prior 1.
func DefaultConfig() Config {
	return Config{
		Batch: 32, Retries: 20,
		Genetic: GeneticConfig{Population: 32, Tournament: 3, Crossover: 0.9, Mutation: 0.1},
		ACO:     ACOConfig{Evaporation: 0.2, Elite: 8, BestShare: 0.5, TauMin: 0.02},
		TPE:     TPEConfig{Init: 32, Gamma: 0.15, Candidates: 64, Prior: 1},
	}
}

// Validate reports every field out of range, each error starting with its
// run-file key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) { errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want)) }
	count := func(key string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(key, v, fmt.Sprintf("must be in [%d, %d]", lo, hi))
		}
	}
	prob := func(key string, x float64) {
		if !(x >= 0 && x <= 1) {
			bad(key, x, "must be in [0, 1]")
		}
	}
	count("batch", c.Batch, 1, 100000)
	count("retries", c.Retries, 0, 1000)
	if c.Workers < 0 {
		bad("workers", c.Workers, "must be >= 0 (0 = GOMAXPROCS)")
	}
	if c.Budget < 0 {
		bad("budget", c.Budget, "must be >= 0 (0 = unlimited)")
	}
	if c.Optimum != nil && (math.IsNaN(c.Optimum.Value) || math.IsInf(c.Optimum.Value, 0)) {
		bad("optimum", c.Optimum.Value, "want a finite value")
	}
	g := c.Genetic
	count("population", g.Population, 1, 100000)
	count("tournament", g.Tournament, 1, 1000)
	prob("crossover", g.Crossover)
	prob("mutation", g.Mutation)
	a := c.ACO
	if !(a.Evaporation > 0 && a.Evaporation <= 1) {
		bad("evaporation", a.Evaporation, "must be in (0, 1]")
	}
	count("elite", a.Elite, 1, 100000)
	prob("best_share", a.BestShare)
	if !(a.TauMin >= 0 && a.TauMin < 1) {
		bad("tau_min", a.TauMin, "must be in [0, 1)")
	}
	p := c.TPE
	count("init", p.Init, 1, 100000)
	if !(p.Gamma > 0 && p.Gamma <= 1) {
		bad("gamma", p.Gamma, "must be in (0, 1]")
	}
	count("candidates", p.Candidates, 1, 100000)
	if !(p.Prior >= 0) || math.IsInf(p.Prior, 0) {
		bad("prior", p.Prior, "must be >= 0")
	}
	return errors.Join(errs...)
}

// record is one evaluated design.
type record struct {
	Config  []int
	Metrics []float64
	Reward  float64
}

// method is what distinguishes the search kinds: it proposes a batch and
// learns from its outcome.
type method interface {
	// propose returns the next batch of configurations.
	propose(s *Search) [][]int
	// observe receives, per proposal, the history index of its record (-1
	// when the budget dropped it).
	observe(s *Search, props [][]int, idx []int)
	// metrics adds method-specific columns.
	metrics(m contract.Metrics)
	// state/setState (de)serialise the method's state (random streams are
	// handled by Search); check validates a loaded state against the
	// loaded history.
	state() ([]byte, error)
	setState([]byte) error
	check(s *Search) error
}

// Search is a black-box design-space search; it implements contract.Algorithm.
// It is not safe for concurrent use (Iterate evaluates in parallel itself).
type Search struct {
	kind    string
	cfg     Config
	ds      *envs.Counted
	tracker *envs.Tracker
	obj     *envs.Objective
	knobs   []envs.Knob
	sizes   []int
	names   []string // metric names
	space   float64  // number of configurations (float: may be huge)
	seed    uint64
	streams []namedStream

	iter  int
	hist  []record
	index map[string]int
	best  int // history index, -1 if none
	exh   bool
	m     method

	lastBatch []int // history indices of the last iteration's proposals (for batch metrics)
}

type namedStream struct {
	name string
	pcg  *rand.PCG
	rng  *rand.Rand
}

var _ contract.Algorithm = (*Search)(nil)

// New builds a search of the given kind ("random", "genetic", "aco" or
// "tpe") over
// ds maximising obj's reward. If ds is an *envs.Counted it is used as is
// (so a task's evaluation cache and budget are shared); otherwise it is
// wrapped in a fresh one. obj must be bound to ds's metric names. Every
// random stream is derived from seed.
func New(kind string, ds envs.DesignSpace, obj *envs.Objective, cfg Config, seed uint64) (*Search, error) {
	if ds == nil || obj == nil {
		return nil, errors.New("blackbox: nil design space or objective")
	}
	knobs := ds.Knobs()
	if len(knobs) == 0 {
		return nil, fmt.Errorf("blackbox: design space %s has no knobs", ds.Name())
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("blackbox %s: config: %w", kind, err)
	}
	c := cfg
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	counted, ok := ds.(*envs.Counted)
	if !ok {
		counted = envs.NewCounted(ds)
	}
	if c.Budget > 0 {
		counted.SetBudget(c.Budget)
	}
	tracker, err := envs.NewTracker(counted, obj, c.Optimum)
	if err != nil {
		return nil, fmt.Errorf("blackbox %s: %w", kind, err)
	}
	s := &Search{kind: kind, cfg: c, ds: counted, tracker: tracker, obj: obj, knobs: knobs, names: ds.MetricNames(),
		seed: seed, index: map[string]int{}, best: -1, space: 1}
	for i, k := range knobs {
		if len(k.Values) == 0 {
			return nil, fmt.Errorf("blackbox: knob %d (%s) of %s has no values", i, k.Name, ds.Name())
		}
		s.sizes = append(s.sizes, len(k.Values))
		s.space *= float64(len(k.Values))
	}
	switch kind {
	case KindRandom:
		s.m = &randomSearch{rng: s.stream("random", 1)}
	case KindGenetic:
		s.m = &genetic{c: c.Genetic, init: s.stream("genetic-init", 2), sel: s.stream("genetic-select", 3), vary: s.stream("genetic-vary", 4)}
	case KindACO:
		s.m = newACO(c.ACO, s.sizes, s.stream("aco-construct", 5))
	case KindTPE:
		s.m = &tpe{c: c.TPE, init: s.stream("tpe-init", 6), sample: s.stream("tpe-sample", 7)}
	default:
		return nil, fmt.Errorf("blackbox: unknown kind %q (have %v)", kind, kinds())
	}
	return s, nil
}

// stream derives the random stream of one purpose from (seed, purpose).
func (s *Search) stream(name string, purpose uint64) *rand.Rand {
	p := rand.NewPCG(envs.DeriveSeed(s.seed, 0xb1ac, purpose), envs.DeriveSeed(s.seed, 0xb1ac, purpose, 1))
	r := rand.New(p)
	s.streams = append(s.streams, namedStream{name: name, pcg: p, rng: r})
	return r
}

// Kind returns the method kind.
func (s *Search) Kind() string { return s.kind }

// Config returns the configuration (with Workers resolved).
func (s *Search) Config() Config { return s.cfg }

// Space returns the counted design space the search charges.
func (s *Search) Space() *envs.Counted { return s.ds }

// Iteration implements contract.Algorithm.
func (s *Search) Iteration() int { return s.iter }

// Done reports whether further iterations can find nothing new: the budget
// is spent, or every configuration of the space has been evaluated (or the
// random search has no unseen configuration left).
func (s *Search) Done() bool {
	return s.remaining() == 0 || s.exh || float64(len(s.hist)) >= s.space
}

// remaining returns the unique evaluations left (MaxInt when unlimited).
func (s *Search) remaining() int {
	if s.cfg.Budget == 0 {
		return math.MaxInt
	}
	return max(0, s.cfg.Budget-s.ds.Unique())
}

// Best returns the best design evaluated in the searched space, as its
// tracker orders them (envs.Tracker: feasible first, then the lowest value):
// its configuration (value index per knob), its metrics (indexed like the
// space's MetricNames) and its reward; nil, nil, -Inf before any evaluation.
func (s *Search) Best() (config []int, metrics []float64, reward float64) {
	b, ok := s.tracker.Best()
	if !ok {
		return nil, nil, math.Inf(-1)
	}
	return b.Config, b.Metrics, b.Reward
}

// BestCurve returns, for i = 1..Evaluations(), the Value of the best of the
// first i designs of the search's history (in evaluation order, which is
// proposal order within a batch): the anytime curve at the granularity of
// single evaluations, e.g. for evaluations-to-threshold. "Best" is the
// tracker's order, as in every metrics row.
func (s *Search) BestCurve() []float64 {
	out := make([]float64, len(s.hist))
	b := -1
	for i, r := range s.hist {
		if b < 0 || s.tracker.Compare(r.Config, r.Metrics, s.hist[b].Config, s.hist[b].Metrics) < 0 {
			b = i
		}
		out[i] = s.obj.Value(s.hist[b].Metrics)
	}
	return out
}

// Evaluations returns the number of designs in the search's history.
func (s *Search) Evaluations() int { return len(s.hist) }

// key encodes a configuration as a map key.
func key(cfg []int) string {
	var b [32]byte
	k := b[:0]
	for _, v := range cfg {
		k = binary.AppendUvarint(k, uint64(v))
	}
	return string(k)
}

// known reports whether cfg is in the history.
func (s *Search) known(cfg []int) bool {
	_, ok := s.index[key(cfg)]
	return ok
}

// better reports whether history record i beats record j (larger reward,
// then smaller value, then the lexicographically smaller configuration).
func (s *Search) better(i, j int) bool { return s.compare(i, j) < 0 }

func (s *Search) compare(i, j int) int {
	a, b := &s.hist[i], &s.hist[j]
	if c := cmp.Compare(b.Reward, a.Reward); c != 0 {
		return c
	}
	if c := cmp.Compare(s.obj.Value(a.Metrics), s.obj.Value(b.Metrics)); c != 0 {
		return c
	}
	return slices.Compare(a.Config, b.Config)
}

// reward scores metrics; NaN becomes -Inf so it never wins.
func (s *Search) reward(m []float64) float64 {
	r := s.obj.Reward(m)
	if math.IsNaN(r) {
		return math.Inf(-1)
	}
	return r
}

// Iterate implements contract.Algorithm: one batch of proposals and their
// evaluations. Once Done, it evaluates nothing and repeats the last row. A
// cancelled or failed batch returns an error and leaves the search unusable
// for an exact continuation (the designs evaluated before the failure are
// cached and charged but not in the history): resume from a checkpoint.
func (s *Search) Iterate(ctx context.Context) (contract.Metrics, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nNew, nProp := 0, 0
	s.lastBatch = s.lastBatch[:0]
	if !s.Done() {
		props := s.m.propose(s)
		idx, n, err := s.evaluate(ctx, props)
		if err != nil {
			return nil, fmt.Errorf("blackbox %s iteration %d: %w", s.kind, s.iter, err)
		}
		nNew, nProp = n, len(props)
		s.m.observe(s, props, idx)
		for _, i := range idx {
			if i >= 0 {
				s.lastBatch = append(s.lastBatch, i)
			}
		}
	}
	s.iter++
	m := s.row()
	m["evals"] = float64(nNew)
	m["proposals"] = float64(nProp)
	m["repeats"] = float64(len(s.lastBatch) - nNew)
	if len(s.lastBatch) > 0 {
		bb, sum := math.Inf(-1), 0.0
		for _, i := range s.lastBatch {
			bb = max(bb, s.hist[i].Reward)
			sum += s.hist[i].Reward
		}
		m["batch_best_reward"] = bb
		m["batch_mean_reward"] = sum / float64(len(s.lastBatch))
	}
	s.m.metrics(m)
	return m, nil
}

// row returns the common metrics of the current state: the design columns
// of the space's tracker (unique_evals, best_value, best_reward,
// best_<metric>, best_violation, regret).
func (s *Search) row() contract.Metrics {
	m := contract.Metrics{"iteration": float64(s.iter)}
	s.tracker.Columns(m)
	return m
}

// Tracker returns the best/regret tracker of the searched space.
func (s *Search) Tracker() *envs.Tracker { return s.tracker }

// Evaluate implements contract.Algorithm: the best design found so far, without
// any new (charged) evaluation and without touching the random streams.
// episodes is ignored (evaluation is deterministic).
func (s *Search) Evaluate(ctx context.Context, episodes int) (contract.Metrics, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.row(), nil
}

// evaluate charges and evaluates the new configurations among props in
// parallel and returns, per proposal, its history index (-1 when the budget
// dropped it) and the number of new history records. Proposals already in
// the history, and repeats within the batch, cost nothing; a configuration
// already in the Counted cache (e.g. restored, or evaluated by another user
// of the cache) is not charged either.
func (s *Search) evaluate(ctx context.Context, props [][]int) ([]int, int, error) {
	idx := make([]int, len(props))
	var fresh [][]int
	pos := map[string]int{}
	left := s.remaining()
	probe := make([]float64, len(s.names))
	for i, c := range props {
		k := key(c)
		if j, ok := s.index[k]; ok {
			idx[i] = j
			continue
		}
		if p, ok := pos[k]; ok {
			idx[i] = -2 - p
			continue
		}
		if !s.ds.Lookup(c, probe) {
			if left == 0 {
				idx[i] = -1
				continue
			}
			left--
		}
		pos[k] = len(fresh)
		idx[i] = -2 - len(fresh)
		fresh = append(fresh, c)
	}
	out, err := s.evalAll(ctx, fresh)
	if err != nil {
		return nil, 0, err
	}
	base := len(s.hist)
	for f, c := range fresh {
		r := record{Config: slices.Clone(c), Metrics: out[f], Reward: s.reward(out[f])}
		s.index[key(c)] = len(s.hist)
		s.hist = append(s.hist, r)
		if s.best < 0 || s.better(len(s.hist)-1, s.best) {
			s.best = len(s.hist) - 1
		}
	}
	for i := range idx {
		if idx[i] <= -2 {
			idx[i] = base + (-2 - idx[i])
		}
	}
	return idx, len(fresh), nil
}

// evalAll evaluates cfgs on the worker pool; out[i] belongs to cfgs[i].
func (s *Search) evalAll(ctx context.Context, cfgs [][]int) ([][]float64, error) {
	out := make([][]float64, len(cfgs))
	errs := make([]error, len(cfgs))
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(cfgs) {
				return
			}
			if err := ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			m := make([]float64, len(s.names))
			if err := s.ds.Evaluate(cfgs[i], m); err != nil {
				errs[i] = err
				continue
			}
			out[i] = m
		}
	}
	w := min(s.cfg.Workers, len(cfgs))
	if w <= 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for range w {
			wg.Go(work)
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// uniform draws a uniformly random configuration into cfg.
func (s *Search) uniform(r *rand.Rand, cfg []int) {
	for k, n := range s.sizes {
		cfg[k] = r.IntN(n)
	}
}

// checkpointState is the search's own state, kept in the checkpoint's
// "state" blob (the random streams and the evaluation cache have fields of
// their own in contract.Checkpoint).
type checkpointState struct {
	Kind    string
	Knobs   []int
	Metrics []string
	Iter    int
	Hist    []record
	Exh     bool
	Method  []byte
}

// Checkpoint implements contract.Algorithm.
func (s *Search) Checkpoint() (*contract.Checkpoint, error) {
	ms, err := s.m.state()
	if err != nil {
		return nil, fmt.Errorf("blackbox %s: save: %w", s.kind, err)
	}
	st := checkpointState{Kind: s.kind, Knobs: s.sizes, Metrics: s.names, Iter: s.iter, Hist: s.hist,
		Exh: s.exh, Method: ms}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&st); err != nil {
		return nil, fmt.Errorf("blackbox %s: save: %w", s.kind, err)
	}
	c := &contract.Checkpoint{Algorithm: "blackbox/" + s.kind, Iteration: s.iter, EnvSteps: int64(len(s.hist)),
		Blobs: []contract.NamedBlob{{Name: "state", Data: b.Bytes()}}, Evaluations: s.ds.Records()}
	for _, st := range s.streams {
		d, err := st.pcg.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("blackbox %s: save stream %s: %w", s.kind, st.name, err)
		}
		c.RNG = append(c.RNG, contract.NamedBlob{Name: st.name, Data: d})
	}
	return c, nil
}

// Restore implements contract.Algorithm: it restores a state returned by
// Checkpoint into a search built with the same kind, space, objective,
// config and seed (typically fresh). The saved evaluations are restored into
// the Counted cache, so the budget use continues exactly.
func (s *Search) Restore(c *contract.Checkpoint) error {
	if c.Algorithm != "blackbox/"+s.kind {
		return fmt.Errorf("blackbox %s: load: checkpoint of algorithm %q", s.kind, c.Algorithm)
	}
	if len(c.Blobs) != 1 || c.Blobs[0].Name != "state" {
		return fmt.Errorf("blackbox %s: load: checkpoint lacks the search state", s.kind)
	}
	var st checkpointState
	if err := gob.NewDecoder(bytes.NewReader(c.Blobs[0].Data)).Decode(&st); err != nil {
		return fmt.Errorf("blackbox %s: load: %w", s.kind, err)
	}
	if !slices.Equal(st.Knobs, s.sizes) || !slices.Equal(st.Metrics, s.names) {
		return fmt.Errorf("blackbox %s: load: checkpoint of a space with value counts %v and metrics %v, this one has %v and %v",
			s.kind, st.Knobs, st.Metrics, s.sizes, s.names)
	}
	if len(c.RNG) != len(s.streams) {
		return fmt.Errorf("blackbox %s: load: checkpoint has %d random streams, want %d", s.kind, len(c.RNG), len(s.streams))
	}
	for i, b := range c.RNG {
		if b.Name != s.streams[i].name {
			return fmt.Errorf("blackbox %s: load: random stream %q where %q was expected", s.kind, b.Name, s.streams[i].name)
		}
		if err := s.streams[i].pcg.UnmarshalBinary(b.Data); err != nil {
			return fmt.Errorf("blackbox %s: load: stream %s: %w", s.kind, b.Name, err)
		}
	}
	if err := s.m.setState(st.Method); err != nil {
		return fmt.Errorf("blackbox %s: load: %w", s.kind, err)
	}
	if err := s.ds.Restore(c.Evaluations); err != nil {
		return fmt.Errorf("blackbox %s: load: %w", s.kind, err)
	}
	s.iter, s.hist, s.exh = st.Iter, st.Hist, st.Exh
	s.index = make(map[string]int, len(s.hist))
	s.best = -1
	for i, r := range s.hist {
		if err := envs.ValidateConfig(s.knobs, r.Config); err != nil || len(r.Metrics) != len(s.names) {
			return fmt.Errorf("blackbox %s: load: history record %d is not a design of this space", s.kind, i)
		}
		// gob leaves out a struct field equal to zero, so a reward of -0
		// comes back as +0: compare values, then keep the recomputed bits
		// (the objective is deterministic) so the run continues exactly.
		rw := s.reward(r.Metrics)
		if rw != r.Reward && !(math.IsNaN(rw) && math.IsNaN(r.Reward)) {
			return fmt.Errorf("blackbox %s: load: history record %d has reward %v, this objective gives %v (another objective?)", s.kind, i, r.Reward, rw)
		}
		s.hist[i].Reward = rw
		s.index[key(r.Config)] = i
		if s.best < 0 || s.better(i, s.best) {
			s.best = i
		}
	}
	if err := s.m.check(s); err != nil {
		return fmt.Errorf("blackbox %s: load: %w", s.kind, err)
	}
	s.lastBatch = s.lastBatch[:0]
	return nil
}

// gobBytes and ungob (de)serialise method states.
func gobBytes(v any) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

func ungob(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}
