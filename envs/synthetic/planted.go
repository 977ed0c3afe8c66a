package synthetic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/commgraph/commgraph/envs"
)

// Planted returns the configuration of a landscape with a sparse random
// planted interaction graph: knobs knobs, each with values values; every
// knob is in 1 to 3 planted pairs (a random perfect matching, then about
// knobs/2 further random pairs between knobs that still have room), and
// every pair's strength is drawn uniformly from [1, 2] times the main-effect
// scale, so pairs matter as much as main effects: a knob's best value
// usually depends on its partners' values. Everything is drawn from PCG
// streams derived from seed, so any seed gives a new landscape and truth.
func Planted(knobs, values int, seed uint64) (Config, error) {
	if knobs < 2 {
		return Config{}, fmt.Errorf("synthetic: planted graph needs >= 2 knobs, got %d", knobs)
	}
	if values < 2 {
		return Config{}, fmt.Errorf("synthetic: planted graph needs >= 2 values per knob, got %d", values)
	}
	r := rand.New(rand.NewPCG(envs.DeriveSeed(seed, 3), 0x706c616e74)) // "plant"
	deg := make([]int, knobs)
	has := map[[2]int]bool{}
	var pairs []Pair
	add := func(a, b int) {
		key := [2]int{min(a, b), max(a, b)}
		pairs = append(pairs, Pair{A: key[0], B: key[1], S: 1 + r.Float64()})
		has[key] = true
		deg[a]++
		deg[b]++
	}
	perm := r.Perm(knobs)
	for i := 0; i+1 < knobs; i += 2 {
		add(perm[i], perm[i+1])
	}
	if knobs%2 == 1 { // the last knob joins a random other one
		last := perm[knobs-1]
		add(last, perm[r.IntN(knobs-1)])
	}
	for try := 0; try < 20*knobs && len(pairs) < knobs; try++ {
		a, b := r.IntN(knobs), r.IntN(knobs)
		if a == b || deg[a] >= 3 || deg[b] >= 3 || has[[2]int{min(a, b), max(a, b)}] {
			continue
		}
		add(a, b)
	}
	slices.SortFunc(pairs, func(x, y Pair) int {
		if x.A != y.A {
			return x.A - y.A
		}
		return x.B - y.B
	})
	c := Config{Name: fmt.Sprintf("synthetic-planted%dx%d", knobs, values), Pairs: pairs, Seed: seed}
	for range knobs {
		c.Values = append(c.Values, values)
	}
	return c, nil
}

// maxFactor bounds the size of an intermediate table of BestGiven.
const maxFactor = 1 << 22

