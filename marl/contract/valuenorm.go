package contract

import "math"

// ValueNorm normalises value targets with a debiased exponential moving
// average of the mean and the mean square of the returns, as in MAPPO (Yu et
// al. 2022, "The Surprising Effectiveness of PPO in Cooperative Multi-Agent
// Games"): after each update with a batch of returns,
//
//	m  <- beta*m  + (1-beta)*mean(x)
//	m2 <- beta*m2 + (1-beta)*mean(x^2)
//	d  <- beta*d  + (1-beta)
//
// and the statistics are mean = m/max(d, eps), var = max(m2/max(d, eps) -
// mean^2, 1e-2). A scalar normaliser (one statistic shared by all agents).
type ValueNorm struct {
	Beta    float64 // EMA weight of the old statistic (MAPPO: 0.99999)
	Epsilon float64 // lower bound of the debiasing term (MAPPO: 1e-5)

	Mean, MeanSq, Debias float64 // the running state (checkpointed)
}

// NewValueNorm returns a normaliser with MAPPO's constants.
func NewValueNorm() *ValueNorm { return &ValueNorm{Beta: 0.99999, Epsilon: 1e-5} }

// Update folds a batch of (de-normalised) returns into the statistics.
func (v *ValueNorm) Update(x []float32) {
	if len(x) == 0 {
		return
	}
	var s, s2 float64
	for _, y := range x {
		s += float64(y)
		s2 += float64(y) * float64(y)
	}
	n := float64(len(x))
	w := v.Beta
	v.Mean = w*v.Mean + (1-w)*s/n
	v.MeanSq = w*v.MeanSq + (1-w)*s2/n
	v.Debias = w*v.Debias + (1 - w)
}

// Stats returns the debiased mean and variance.
func (v *ValueNorm) Stats() (mean, variance float64) {
	d := max(v.Debias, v.Epsilon)
	mean = v.Mean / d
	variance = max(v.MeanSq/d-mean*mean, 1e-2)
	return mean, variance
}

// Normalize maps a return to the critic's scale.
func (v *ValueNorm) Normalize(x float64) float64 {
	m, s2 := v.Stats()
	return (x - m) / math.Sqrt(s2)
}

// Denormalize maps a critic output back to return units.
func (v *ValueNorm) Denormalize(x float64) float64 {
	m, s2 := v.Stats()
	return x*math.Sqrt(s2) + m
}
