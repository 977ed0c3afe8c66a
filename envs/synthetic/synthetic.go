// Package synthetic owns a design space with a planted interaction graph:
// a landscape whose knobs interact exactly along known pairs, so methods
// that rank knob interactions (two-way functional ANOVA) or learn a
// communication graph can be tested against ground truth.
//
// The landscape over a configuration x is
//
//	f(x) = sum_i m_i[x_i] + sum_(a,b) s_ab * T_ab[x_a][x_b]
//
// where every main-effect vector m_i is centred with root-mean-square
// MainScale, and every planted table T_ab is double-centred (each row and
// each column averages zero) with root-mean-square 1. Under the uniform
// distribution over the full factorial these terms are orthogonal, so the
// functional ANOVA decomposition of f is exactly: main-effect variance
// MainScale^2 per knob (with >= 2 values), s_ab^2 for each planted pair, and
// zero for every other pair and every higher-order term. All values are
// drawn from PCG streams derived from (Seed, purpose, index).
//
// Metrics: "y" = f(x) and "exp_y" = exp(f(x)) (positive, so log-scale
// objectives and ANOVA of log(metric) see exactly the same structure).
package synthetic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/commgraph/commgraph/envs"
)

// Pair is a planted interaction between knobs A and B (A != B) with
// strength S (the standard deviation of its term).
type Pair struct {
	A, B int
	S    float64
}

// Config describes a synthetic space.
type Config struct {
	Name      string   // default "synthetic"
	Values    []int    // value count per knob (each >= 1)
	KnobNames []string // optional; default k0, k1, ...
	Pairs     []Pair   // planted interactions; at most one per unordered pair
	// MainScale is the root-mean-square of each main effect m_i, > 0. Left
	// out (the field's zero value) it is DefaultMainScale, so that a Config
	// that says nothing about main effects gets the documented unit scale;
	// a landscape without main effects says so with NoMainEffects, never
	// with a special MainScale.
	MainScale float64
	// NoMainEffects drops the main effects: f is the sum of the planted
	// pair terms alone (MainScale must then be left out).
	NoMainEffects bool
	Seed          uint64
}

// DefaultMainScale is the RMS of each main effect when Config.MainScale is
// left out.
const DefaultMainScale = 1.0

// mainScale is the RMS of the main effects that c describes, or an error
// for a MainScale that is not a positive finite number or that contradicts
// NoMainEffects.
func (c Config) mainScale() (float64, error) {
	switch {
	case math.IsNaN(c.MainScale) || math.IsInf(c.MainScale, 0) || c.MainScale < 0:
		return 0, fmt.Errorf("synthetic: main scale %v: want a positive RMS (NoMainEffects for a landscape without main effects)", c.MainScale)
	case c.NoMainEffects && c.MainScale != 0:
		return 0, fmt.Errorf("synthetic: main scale %v with NoMainEffects: leave MainScale out when there are no main effects", c.MainScale)
	case c.NoMainEffects:
		return 0, nil
	case c.MainScale == 0:
		return DefaultMainScale, nil
	}
	return c.MainScale, nil
}

// DRAMLike has the DRAM space's value counts [4,3,3,8,2,2,4,4,3,8] and
// three planted pairs echoing the measured DRAM interactions:
// k8 x k9 (2.0, "Arbiter x MaxActiveTransactions"), k0 x k3 (1.5,
// "PagePolicy x RequestBufferSize") and k1 x k2 (0.7).
func DRAMLike(seed uint64) Config {
	return Config{
		Name:   "synthetic-dramlike",
		Values: []int{4, 3, 3, 8, 2, 2, 4, 4, 3, 8},
		Pairs:  []Pair{{8, 9, 2.0}, {0, 3, 1.5}, {1, 2, 0.7}},
		Seed:   seed,
	}
}

// Space is the synthetic design space. It is immutable and safe for
// concurrent use.
type Space struct {
	name    string
	knobs   []envs.Knob
	main    [][]float64 // [knob][value]
	pairs   []Pair
	tables  [][]float64 // [pair][va*nb+vb]
	mainVar []float64
}

var _ envs.DesignSpace = (*Space)(nil)

// Metric names.
const (
	MetricY    = "y"
	MetricExpY = "exp_y"
)

