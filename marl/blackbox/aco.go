package blackbox

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/commgraph/commgraph/marl/contract"
)

// aco is ant colony optimisation over a pheromone table with one entry per
// (knob, value), after Dorigo and Stützle, "Ant Colony Optimization" (MIT
// Press, 2004): each ant builds a design knob by knob, picking value v of
// knob k with probability tau[k][v] / sum_u tau[k][u] (no heuristic
// information, i.e. beta = 0: the black-box setting has none). After the
// batch is evaluated the pheromone evaporates and the good designs deposit:
//
//	tau[k][v] <- (1 - rho) tau[k][v] + rho * sum_a w_a [x_a[k] = v]
//
// with deposit weights w_a summing to 1: BestShare for the best-so-far
// design and the rest for the iteration's Elite best ants with rank weights
// Elite, Elite-1, ..., 1 (the rank-based Ant System of Bullnheimer, Hartl
// and Strauss, 1999). Normalised deposits keep tau within [0, 1]
// independent of the reward's scale — the hyper-cube framework of Blum,
// Roli and Dorigo ("HC-ACO", 2001; Dorigo & Stützle 2004, section 3.4.4) —
// and a lower bound TauMin keeps every value's probability away from zero
// as in the MAX-MIN Ant System (Stützle and Hoos, 2000; Dorigo & Stützle
// section 3.3.4). Pheromone starts at the upper bound 1 (uniform sampling).
//
// An ant whose design repeats an evaluated one (or another ant of the same
// batch) is rebuilt up to Retries times; a surviving repeat costs no budget
// and still takes part in the ranking. When a whole batch brings nothing new
// the colony has stagnated, and the pheromone is reset to the upper bound
// (MAX-MIN Ant System's trail reinitialisation, Stützle and Hoos 2000); the
// best-so-far design is kept and deposits again from the next batch on.
type aco struct {
	c        ACOConfig
	rng      *rand.Rand
	tau      [][]float64
	restarts int
	// evaluated is the history length before the current batch: indices
	// at or above it are the batch's new designs.
	evaluated int
}

func newACO(c ACOConfig, sizes []int, rng *rand.Rand) *aco {
	a := &aco{c: c, rng: rng}
	for _, n := range sizes {
		row := make([]float64, n)
		for v := range row {
			row[v] = 1
		}
		a.tau = append(a.tau, row)
	}
	return a
}

// construct builds one ant's design.
func (a *aco) construct(cfg []int) {
	for k, row := range a.tau {
		sum := 0.0
		for _, t := range row {
			sum += t
		}
		u := a.rng.Float64() * sum
		v := 0
		for v < len(row)-1 && u >= row[v] {
			u -= row[v]
			v++
		}
		cfg[k] = v
	}
}

func (a *aco) propose(s *Search) [][]int {
	out := make([][]int, 0, s.cfg.Batch)
	batch := map[string]bool{}
	for range s.cfg.Batch {
		c := make([]int, len(a.tau))
		for try := 0; ; try++ {
			a.construct(c)
			if k := key(c); try >= s.cfg.Retries || (!s.known(c) && !batch[k]) {
				batch[k] = true
				break
			}
		}
		out = append(out, c)
	}
	return out
}

func (a *aco) observe(s *Search, _ [][]int, idx []int) {
	var ants []int
	seen := map[int]bool{}
	fresh := false
	for _, i := range idx {
		if i >= a.evaluated {
			fresh = true
		}
		if i >= 0 && !seen[i] {
			seen[i] = true
			ants = append(ants, i)
		}
	}
	a.evaluated = len(s.hist)
	if !fresh && len(idx) > 0 {
		for _, row := range a.tau {
			for v := range row {
				row[v] = 1
			}
		}
		a.restarts++
		return
	}
	if len(ants) == 0 && s.best < 0 {
		return
	}
	slices.SortFunc(ants, s.compare)
	ants = ants[:min(len(ants), a.c.Elite)]
	type deposit struct {
		cfg []int
		w   float64
	}
	var deps []deposit
	share := a.c.BestShare
	if len(ants) == 0 {
		share = 1
	}
	if s.best >= 0 && share > 0 {
		deps = append(deps, deposit{s.hist[s.best].Config, share})
	} else {
		share = 0
	}
	if len(ants) > 0 {
		e := len(ants)
		total := float64(e*(e+1)) / 2
		for r, i := range ants {
			deps = append(deps, deposit{s.hist[i].Config, (1 - share) * float64(e-r) / total})
		}
	}
	rho := a.c.Evaporation
	for k, row := range a.tau {
		for v := range row {
			row[v] *= 1 - rho
		}
		for _, d := range deps {
			row[d.cfg[k]] += rho * d.w
		}
		for v := range row {
			row[v] = min(max(row[v], a.c.TauMin), 1)
		}
	}
}

// metrics adds pheromone_entropy: the mean over knobs with two or more
// values of the normalised entropy of the value-choice distribution (1 =
// uniform, 0 = converged to one value).
func (a *aco) metrics(m contract.Metrics) {
	h, n := 0.0, 0
	for _, row := range a.tau {
		if len(row) < 2 {
			continue
		}
		sum := 0.0
		for _, t := range row {
			sum += t
		}
		e := 0.0
		for _, t := range row {
			if p := t / sum; p > 0 {
				e -= p * math.Log(p)
			}
		}
		h += e / math.Log(float64(len(row)))
		n++
	}
	if n > 0 {
		m["pheromone_entropy"] = h / float64(n)
	}
	m["restarts"] = float64(a.restarts)
}

type acoState struct {
	Tau                 [][]float64
	Restarts, Evaluated int
}

func (a *aco) state() ([]byte, error) {
	return gobBytes(acoState{Tau: a.tau, Restarts: a.restarts, Evaluated: a.evaluated})
}

func (a *aco) setState(b []byte) error {
	var st acoState
	if err := ungob(b, &st); err != nil {
		return fmt.Errorf("aco pheromone: %w", err)
	}
	if len(st.Tau) != len(a.tau) {
		return fmt.Errorf("aco pheromone: %d knobs, want %d", len(st.Tau), len(a.tau))
	}
	for k := range st.Tau {
		if len(st.Tau[k]) != len(a.tau[k]) {
			return fmt.Errorf("aco pheromone: knob %d has %d values, want %d", k, len(st.Tau[k]), len(a.tau[k]))
		}
	}
	a.tau, a.restarts, a.evaluated = st.Tau, st.Restarts, st.Evaluated
	return nil
}

func (a *aco) check(s *Search) error {
	if a.evaluated < 0 || a.evaluated > len(s.hist) {
		return fmt.Errorf("aco: %d designs evaluated before the last batch, history has %d", a.evaluated, len(s.hist))
	}
	for k, row := range a.tau {
		for v, t := range row {
			if !(t >= a.c.TauMin && t <= 1) {
				return fmt.Errorf("aco pheromone of knob %d value %d is %v, outside [%v, 1]", k, v, t, a.c.TauMin)
			}
		}
	}
	return nil
}
