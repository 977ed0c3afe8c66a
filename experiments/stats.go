package experiments

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
)

// Statistics for reports, following Agarwal et al., "Deep Reinforcement
// Learning at the Edge of the Statistical Precipice" (NeurIPS 2021): the
// interquartile mean (IQM) as the point estimate over runs, and percentile
// confidence intervals from a stratified bootstrap (runs are resampled with
// replacement within each task, the strata).

// DefaultResamples is the number of bootstrap resamples reports use. With
// 2,000 resamples the Monte-Carlo error of a 95% percentile bound is about
// sqrt(0.025*0.975/2000) = 0.35 percentile points, well below the spread
// that five to ten seeds leave.
const DefaultResamples = 2000

// DefaultBootstrapSeed seeds report bootstraps unless told otherwise.
const DefaultBootstrapSeed = 20211206

// iqm returns the interquartile mean of x: the mean after discarding the
// floor(n/4) smallest and the floor(n/4) largest values (the trimmed mean
// with proportion 0.25 that rliable uses). NaN for an empty slice.
func iqm(x []float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	cut := n / 4
	s = s[cut : n-cut]
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return sum / float64(len(s))
}

// IQM is iqm for tools outside the package (docs/tools/lottery), so that
// they compute the reports' point estimate the reports' way.
func IQM(x []float64) float64 { return iqm(x) }

// IQMInterval is the reports' percentile bootstrap interval (level conf)
// of the IQM of one task's runs over reps resamples, for the same tools.
func IQMInterval(x []float64, reps int, conf float64, rng *rand.Rand) (lo, hi float64) {
	return stratifiedBootstrapCI([][]float64{x}, iqm, reps, conf, rng)
}

// meanOf returns the arithmetic mean (NaN for an empty slice).
func meanOf(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// quantile returns the q-quantile of sorted values by linear interpolation
// between order statistics (the default method of numpy.percentile).
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := q * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	f := h - float64(lo)
	if f == 0 || sorted[lo] == sorted[lo+1] {
		return sorted[lo] // also keeps +Inf (a censored count) from becoming NaN
	}
	return sorted[lo] + f*(sorted[lo+1]-sorted[lo])
}

// stratifiedBootstrapCI returns the percentile confidence interval (level
// conf, e.g. 0.95) of stat over reps resamples: every resample draws, within
// each stratum independently, as many runs as it has, with replacement, and
// applies stat to the union of the draws.
func stratifiedBootstrapCI(strata [][]float64, stat func([]float64) float64, reps int, conf float64, rng *rand.Rand) (lo, hi float64) {
	total := 0
	for _, s := range strata {
		total += len(s)
	}
	if total == 0 || reps < 1 {
		return math.NaN(), math.NaN()
	}
	buf := make([]float64, total)
	stats := make([]float64, reps)
	for r := range reps {
		k := 0
		for _, s := range strata {
			for range s {
				buf[k] = s[rng.IntN(len(s))]
				k++
			}
		}
		stats[r] = stat(buf)
	}
	slices.Sort(stats)
	a := (1 - conf) / 2
	return quantile(stats, a), quantile(stats, 1-a)
}

// bootstrapRNG returns the random source of one bootstrap, derived from the
// report seed and a label (e.g. "variant|task|metric"), so every cell's
// interval is reproducible and independent of the order cells are computed.
func bootstrapRNG(seed uint64, label string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(label))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
