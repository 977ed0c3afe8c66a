package blackbox

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/commgraph/commgraph/marl/contract"
)

// genetic is a generational genetic algorithm over value-index genomes
// (one gene per knob), following the standard scheme of Goldberg, "Genetic
// Algorithms in Search, Optimization and Machine Learning" (1989), and the
// operator definitions of Eiben and Smith, "Introduction to Evolutionary
// Computing" (2nd ed., 2015):
//
//   - parent selection: tournament of size k, drawn with replacement from
//     the population (Eiben & Smith section 5.2.4);
//   - recombination: uniform crossover, each gene from either parent with
//     probability 1/2, applied with probability Crossover (section 4.2.2 on
//     integer representations);
//   - mutation: "random resetting" per gene with probability Mutation, to a
//     value drawn uniformly among the knob's other values (section 4.3.1);
//   - survivor selection: (mu + lambda), the Population best of parents and
//     offspring, which is elitist (section 5.3.1).
//
// Offspring that repeat an evaluated design (or another child of the same
// generation) are re-drawn up to Retries times, a simple form of duplicate
// elimination; a repeat that survives the retries costs no budget.
type genetic struct {
	c    GeneticConfig
	init *rand.Rand // initial population
	sel  *rand.Rand // tournaments
	vary *rand.Rand // crossover and mutation

	pop []int // history indices, best first, distinct
}

func (g *genetic) propose(s *Search) [][]int {
	if len(g.pop) == 0 {
		return s.sampleUnseen(g.init, min(g.c.Population, s.remaining()))
	}
	out := make([][]int, 0, s.cfg.Batch)
	batch := map[string]bool{}
	for range s.cfg.Batch {
		var child []int
		for try := 0; ; try++ {
			child = g.child(s)
			if k := key(child); try >= s.cfg.Retries || (!s.known(child) && !batch[k]) {
				batch[k] = true
				break
			}
		}
		out = append(out, child)
	}
	return out
}

// tournament returns the best of Tournament population members drawn
// uniformly with replacement (the population is sorted best first, so the
// smallest drawn position wins).
func (g *genetic) tournament() int {
	best := len(g.pop)
	for range g.c.Tournament {
		best = min(best, g.sel.IntN(len(g.pop)))
	}
	return g.pop[best]
}

func (g *genetic) child(s *Search) []int {
	a := s.hist[g.tournament()].Config
	b := s.hist[g.tournament()].Config
	c := slices.Clone(a)
	if g.vary.Float64() < g.c.Crossover {
		for k := range c {
			if g.vary.IntN(2) == 1 {
				c[k] = b[k]
			}
		}
	}
	for k, n := range s.sizes {
		if n > 1 && g.vary.Float64() < g.c.Mutation {
			v := g.vary.IntN(n - 1)
			if v >= c[k] {
				v++
			}
			c[k] = v
		}
	}
	return c
}

func (g *genetic) observe(s *Search, _ [][]int, idx []int) {
	seen := map[int]bool{}
	next := make([]int, 0, len(g.pop)+len(idx))
	for _, i := range append(slices.Clone(g.pop), idx...) {
		if i >= 0 && !seen[i] {
			seen[i] = true
			next = append(next, i)
		}
	}
	slices.SortFunc(next, s.compare)
	g.pop = next[:min(len(next), g.c.Population)]
}

func (g *genetic) metrics(m contract.Metrics) { m["population"] = float64(len(g.pop)) }

type geneticState struct{ Pop []int }

func (g *genetic) state() ([]byte, error) { return gobBytes(geneticState{Pop: g.pop}) }

func (g *genetic) setState(b []byte) error {
	var st geneticState
	if err := ungob(b, &st); err != nil {
		return fmt.Errorf("genetic population: %w", err)
	}
	g.pop = st.Pop
	return nil
}

func (g *genetic) check(s *Search) error {
	if len(g.pop) > g.c.Population {
		return fmt.Errorf("genetic population of %d, configured %d", len(g.pop), g.c.Population)
	}
	for _, i := range g.pop {
		if i < 0 || i >= len(s.hist) {
			return fmt.Errorf("genetic population member %d outside the history of %d", i, len(s.hist))
		}
	}
	return nil
}
