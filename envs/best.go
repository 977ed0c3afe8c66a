package envs

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
)

// Optimum is the known optimal design of a design space under an
// objective (e.g. found by exhaustive enumeration), against which regret is
// measured.
type Optimum struct {
	Value   float64            // Objective.Value of the optimum, physical units
	Knobs   map[string]string  // knob name -> value (nil when unknown)
	Metrics map[string]float64 // metric name -> value (nil when unknown)
	// Ties counts the designs of the space whose objective value (and
	// violation) equal the optimum's, the optimum included; 0 when unknown.
	Ties int
}

// Best is the best design evaluated so far.
type Best struct {
	Config    []int     // value index per knob
	Metrics   []float64 // indexed like the space's MetricNames
	Value     float64   // Objective.Value, physical units, lower is better
	Reward    float64   // Objective.Reward
	Violation float64   // Objective.Violation (0 when feasible)
	// Regret against the optimum (NaN without one): relative for
	// minimisation, (Value - opt)/|opt|, so 0.01 = 1% worse than the
	// optimum; absolute for target objectives (whose Value is a
	// dimensionless distance from the target, 0 at the target) and when the
	// optimum is 0.
	Regret float64
	// Since is the place in the evaluation order (Counted: 1 = the first
	// unique evaluation) after which the best first had this violation and
	// value; a later design that ties with it does not move it.
	Since int
}

// Tracker reports the best design evaluated through a Counted space and its
// regret against an optional known optimum. It reads the Counted cache, so
// every user of the space (a learner's environment copies, a black-box
// search, the start design of an environment) is counted alike, and a
// Counted restored from a checkpoint gives the same answer.
//
// "Best" is the order (violation, value, configuration): a feasible design
// beats an infeasible one, then the lower Objective.Value wins, ties going
// to the lexicographically smallest configuration, so the answer does not
// depend on the order of evaluation.
type Tracker struct {
	space   *Counted
	obj     *Objective
	opt     *Optimum
	metrics []string

	// The best so far over the first seen evaluations of space in its
	// evaluation order (Counted.placedSince, generation gen): Best reads
	// only the evaluations placed since.
	mu    sync.Mutex
	seen  int
	gen   int
	bestC []int
	bestM []float64
	since int

	// The anytime record along the evaluation order (see Columns): the
	// place at which the best first reached regret <= thr (thrAt) and the
	// optimum (optAt), 0 = not yet; the best's regret after the first B
	// evaluations for the budgets of BudgetGrid reached so far (atRegret).
	thr      float64
	thrAt    int
	optAt    int
	atRegret []float64
}

// BudgetGrid returns the i-th budget (i >= 0) at which Columns reports the
// regret the search had after that many unique evaluations: 10, 30, 100,
// 300, 1,000, 3,000, ... (the usual 1-3 steps of a log axis).
func BudgetGrid(i int) int {
	b := 10
	for range i / 2 {
		b *= 10
	}
	if i%2 == 1 {
		b *= 3
	}
	return b
}

// SetThreshold sets the regret threshold of the evaluations_to_threshold
// column (NaN = none, the default). Call it before the first read.
func (t *Tracker) SetThreshold(thr float64) {
	t.mu.Lock()
	t.thr = thr
	t.mu.Unlock()
}

// NewTracker follows space under obj (bound to the space's metric names);
// opt may be nil.
func NewTracker(space *Counted, obj *Objective, opt *Optimum) (*Tracker, error) {
	if space == nil || obj == nil {
		return nil, fmt.Errorf("tracker: nil space or objective")
	}
	if opt != nil && (math.IsNaN(opt.Value) || math.IsInf(opt.Value, 0)) {
		return nil, fmt.Errorf("tracker: optimum value %v, want a finite value", opt.Value)
	}
	return &Tracker{space: space, obj: obj, opt: opt, metrics: space.MetricNames(), thr: math.NaN()}, nil
}

// Space returns the counted space.
func (t *Tracker) Space() *Counted { return t.space }

// Objective returns the objective.
func (t *Tracker) Objective() *Objective { return t.obj }

