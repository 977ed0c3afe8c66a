package envs

import (
	"math"
	"slices"
	"testing"
)

// tableSpace is a one-knob space whose metric vector per value is given.
type tableSpace struct{ rows [][]float64 }

func (s tableSpace) Name() string { return "table" }
func (s tableSpace) Knobs() []Knob {
	vals := make([]string, len(s.rows))
	for i := range vals {
		vals[i] = string(rune('a' + i))
	}
	return []Knob{{Name: "k", Values: vals}}
}
func (s tableSpace) MetricNames() []string { return []string{"x", "y"} }
func (s tableSpace) Evaluate(cfg []int, out []float64) error {
	copy(out, s.rows[cfg[0]])
	return nil
}

// TestTracker: the best design is feasible first, then of the lowest value,
// ties to the smallest configuration, NaN last; regret is relative for
// minimisation and absolute for targets; FindOptimum agrees with Best over
// the whole space.
func TestTracker(t *testing.T) {
	minX, _ := ObjectiveConfig{Kind: KindMinimize, Metrics: []string{"x"}}.Bind([]string{"x", "y"})
	conY, _ := ObjectiveConfig{Kind: KindConstrained, Metrics: []string{"x"}, Constraints: []Constraint{{Metric: "y", Max: 10}}, Penalty: DefaultPenalty}.Bind([]string{"x", "y"})
	tgt, _ := ObjectiveConfig{Kind: KindTarget, Metrics: []string{"x"}, Targets: []float64{4}, Cap: DefaultTargetCap}.Bind([]string{"x", "y"})
	nan := math.NaN()
	for _, tc := range []struct {
		name    string
		obj     *Objective
		rows    [][]float64
		opt     float64
		best    int
		regret  float64
		violate float64
		ties    int // designs with the optimum's (violation, value)
	}{
		{"lowest value", minX, [][]float64{{5, 1}, {2, 1}, {3, 1}}, 1, 1, 1, 0, 1},
		{"tie to the smaller configuration", minX, [][]float64{{5, 1}, {2, 1}, {2, 1}}, 2, 1, 0, 0, 2},
		{"NaN never wins", minX, [][]float64{{nan, 1}, {7, 1}}, 7, 1, 0, 0, 1},
		{"feasible beats lower", conY, [][]float64{{1, 20}, {3, 5}, {2, 11}}, 3, 1, 0, 0, 1},
		{"feasible ties count, an infeasible equal value does not", conY, [][]float64{{3, 20}, {3, 5}, {3, 9}, {4, 1}}, 3, 1, 0, 0, 2},
		{"least violating when none is feasible", conY, [][]float64{{1, 30}, {3, 12}}, 3, 1, 0, 0.2, 1},
		{"target regret is absolute", tgt, [][]float64{{6, 0}, {5, 0}}, 0, 1, 0.25, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			space := tableSpace{tc.rows}
			c := NewCounted(space)
			tr, err := NewTracker(c, tc.obj, &Optimum{Value: tc.opt})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := tr.Best(); ok {
				t.Fatal("a best design before any evaluation")
			}
			out := make([]float64, 2)
			for v := len(tc.rows) - 1; v >= 0; v-- { // evaluation order must not matter
				if err := c.Evaluate([]int{v}, out); err != nil {
					t.Fatal(err)
				}
			}
			b, ok := tr.Best()
			if !ok || b.Config[0] != tc.best || math.Abs(b.Regret-tc.regret) > 1e-12 || math.Abs(b.Violation-tc.violate) > 1e-12 {
				t.Fatalf("best %+v, want design %d with regret %v, violation %v", b, tc.best, tc.regret, tc.violate)
			}
			row := map[string]float64{}
			tr.Columns(row)
			if row["unique_evals"] != float64(len(tc.rows)) || row["best_value"] != b.Value || row["regret"] != b.Regret || row["best_y"] != b.Metrics[1] {
				t.Fatalf("columns %v for best %+v", row, b)
			}
			if _, has := row["best_violation"]; has != (tc.obj.Kind() == KindConstrained) {
				t.Fatalf("best_violation present = %v for kind %s", has, tc.obj.Kind())
			}
			o, err := FindOptimum(space, tc.obj)
			if err != nil || o.Knobs["k"] != space.Knobs()[0].Values[tc.best] || !slices.Equal([]float64{o.Metrics["x"], o.Metrics["y"]}, b.Metrics) {
				t.Fatalf("FindOptimum %+v %v, want the tracker's best %+v", o, err, b)
			}
			if o.Ties != tc.ties {
				t.Fatalf("FindOptimum counts %d ties, want %d", o.Ties, tc.ties)
			}
		})
	}
	if _, err := NewTracker(NewCounted(tableSpace{[][]float64{{1, 1}}}), minX, &Optimum{Value: math.Inf(1)}); err == nil {
		t.Error("an infinite optimum accepted")
	}
}
