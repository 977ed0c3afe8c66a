package envs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
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

// tieSpace: three knobs of five values whose metric x takes few values (many
// ties), is NaN on some designs, y breaks the constraint on others, and
// whose evaluations fail once for designs listed in failOnce.
type tieSpace struct {
	mu       sync.Mutex
	failOnce map[int]bool
}

func (s *tieSpace) Name() string { return "ties" }
func (s *tieSpace) Knobs() []Knob {
	v := []string{"0", "1", "2", "3", "4"}
	return []Knob{{Name: "a", Values: v}, {Name: "b", Values: v}, {Name: "c", Values: v}}
}
func (s *tieSpace) MetricNames() []string { return []string{"x", "y"} }
func (s *tieSpace) Evaluate(cfg []int, out []float64) error {
	id := cfg[0]*25 + cfg[1]*5 + cfg[2]
	s.mu.Lock()
	fail := s.failOnce[id]
	delete(s.failOnce, id)
	s.mu.Unlock()
	if fail {
		return fmt.Errorf("design %d fails once", id)
	}
	out[0] = float64((cfg[0] + 2*cfg[1] + cfg[2]) % 4)
	if id%11 == 3 {
		out[0] = math.NaN()
	}
	out[1] = float64((cfg[0] * cfg[2]) % 7)
	return nil
}

// TestTrackerIncremental: Best reads only the evaluations finished since its
// last call, and still equals the scan over every record after each batch
// of concurrent evaluations (ties, NaN values, infeasible designs, failed
// evaluations and restored records included), for every objective kind.
func TestTrackerIncremental(t *testing.T) {
	names := []string{"x", "y"}
	minX, _ := ObjectiveConfig{Kind: KindMinimize, Metrics: []string{"x"}}.Bind(names)
	conY, _ := ObjectiveConfig{Kind: KindConstrained, Metrics: []string{"x"}, Constraints: []Constraint{{Metric: "y", Max: 2}}, Penalty: DefaultPenalty}.Bind(names)
	tgt, _ := ObjectiveConfig{Kind: KindTarget, Metrics: []string{"x"}, Targets: []float64{2}, Cap: DefaultTargetCap}.Bind(names)
	for _, obj := range []*Objective{minX, conY, tgt} {
		for seed := uint64(1); seed <= 4; seed++ {
			r := rand.New(rand.NewPCG(seed, 7))
			sp := &tieSpace{failOnce: map[int]bool{}}
			for i := 0; i < 20; i++ {
				sp.failOnce[r.IntN(125)] = true
			}
			c := NewCounted(sp)
			tr, err := NewTracker(c, obj, nil)
			if err != nil {
				t.Fatal(err)
			}
			for batch := 0; batch < 12; batch++ {
				if batch == 6 { // records from elsewhere (a checkpoint)
					var recs []CountedRecord
					for i := 0; i < 5; i++ {
						cfg := []int{r.IntN(5), r.IntN(5), r.IntN(5)}
						recs = append(recs, CountedRecord{Config: cfg, Metrics: []float64{float64(-i), 0}})
					}
					if err := c.Restore(recs); err != nil {
						t.Fatal(err)
					}
				}
				var wg sync.WaitGroup
				for w := 0; w < 4; w++ {
					cfgs := make([][]int, 6)
					for i := range cfgs {
						cfgs[i] = []int{r.IntN(5), r.IntN(5), r.IntN(5)}
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						out := make([]float64, 2)
						for _, cfg := range cfgs {
							_ = c.Evaluate(cfg, out) // failures are part of the test
						}
					}()
				}
				wg.Wait()
				got, ok := tr.Best()
				want, wok := tr.bestByScan()
				if ok != wok || !slices.Equal(got.Config, want.Config) || !sameFloats(got.Metrics, want.Metrics) ||
					!sameFloats([]float64{got.Value, got.Violation}, []float64{want.Value, want.Violation}) {
					t.Fatalf("%s seed %d batch %d: incremental best %+v, scan %+v", obj.Kind(), seed, batch, got, want)
				}
				if batch == 0 && !ok {
					t.Fatal("no best after a batch of evaluations")
				}
			}
			if tr.seen != len(c.done) || tr.seen != c.Unique() {
				t.Fatalf("tracker read %d finished evaluations, space has %d (unique %d)", tr.seen, len(c.done), c.Unique())
			}
		}
	}
}

// sameFloats compares bit patterns (NaN equals NaN).
func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// bestByScan is Best computed from every record (the definition; tests).
func (t *Tracker) bestByScan() (Best, bool) {
	recs := t.space.Records()
	bi := -1
	for i, r := range recs {
		if bi < 0 || t.Compare(r.Config, r.Metrics, recs[bi].Config, recs[bi].Metrics) < 0 {
			bi = i
		}
	}
	if bi < 0 {
		return Best{}, false
	}
	return t.best(recs[bi].Config, recs[bi].Metrics), true
}