// Optimum returns the known optimum (nil when none).
func (t *Tracker) Optimum() *Optimum { return t.opt }

// Regret returns the regret of an objective value (NaN without an optimum).
func (t *Tracker) Regret(v float64) float64 {
	if t.opt == nil {
		return math.NaN()
	}
	return RegretOf(t.obj, t.opt.Value, v)
}

// RegretOf is the regret of objective value v under obj against the
// optimum's value o, as Best.Regret defines it: relative for minimisation,
// absolute for target objectives and when o is 0.
func RegretOf(obj *Objective, o, v float64) float64 {
	if obj.Kind() == KindTarget || o == 0 {
		return v - o
	}
	return (v - o) / math.Abs(o)
}

// Compare orders two evaluated designs the Tracker's way: negative when a
// (configuration ca, metrics ma) is better than b. A feasible design beats an
// infeasible one (the smaller violation wins), then the lower
// Objective.Value, then the lexicographically smaller configuration; a NaN
// value loses to every number.
func (t *Tracker) Compare(ca []int, ma []float64, cb []int, mb []float64) int {
	return compareDesigns(t.obj, ca, ma, cb, mb)
}

func compareDesigns(obj *Objective, ca []int, ma []float64, cb []int, mb []float64) int {
	return cmp.Or(compareNaNLast(obj.Violation(ma), obj.Violation(mb)), compareNaNLast(obj.Value(ma), obj.Value(mb)), slices.Compare(ca, cb))
}

