package comm_test

import (
	"fmt"

	"github.com/commgraph/commgraph/comm"
)

// Comparing a graph with a ground truth: agents 0-1 and 2-3 interact. Each
// receiver hears k = 1 other agent. Receivers 0-2 clearly prefer their
// partner; receiver 3 prefers agent 0 (0.5) by 0.1 over its partner (0.4):
// one directed miss (AUROC 31/32: the partner outranks 7 of the 8 false
// items), while the symmetrised pair {2,3} is still found through 2 -> 3;
// and row 3's choice is within noise (undecided).
func ExampleCompare() {
	truth := [][]float64{
		{0, 1, 0, 0},
		{1, 0, 0, 0},
		{0, 0, 0, 1},
		{0, 0, 1, 0},
	}
	scores := [][]float64{
		{0, 2, 0, 0},
		{2, 0, 0, 0},
		{0, 0, 0, 2},
		{0.5, 0, 0.4, 0},
	}
	adjacency := [][]int{ // rows = receivers; the diagonal is always heard
		{1, 1, 0, 0},
		{1, 1, 0, 0},
		{0, 0, 1, 1},
		{1, 0, 0, 1},
	}
	c, err := comm.Compare(scores, adjacency, truth)
	if err != nil {
		panic(err)
	}
	fmt.Printf("directed:    precision@|E| %.2f recall %.2f AUROC %.3f hit rate %.2f\n",
		c.Directed.PrecisionAtE, c.Directed.Recall, c.Directed.AUROC, c.Directed.HitRate)
	fmt.Printf("symmetrised: precision@|E| %.2f recall %.2f AUROC %.3f\n",
		c.Symmetrised.PrecisionAtE, c.Symmetrised.Recall, c.Symmetrised.AUROC)

	// The margin that decides each row: gap between the 1st and 2nd
	// largest off-diagonal logit over the row's spread.
	flat := []float64{}
	for _, r := range scores {
		flat = append(flat, r...)
	}
	m, g := comm.RowMargins(flat, 4, 1), comm.RowGaps(flat, 4, 1)
	for i := range m {
		fmt.Printf("row %d: margin %.2f gap %.2f decided %v\n", i, m[i], g[i], comm.Decided(m[i], g[i]))
	}
	// Output:
	// directed:    precision@|E| 0.75 recall 0.75 AUROC 0.969 hit rate 0.75
	// symmetrised: precision@|E| 1.00 recall 1.00 AUROC 1.000
	// row 0: margin 2.12 gap 2.00 decided true
	// row 1: margin 2.12 gap 2.00 decided true
	// row 2: margin 2.12 gap 2.00 decided true
	// row 3: margin 0.46 gap 0.10 decided false
}
