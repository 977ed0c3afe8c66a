package blackbox

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/commgraph/commgraph/marl/contract"
)

// tpe is Bayesian optimisation with a tree-structured Parzen estimator
// surrogate (Bergstra, Bardenet, Bengio and Kégl, "Algorithms for
// hyper-parameter optimization", NeurIPS 2011), in its simplest form for
// categorical knobs. Instead of modelling p(reward | design) it models the
// design distribution of the good and the bad designs:
//
//   - the evaluated designs are split by reward into the best fraction
//     Gamma ("good", at least one) and the rest ("bad");
//   - per knob, l_k(v) and g_k(v) are the value frequencies among the good
//     and the bad designs, smoothed by Prior pseudo-counts spread uniformly
//     over the knob's values; knobs are modelled independently (the tree of
//     the original paper is flat here, every knob always being active);
//   - expected improvement is monotone in l(x)/g(x) (section 4.1 of the
//     paper), so each slot of the batch draws Candidates designs from l and
//     takes the unseen one with the largest sum_k log l_k(x_k) - log g_k(x_k).
//
// The first Init designs are drawn uniformly without replacement. The
// model is refitted from the whole history at every iteration and all
// slots of a batch use the same model (a batch is not conditioned on its
// own pending designs, beyond excluding repeats). Independent per-knob
// densities cannot represent knob interactions — the point of comparison
// with the learned communication graph.
type tpe struct {
	c      TPEConfig
	init   *rand.Rand
	sample *rand.Rand
}

// fit splits the history into good and bad designs and returns, per knob
// and value, the score log l_k(v) - log g_k(v) and the cumulative
// unnormalised l_k (good counts plus prior) for sampling from l.
func (t *tpe) fit(s *Search) (score, cum [][]float64) {
	order := make([]int, len(s.hist))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, s.compare)
	nGood := min(len(order), max(1, int(math.Ceil(t.c.Gamma*float64(len(order))))))
	nBad := len(order) - nGood
	for k, n := range s.sizes {
		good := make([]float64, n)
		bad := make([]float64, n)
		for r, i := range order {
			if r < nGood {
				good[s.hist[i].Config[k]]++
			} else {
				bad[s.hist[i].Config[k]]++
			}
		}
		prior := t.c.Prior / float64(n)
		sc := make([]float64, n)
		cw := make([]float64, n)
		acc := 0.0
		for v := range n {
			l := (good[v] + prior) / (float64(nGood) + t.c.Prior)
			g := (bad[v] + prior) / (float64(nBad) + t.c.Prior)
			sc[v] = math.Log(l) - math.Log(g)
			acc += good[v] + prior
			cw[v] = acc
		}
		score = append(score, sc)
		cum = append(cum, cw)
	}
	return score, cum
}

func (t *tpe) propose(s *Search) [][]int {
	if len(s.hist) < t.c.Init {
		return s.sampleUnseen(t.init, min(s.cfg.Batch, t.c.Init-len(s.hist), s.remaining()))
	}
	score, cum := t.fit(s)
	out := make([][]int, 0, s.cfg.Batch)
	batch := map[string]bool{}
	cand := make([]int, len(s.sizes))
	for range s.cfg.Batch {
		var best []int
		bestScore := math.Inf(-1)
		var fallback []int
		for range t.c.Candidates {
			sc := 0.0
			for k, cw := range cum {
				u := t.sample.Float64() * cw[len(cw)-1]
				v := 0
				for v < len(cw)-1 && u >= cw[v] {
					v++
				}
				cand[k] = v
				sc += score[k][v]
			}
			if s.known(cand) || batch[key(cand)] {
				if fallback == nil {
					fallback = slices.Clone(cand)
				}
				continue
			}
			if sc > bestScore {
				bestScore = sc
				best = slices.Clone(cand)
			}
		}
		if best == nil {
			best = fallback // every candidate repeated: a free repeat
		}
		batch[key(best)] = true
		out = append(out, best)
	}
	return out
}

func (t *tpe) observe(*Search, [][]int, []int) {}
func (t *tpe) metrics(contract.Metrics)        {}
func (t *tpe) state() ([]byte, error)          { return nil, nil }
func (t *tpe) setState([]byte) error           { return nil }
func (t *tpe) check(*Search) error             { return nil }