// New builds the space.
func New(c Config) (*Space, error) {
	if len(c.Values) == 0 {
		return nil, fmt.Errorf("synthetic: no knobs")
	}
	if c.KnobNames != nil && len(c.KnobNames) != len(c.Values) {
		return nil, fmt.Errorf("synthetic: %d knob names for %d knobs", len(c.KnobNames), len(c.Values))
	}
	scale, err := c.mainScale()
	if err != nil {
		return nil, err
	}
	s := &Space{name: c.Name, pairs: slices.Clone(c.Pairs)}
	if s.name == "" {
		s.name = "synthetic"
	}
	for i, n := range c.Values {
		if n < 1 {
			return nil, fmt.Errorf("synthetic: knob %d has %d values", i, n)
		}
		name := fmt.Sprintf("k%d", i)
		if c.KnobNames != nil {
			name = c.KnobNames[i]
		}
		k := envs.Knob{Name: name}
		for v := range n {
			k.Values = append(k.Values, fmt.Sprintf("v%d", v))
		}
		s.knobs = append(s.knobs, k)
		m := gauss(envs.DeriveSeed(c.Seed, 1, uint64(i)), n)
		centre(m)
		mv := normalise(m, scale)
		s.main = append(s.main, m)
		s.mainVar = append(s.mainVar, mv)
	}
	seen := map[[2]int]bool{}
	for j, p := range c.Pairs {
		if p.A < 0 || p.B < 0 || p.A >= len(c.Values) || p.B >= len(c.Values) || p.A == p.B {
			return nil, fmt.Errorf("synthetic: pair %d (%d,%d) does not name two distinct knobs", j, p.A, p.B)
		}
		key := [2]int{min(p.A, p.B), max(p.A, p.B)}
		if seen[key] {
			return nil, fmt.Errorf("synthetic: pair %d (%d,%d) planted twice", j, p.A, p.B)
		}
		seen[key] = true
		na, nb := c.Values[p.A], c.Values[p.B]
		if na < 2 || nb < 2 {
			return nil, fmt.Errorf("synthetic: pair %d (%d,%d): both knobs need >= 2 values to interact", j, p.A, p.B)
		}
		if math.IsNaN(p.S) || math.IsInf(p.S, 0) {
			return nil, fmt.Errorf("synthetic: pair %d strength %v", j, p.S)
		}
		t := gauss(envs.DeriveSeed(c.Seed, 2, uint64(j)), na*nb)
		doubleCentre(t, na, nb)
		normalise(t, 1)
		for i := range t {
			t[i] *= p.S
		}
		s.tables = append(s.tables, t)
	}
	return s, nil
}

// MustNew is New that panics on error (for known-good configurations).
func MustNew(c Config) *Space {
	s, err := New(c)
	if err != nil {
		panic(err)
	}
	return s
}

// gauss returns n standard normal draws from a PCG stream.
func gauss(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x73796e7468)) // "synth"
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64()
	}
	return out
}

func centre(x []float64) {
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for i := range x {
		x[i] -= m
	}
}

// normalise rescales x to root-mean-square rms and returns the resulting
// mean square (0 when x is all zero, e.g. a one-value knob).
func normalise(x []float64, rms float64) float64 {
	ss := 0.0
	for _, v := range x {
		ss += v * v
	}
	if ss == 0 {
		return 0
	}
	f := rms / math.Sqrt(ss/float64(len(x)))
	ss = 0
	for i := range x {
		x[i] *= f
		ss += x[i] * x[i]
	}
	return ss / float64(len(x))
}

// doubleCentre removes row and column means of the na x nb table t.
func doubleCentre(t []float64, na, nb int) {
	grand := 0.0
	for _, v := range t {
		grand += v
	}
	grand /= float64(na * nb)
	row := make([]float64, na)
	col := make([]float64, nb)
	for a := range na {
		for b := range nb {
			row[a] += t[a*nb+b] / float64(nb)
			col[b] += t[a*nb+b] / float64(na)
		}
	}
	for a := range na {
		for b := range nb {
			t[a*nb+b] += grand - row[a] - col[b]
		}
	}
}

// Name implements envs.DesignSpace.
func (s *Space) Name() string { return s.name }

// Knobs implements envs.DesignSpace.
func (s *Space) Knobs() []envs.Knob { return slices.Clone(s.knobs) }

// MetricNames implements envs.DesignSpace.
func (s *Space) MetricNames() []string { return []string{MetricY, MetricExpY} }

// Evaluate implements envs.DesignSpace.
func (s *Space) Evaluate(cfg []int, out []float64) error {
	if err := envs.ValidateConfig(s.knobs, cfg); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if len(out) < 2 {
		return fmt.Errorf("%s: metric buffer has %d entries, want 2", s.name, len(out))
	}
	y := s.F(cfg)
	out[0], out[1] = y, math.Exp(y)
	return nil
}

// F returns f(cfg) for a valid configuration.
func (s *Space) F(cfg []int) float64 {
	y := 0.0
	for i, v := range cfg {
		y += s.main[i][v]
	}
	for j, p := range s.pairs {
		y += s.tables[j][cfg[p.A]*len(s.knobs[p.B].Values)+cfg[p.B]]
	}
	return y
}

// Pairs returns the planted pairs.
func (s *Space) Pairs() []Pair { return slices.Clone(s.pairs) }

// MainVariance returns the exact variance of knob i's main effect over the
// full factorial (MainScale^2, or 0 for a one-value knob).
func (s *Space) MainVariance(i int) float64 { return s.mainVar[i] }

// PairVariance returns the exact interaction variance of knobs a and b over
// the full factorial: S^2 for a planted pair, 0 otherwise.
func (s *Space) PairVariance(a, b int) float64 {
	for _, p := range s.pairs {
		if (p.A == a && p.B == b) || (p.A == b && p.B == a) {
			return p.S * p.S
		}
	}
	return 0
}

// TotalVariance returns the exact variance of f over the full factorial
// (the sum of the main and pair variances).
func (s *Space) TotalVariance() float64 {
	v := 0.0
	for _, m := range s.mainVar {
		v += m
	}
	for _, p := range s.pairs {
		v += p.S * p.S
	}
	return v
}
