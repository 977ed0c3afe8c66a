package exhaustive

import (
	"errors"
	"fmt"
)

// Decomposition is the functional ANOVA of one response over a full
// factorial, up to two-way terms. With y the response of every
// configuration, mu its mean, m_a(i) the mean over configurations with
// knob a at value i and m_ab(i,j) the mean over those with a at i and b at
// j, the effects are
//
//	main:        f_a(i)    = m_a(i) - mu
//	interaction: f_ab(i,j) = m_ab(i,j) - m_a(i) - m_b(j) + mu
//
// and their sums of squares over all configurations are
// SS_a = sum_i n_a(i) f_a(i)^2 and SS_ab = sum_ij n_ab(i,j) f_ab(i,j)^2.
// On a full factorial the terms are orthogonal, so TotalSS = sum of all main
// and interaction terms of every order; what the main and two-way terms do
// not explain belongs to higher-order interactions.
//
// This is the classical balanced two-way ANOVA (Fisher) read as the
// Hoeffding/Sobol functional decomposition of the response (Hooker 2004,
// "Discovering additive structure in black box functions"; Hutter, Hoos and
// Leyton-Brown 2014, "An efficient approach for assessing hyperparameter
// importance", use the same variance shares to rank parameter pairs).
type Decomposition struct {
	N       int       // configurations
	Mean    float64   // mu
	TotalSS float64   // sum (y - mu)^2
	Main    []float64 // Main[a] = SS_a
	// Pair[a][b] = Pair[b][a] = SS_ab for a != b; the diagonal is zero.
	Pair [][]float64
}

// Decompose computes the decomposition of y, given in index order (last
// knob fastest) over the full factorial with the given radices.
func Decompose(y []float64, radices []int) (*Decomposition, error) {
	K := len(radices)
	if K == 0 {
		return nil, errors.New("anova: no knobs")
	}
	n := 1
	for _, r := range radices {
		if r <= 0 {
			return nil, fmt.Errorf("anova: radix %d", r)
		}
		n *= r
	}
	if len(y) != n {
		return nil, fmt.Errorf("anova: %d responses for a factorial of %d configurations", len(y), n)
	}
	var mu float64
	for _, v := range y {
		mu += v
	}
	mu /= float64(n)

	// Sums of centred responses per knob value and per pair cell.
	main := make([][]float64, K)
	for a, r := range radices {
		main[a] = make([]float64, r)
	}
	type pairCells struct {
		a, b int
		sum  []float64
	}
	pairs := make([]pairCells, 0, K*(K-1)/2)
	for a := 0; a < K; a++ {
		for b := a + 1; b < K; b++ {
			pairs = append(pairs, pairCells{a: a, b: b, sum: make([]float64, radices[a]*radices[b])})
		}
	}
	cfg := make([]int, K)
	var total float64
	for _, v := range y {
		d := v - mu
		total += d * d
		for a := range K {
			main[a][cfg[a]] += d
		}
		for p := range pairs {
			pc := &pairs[p]
			pc.sum[cfg[pc.a]*radices[pc.b]+cfg[pc.b]] += d
		}
		increment(cfg, radices)
	}

	dec := &Decomposition{N: n, Mean: mu, TotalSS: total, Main: make([]float64, K), Pair: make([][]float64, K)}
	means := make([][]float64, K) // f_a(i)
	for a, r := range radices {
		cnt := float64(n / r)
		means[a] = make([]float64, r)
		for i := range r {
			f := main[a][i] / cnt
			means[a][i] = f
			dec.Main[a] += cnt * f * f
		}
		dec.Pair[a] = make([]float64, K)
	}
	for _, pc := range pairs {
		ra, rb := radices[pc.a], radices[pc.b]
		cnt := float64(n / (ra * rb))
		var ss float64
		for i := range ra {
			for j := range rb {
				f := pc.sum[i*rb+j]/cnt - means[pc.a][i] - means[pc.b][j]
				ss += cnt * f * f
			}
		}
		dec.Pair[pc.a][pc.b] = ss
		dec.Pair[pc.b][pc.a] = ss
	}
	return dec, nil
}

// MainShare returns SS_a / TotalSS (0 when the response is constant).
func (d *Decomposition) MainShare(a int) float64 { return share(d.Main[a], d.TotalSS) }

// PairShare returns SS_ab / TotalSS (0 when the response is constant).
func (d *Decomposition) PairShare(a, b int) float64 { return share(d.Pair[a][b], d.TotalSS) }

func share(ss, total float64) float64 {
	if total <= 0 {
		return 0
	}
	return ss / total
}
