package comm

import (
	"math"
	"slices"
)

// The decision rule of a receiver row of the exact graph (see Decided).
//
// The exact graph keeps, in each receiver row, the k senders with the largest
// logits. Whether that choice was learned or is an accident shows in the gap
// between the k-th and the (k+1)-th largest off-diagonal logit. A row whose
// k-th and (k+1)-th senders differ by less than half a spread (DecidedMargin,
// in units of the population standard deviation of the row's off-diagonal
// logits), or by less than 0.05 logits in absolute terms (DecidedGap: far
// below the scale of the Gumbel(0,1) noise that the sampled graph adds, whose
// standard deviation is pi/sqrt(6) ~ 1.28), is decided by noise and ties, not
// by learning. Both conditions are needed: the relative one catches rows that
// are flat compared with their own spread, the absolute one catches rows
// whose spread itself is tiny (e.g. logits that moved 1e-3 from their start,
// where any ratio can look large).
const (
	DecidedMargin = 0.5
	DecidedGap    = 0.05
)

// Decided reports whether a row with the given margin (gap in units of the
// row's spread) and absolute gap (in logits) counts as decided by learning:
// margin >= DecidedMargin and gap >= DecidedGap.
func Decided(margin, gap float64) bool {
	return margin >= DecidedMargin && gap >= DecidedGap
}

// fullRows reports whether the rows of an n-agent graph keeping k other
// senders are "full": with k >= n-1 (every other agent heard) or k <= 0
// (nobody else heard) there is no (k+1)-th or no k-th candidate, so there is
// no choice to decide and every row is trivially decided. RowMargins and
// RowGaps return nil for full rows.
func fullRows(n, k int) bool { return k <= 0 || k >= n-1 }

// RowGaps returns, for each receiver row of the n x n row-major logits, the
// gap between the k-th and the (k+1)-th largest off-diagonal logit (>= 0).
// k counts the other agents a receiver hears (self-loops are always on and
// use no slot). It returns nil when the rows are full (fullRows(n, k)).
func RowGaps(logits []float64, n, k int) []float64 {
	g, _ := rowGapsSpreads(logits, n, k)
	return g
}

// RowMargins returns, for each receiver row of the n x n row-major logits,
// the gap between the k-th and the (k+1)-th largest off-diagonal logit
// divided by the row's spread, the population standard deviation of its n-1
// off-diagonal logits; a row with zero spread has margin 0 (all its
// candidates tie). It returns nil when the rows are full (fullRows(n, k)):
// such rows are trivially decided and have no finite margin.
func RowMargins(logits []float64, n, k int) []float64 {
	gaps, spreads := rowGapsSpreads(logits, n, k)
	if gaps == nil {
		return nil
	}
	m := make([]float64, n)
	for i := range m {
		if spreads[i] > 0 {
			m[i] = gaps[i] / spreads[i]
		}
	}
	return m
}

// rowGapsSpreads computes each row's k-th/(k+1)-th gap and off-diagonal
// population standard deviation; nil, nil for full rows or a bad shape.
func rowGapsSpreads(logits []float64, n, k int) (gaps, spreads []float64) {
	if n <= 0 || len(logits) != n*n || fullRows(n, k) {
		return nil, nil
	}
	gaps = make([]float64, n)
	spreads = make([]float64, n)
	off := make([]float64, 0, n-1)
	for i := 0; i < n; i++ {
		off = off[:0]
		mean := 0.0
		for j := 0; j < n; j++ {
			if j != i {
				off = append(off, logits[i*n+j])
				mean += logits[i*n+j]
			}
		}
		mean /= float64(len(off))
		ss := 0.0
		for _, v := range off {
			ss += (v - mean) * (v - mean)
		}
		spreads[i] = math.Sqrt(ss / float64(len(off)))
		slices.Sort(off) // ascending: the k-th largest is off[len-k]
		gaps[i] = off[len(off)-k] - off[len(off)-k-1]
	}
	return gaps, spreads
}
