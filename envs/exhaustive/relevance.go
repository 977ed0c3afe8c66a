package exhaustive

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// DecisionRelevance estimates, from a complete table and the values y of a
// metric to minimise (one per configuration, MetricValues), how often the
// best value of each knob depends on each other knob: rel[i][j] is the
// fraction of random contexts (every knob at a uniform random value) in
// which knob i's best value, with the others held, changes when knob j
// takes another value drawn uniformly. This is what an agent revising knob
// i must learn from knob j's message, where the ANOVA share (Decompose)
// says how much the pair moves the metric, which need not change any
// knob's best value. Values within 1e-9 (relative) of the minimum tie and
// the lowest index among them is the best. contexts samples per ordered
// pair, drawn from rng; the diagonal is 0.
func DecisionRelevance(t *Table, y []float64, contexts int, rng *rand.Rand) ([][]float64, error) {
	if t.radices == nil {
		t.init()
	}
	if len(y) != t.Len() {
		return nil, fmt.Errorf("%d metric values for %d configurations", len(y), t.Len())
	}
	if contexts <= 0 {
		return nil, fmt.Errorf("contexts %d: want > 0", contexts)
	}
	n := len(t.radices)
	best := func(cfg []int, i int) int {
		base := 0
		for k, v := range cfg {
			if k != i {
				base += v * t.strides[k]
			}
		}
		b, bv := -1, math.Inf(1)
		for v := range t.radices[i] {
			x := y[base+v*t.strides[i]]
			if b < 0 || x < bv-1e-9*math.Abs(bv) {
				b, bv = v, x
			}
		}
		return b
	}
	rel := make([][]float64, n)
	cfg := make([]int, n)
	for i := range n {
		rel[i] = make([]float64, n)
		for j := range n {
			if i == j || t.radices[j] < 2 || t.radices[i] < 2 {
				continue
			}
			changed := 0
			for range contexts {
				for k := range n {
					cfg[k] = rng.IntN(t.radices[k])
				}
				b := best(cfg, i)
				v := rng.IntN(t.radices[j] - 1)
				if v >= cfg[j] {
					v++
				}
				cfg[j] = v
				if best(cfg, i) != b {
					changed++
				}
			}
			rel[i][j] = float64(changed) / float64(contexts)
		}
	}
	return rel, nil
}
