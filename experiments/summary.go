package experiments

import (
	"math"

	"github.com/commgraph/commgraph/envs"
)

// Outcome says how a design-space run got to its best design: when the
// best objective value was first reached and how much better it is than the
// start design. It is part of Design (summary.json's best_design) for every
// algorithm kind and every design-space environment, since it is computed
// from the tracker's columns in the metrics rows and the counted space.
type Outcome struct {
	// FoundAtIteration is the first iteration whose metrics row shows the
	// final best objective value (and violation); 0 when the start design
	// already had it. Ties between designs of equal value count as found:
	// the tracker may later switch to an equal design with a smaller
	// configuration.
	FoundAtIteration *int `json:"found_at_iteration,omitempty"`
	// FoundAtEvaluation is the number of unique evaluations spent when that
	// iteration ended, and FoundFromEvaluation the first unique evaluation
	// of that iteration: the best was one of evaluations
	// FoundFromEvaluation..FoundAtEvaluation (the two are equal when the
	// iteration evaluated one new design; within an iteration designs are
	// evaluated in parallel, so no finer order is defined). The start
	// design is evaluation 1.
	FoundAtEvaluation   *int `json:"found_at_evaluation,omitempty"`
	FoundFromEvaluation *int `json:"found_from_evaluation,omitempty"`
	// FoundAtPlace is the unique evaluation itself, in the evaluation
	// order the anytime columns use (envs.Counted: an iteration's new
	// designs after the earlier ones', among themselves in a fixed
	// pseudo-random order; the start design first).
	FoundAtPlace *int `json:"found_at_place,omitempty"`
	// Start is the start design (the environment's start or reference
	// design; every knob at its first value unless configured).
	Start *Point `json:"start_design,omitempty"`
	// GainOverStart is how much lower the best objective value is than the
	// start design's, by the rule of regret: relative, (start - best) /
	// |start|, for minimisation (0.74 = 74% lower); absolute, start - best,
	// for target objectives and when the start's value is 0.
	GainOverStart *float64 `json:"gain_over_start,omitempty"`
}

// Point is one evaluated design.
type Point struct {
	Knobs     map[string]string  `json:"knobs"`     // knob name -> value
	Index     []int              `json:"index"`     // value index per knob
	Metrics   map[string]float64 `json:"metrics"`   // physical metrics
	Objective float64            `json:"objective"` // envs.Objective.Value
}

// describeOutcome fills d.Outcome for the best design b of tr, from the
// run's metrics rows (oldest first) and the start design (nil: unknown).
func describeOutcome(d *Design, tr *envs.Tracker, b envs.Best, rows []Row, start []int) {
	if b.Since > 0 {
		d.FoundAtPlace = &b.Since
	}
	obj := tr.Objective()
	space := tr.Space()
	evaluated := 0 // unique evaluations before the first iteration
	if start != nil {
		m := make([]float64, len(space.MetricNames()))
		if space.Lookup(start, m) {
			evaluated = 1
			knobs := space.Knobs()
			p := &Point{Knobs: map[string]string{}, Index: append([]int(nil), start...), Metrics: map[string]float64{}, Objective: obj.Value(m)}
			for k, v := range start {
				p.Knobs[knobs[k].Name] = knobs[k].Values[v]
			}
			for j, name := range space.MetricNames() {
				p.Metrics[name] = m[j]
			}
			d.Start = p
			g := gainOver(p.Objective, b.Value, obj.Kind())
			d.GainOverStart = &g
			if sameFloat(obj.Violation(m), b.Violation) && sameFloat(p.Objective, b.Value) {
				d.found(0, 1, 1)
				return
			}
		}
	}
	for _, r := range rows {
		v, ok := r["best_value"]
		if !ok {
			continue
		}
		if sameFloat(v, b.Value) && sameFloat(r["best_violation"], b.Violation) {
			at := evaluated
			if u, ok := r["unique_evals"]; ok {
				at = int(u)
			}
			d.found(int(r["iteration"]), min(evaluated+1, at), at)
			return
		}
		if u, ok := r["unique_evals"]; ok {
			evaluated = int(u)
		}
	}
}

func (o *Outcome) found(it, from, at int) {
	o.FoundAtIteration, o.FoundFromEvaluation, o.FoundAtEvaluation = &it, &from, &at
}

// gainOver is the improvement of best over start by the rule of
// envs.Tracker.Regret: relative for minimisation, absolute for targets and
// a zero start.
func gainOver(start, best float64, kind string) float64 {
	if kind == envs.KindTarget || start == 0 {
		return start - best
	}
	return (start - best) / math.Abs(start)
}

// sameFloat is == with NaN equal to NaN.
func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}