// BestGiven returns a design minimising f (so also exp_y) among those that
// agree with pinned on its non-negative entries (pinned[i] = the value of
// knob i, or -1 where free), and f there. It is exact: min-sum variable
// elimination over the planted pairs (Dechter 1999, "Bucket elimination"),
// eliminating the free knob with the fewest free neighbours first. It
// fails only if an intermediate table would exceed 4M entries (a dense
// planted graph over many free knobs).
func (s *Space) BestGiven(pinned []int) ([]int, float64, error) {
	n := len(s.knobs)
	if len(pinned) != n {
		return nil, 0, fmt.Errorf("%s: %d pinned entries for %d knobs", s.name, len(pinned), n)
	}
	card := make([]int, n)
	for i, k := range s.knobs {
		card[i] = len(k.Values)
		if pinned[i] >= card[i] {
			return nil, 0, fmt.Errorf("%s: pinned value %d of knob %d out of range", s.name, pinned[i], i)
		}
	}
	free := func(i int) bool { return pinned[i] < 0 }
	// Factors over free knobs: unary (main effect plus pairs with a pinned
	// partner) and pairwise (pairs of free knobs); a constant for the rest.
	type factor struct {
		vars []int // sorted
		t    []float64
	}
	var fs []*factor
	constant := 0.0
	unary := make([][]float64, n)
	for i := 0; i < n; i++ {
		if free(i) {
			unary[i] = slices.Clone(s.main[i])
		} else {
			constant += s.main[i][pinned[i]]
		}
	}
	for j, p := range s.pairs {
		nb := card[p.B]
		t := s.tables[j]
		switch {
		case !free(p.A) && !free(p.B):
			constant += t[pinned[p.A]*nb+pinned[p.B]]
		case free(p.A) && !free(p.B):
			for a := range card[p.A] {
				unary[p.A][a] += t[a*nb+pinned[p.B]]
			}
		case !free(p.A) && free(p.B):
			for b := range nb {
				unary[p.B][b] += t[pinned[p.A]*nb+b]
			}
		default:
			v := []int{p.A, p.B}
			tt := slices.Clone(t)
			if p.A > p.B { // keep vars sorted: transpose
				v = []int{p.B, p.A}
				for a := range card[p.A] {
					for b := range nb {
						tt[b*card[p.A]+a] = t[a*nb+b]
					}
				}
			}
			fs = append(fs, &factor{vars: v, t: tt})
		}
	}
	for i := 0; i < n; i++ {
		if free(i) {
			fs = append(fs, &factor{vars: []int{i}, t: unary[i]})
		}
	}
	// index of an assignment (values of vars, in vars order) into a table.
	index := func(vars []int, val func(int) int) int {
		k := 0
		for _, v := range vars {
			k = k*card[v] + val(v)
		}
		return k
	}
	type step struct {
		x      int
		joined *factor // over x and its neighbours, for the backward pass
	}
	var order []step
	alive := map[int]bool{}
	for i := 0; i < n; i++ {
		if free(i) {
			alive[i] = true
		}
	}
	for len(alive) > 0 {
		// The free knob with the fewest distinct neighbours (ties: lowest index).
		best, bestDeg := -1, math.MaxInt
		for x := range alive {
			nb := map[int]bool{}
			for _, f := range fs {
				if slices.Contains(f.vars, x) {
					for _, v := range f.vars {
						if v != x {
							nb[v] = true
						}
					}
				}
			}
			if len(nb) < bestDeg || len(nb) == bestDeg && x < best {
				best, bestDeg = x, len(nb)
			}
		}
		x := best
		delete(alive, x)
		var with, rest []*factor
		var vars []int
		for _, f := range fs {
			if slices.Contains(f.vars, x) {
				with = append(with, f)
				for _, v := range f.vars {
					if !slices.Contains(vars, v) {
						vars = append(vars, v)
					}
				}
			} else {
				rest = append(rest, f)
			}
		}
		slices.Sort(vars)
		size := 1
		for _, v := range vars {
			size *= card[v]
			if size > maxFactor {
				return nil, 0, fmt.Errorf("%s: exact optimum needs a table over %d knobs (more than %d entries)", s.name, len(vars), maxFactor)
			}
		}
		joined := &factor{vars: vars, t: make([]float64, size)}
		asg := make(map[int]int, len(vars))
		for k := 0; k < size; k++ {
			r := k
			for q := len(vars) - 1; q >= 0; q-- {
				asg[vars[q]] = r % card[vars[q]]
				r /= card[vars[q]]
			}
			sum := 0.0
			for _, f := range with {
				sum += f.t[index(f.vars, func(v int) int { return asg[v] })]
			}
			joined.t[k] = sum
		}
		order = append(order, step{x: x, joined: joined})
		// The message: min over x of the joined table, over the other vars.
		var mv []int
		for _, v := range vars {
			if v != x {
				mv = append(mv, v)
			}
		}
		msize := size / card[x]
		msg := &factor{vars: mv, t: make([]float64, msize)}
		for k := range msg.t {
			msg.t[k] = math.Inf(1)
		}
		for k := 0; k < size; k++ {
			r := k
			for q := len(vars) - 1; q >= 0; q-- {
				asg[vars[q]] = r % card[vars[q]]
				r /= card[vars[q]]
			}
			mk := index(mv, func(v int) int { return asg[v] })
			msg.t[mk] = min(msg.t[mk], joined.t[k])
		}
		fs = append(rest, msg)
	}
	// Remaining factors have no variables: their sum is the optimum's free part.
	opt := constant
	for _, f := range fs {
		opt += f.t[0]
	}
	// Backward pass: assign in reverse elimination order.
	design := slices.Clone(pinned)
	for q := len(order) - 1; q >= 0; q-- {
		st := order[q]
		bestV, bestY := 0, math.Inf(1)
		for v := range card[st.x] {
			design[st.x] = v
			y := st.joined.t[index(st.joined.vars, func(u int) int { return design[u] })]
			if y < bestY {
				bestV, bestY = v, y
			}
		}
		design[st.x] = bestV
	}
	return design, opt, nil
}

// Oracle is BestGiven in the form envs.RevisionConfig.Oracle takes: it
// writes the metrics (y, exp_y) of a best design given the pinned knobs.
// Both metrics are minimised by it, so it serves objectives that minimise
// either.
func (s *Space) Oracle(pinned []int, metrics []float64) error {
	_, y, err := s.BestGiven(pinned)
	if err != nil {
		return err
	}
	metrics[0], metrics[1] = y, math.Exp(y)
	return nil
}
