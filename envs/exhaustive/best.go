package exhaustive

import (
	"math"

	"github.com/commgraph/commgraph/envs"
)

// Best returns the configuration of t with the smallest loss(row) (ties go
// to the lowest index), that loss, and how many configurations share it
// exactly. NaN losses never win; when every loss is NaN, Best returns -1.
func Best(t *Table, loss func(row []float64) float64) (idx int, best float64, ties int) {
	idx, best = -1, math.Inf(1)
	for i := range t.Len() {
		l := loss(t.Row(i))
		switch {
		case math.IsNaN(l):
		case l < best || idx < 0:
			idx, best, ties = i, l, 1
		case l == best:
			ties++
		}
	}
	return idx, best, ties
}

// BestFor returns the configuration minimising o.Value (the objective's
// figure of merit in physical units, lower is better) over t; o must be
// bound to t.Metrics (envs.ObjectiveConfig.Bind(t.Metrics)).
func BestFor(t *Table, o *envs.Objective) (idx int, value float64, ties int) {
	return Best(t, o.Value)
}