// compareNaNLast is cmp.Compare with NaN after every number (cmp.Compare
// puts it first).
func compareNaNLast(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

// Best returns the best design evaluated so far; false before any. It costs
// the evaluations placed since the last call, not all of them (a run's
// metrics row asks every iteration; rescanning ~200,000 records cost more
// than a second per iteration at the end of an N = 40 planted run).
func (t *Tracker) Best() (Best, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.update()
	if t.bestC == nil {
		return Best{}, false
	}
	b := t.best(t.bestC, t.bestM)
	b.Since = t.since
	return b, true
}

// update reads the evaluations placed since the last call, in the
// evaluation order. Callers hold t.mu.
func (t *Tracker) update() {
	recs, n, gen := t.space.placedSince(t.seen, t.gen)
	if gen != t.gen {
		// Restore reordered the evaluations: start over.
		t.gen, t.bestC, t.bestM, t.since, t.thrAt, t.optAt, t.atRegret = gen, nil, nil, 0, 0, 0, nil
	}
	for _, r := range recs {
		// The budgets passed before this evaluation (places may skip
		// numbers after a restore of records without one).
		t.closeBudgets(r.e.seq - 1)
		t.consider(r)
		t.closeBudgets(r.e.seq)
		if t.opt != nil && t.bestC != nil {
			reg := t.Regret(t.obj.Value(t.bestM))
			if t.thrAt == 0 && reg <= t.thr {
				t.thrAt = r.e.seq
			}
			if t.optAt == 0 && reg <= 0 {
				t.optAt = r.e.seq
			}
		}
	}
	t.seen = n
}

// consider makes the evaluation r the best if it beats the best so far.
func (t *Tracker) consider(r countedDone) {
	m := r.e.metrics
	if t.bestC != nil {
		// compareDesigns without decoding the configuration unless the
		// violation and the value tie.
		c := cmp.Or(compareNaNLast(t.obj.Violation(m), t.obj.Violation(t.bestM)), compareNaNLast(t.obj.Value(m), t.obj.Value(t.bestM)))
		if c > 0 {
			return
		}
		if c == 0 {
			if cfg := decodeKey(r.key); slices.Compare(cfg, t.bestC) < 0 {
				t.bestC, t.bestM = cfg, m
			}
			return
		}
	}
	t.bestC, t.bestM, t.since = decodeKey(r.key), m, r.e.seq
}

// closeBudgets records the best's regret for every budget of BudgetGrid up
// to n evaluations not recorded yet.
func (t *Tracker) closeBudgets(n int) {
	if t.opt == nil || t.bestC == nil {
		return
	}
	for BudgetGrid(len(t.atRegret)) <= n {
		t.atRegret = append(t.atRegret, t.Regret(t.obj.Value(t.bestM)))
	}
}

// best describes the design (cfg, m), copying both.
func (t *Tracker) best(cfg []int, m []float64) Best {
	v := t.obj.Value(m)
	return Best{Config: slices.Clone(cfg), Metrics: slices.Clone(m), Value: v, Reward: t.obj.Reward(m), Violation: t.obj.Violation(m), Regret: t.Regret(v)}
}

// Columns adds the design columns of a metrics row: unique_evals, and once
// a design is known best_value, best_reward, best_<metric> for every
// metric, best_violation (constrained objectives) and regret (with an
// optimum). With an optimum it adds the anytime record along the evaluation
// order (Counted's places: within one iteration's batch a fixed
// pseudo-random order), exact to the single evaluation whatever the batch
// size of the method: regret_at_B, the best's regret after the first B
// unique evaluations for each budget B of BudgetGrid reached;
// evals_to_threshold, the number of unique evaluations after which the best
// first had regret <= the threshold (SetThreshold), and evals_to_optimum,
// after which it was the optimum; the last two once reached.
func (t *Tracker) Columns(row map[string]float64) {
	row["unique_evals"] = float64(t.space.Unique())
	b, ok := t.Best()
	if !ok {
		return
	}
	t.mu.Lock()
	for i, r := range t.atRegret {
		row["regret_at_"+strconv.Itoa(BudgetGrid(i))] = r
	}
	if t.thrAt > 0 {
		row["evals_to_threshold"] = float64(t.thrAt)
	}
	if t.optAt > 0 {
		row["evals_to_optimum"] = float64(t.optAt)
	}
	t.mu.Unlock()
	row["best_value"] = b.Value
	row["best_reward"] = b.Reward
	for j, name := range t.metrics {
		row["best_"+name] = b.Metrics[j]
	}
	if t.obj.Kind() == KindConstrained {
		row["best_violation"] = b.Violation
	}
	if t.opt != nil {
		row["regret"] = b.Regret
	}
}

// FindOptimum evaluates every configuration of ds (use it on small spaces
// only: Size(ds) evaluations) and returns the best under obj in the
// Tracker's order (feasible first, then the lowest Value, ties to the
// lexicographically smallest configuration), with the number of designs
// that tie with it.
func FindOptimum(ds DesignSpace, obj *Objective) (*Optimum, error) {
	knobs := ds.Knobs()
	names := ds.MetricNames()
	cfg := make([]int, len(knobs))
	out := make([]float64, len(names))
	var bestC []int
	var bestM []float64
	ties := 0
	for {
		if err := ds.Evaluate(cfg, out); err != nil {
			return nil, fmt.Errorf("optimum of %s: %w", ds.Name(), err)
		}
		// Configurations come in lexicographic order, so an equal
		// (violation, value) never replaces the first one found.
		c := 0
		if bestC != nil {
			c = cmp.Or(compareNaNLast(obj.Violation(out), obj.Violation(bestM)), compareNaNLast(obj.Value(out), obj.Value(bestM)))
		}
		switch {
		case bestC == nil || c < 0:
			bestC, bestM, ties = slices.Clone(cfg), slices.Clone(out), 1
		case c == 0:
			ties++
		}
		i := len(cfg) - 1 // count, last knob fastest
		for i >= 0 {
			cfg[i]++
			if cfg[i] < len(knobs[i].Values) {
				break
			}
			cfg[i] = 0
			i--
		}
		if i < 0 {
			break
		}
	}
	v := obj.Value(bestM)
	if math.IsNaN(v) {
		return nil, fmt.Errorf("optimum of %s: no design has a value", ds.Name())
	}
	o := &Optimum{Value: v, Knobs: map[string]string{}, Metrics: map[string]float64{}, Ties: ties}
	for k, v := range bestC {
		o.Knobs[knobs[k].Name] = knobs[k].Values[v]
	}
	for j, m := range names {
		o.Metrics[m] = bestM[j]
	}
	return o, nil
}
