package envs

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// anytimeRun evaluates batches of configurations of a polySpace through a
// Counted on workers goroutines each and returns its Columns row after
// every batch, the Counted and the Tracker.
func anytimeRun(t *testing.T, batches [][][]int, workers int, thr float64, c *Counted, tr *Tracker) []map[string]float64 {
	t.Helper()
	var rows []map[string]float64
	for _, batch := range batches {
		var wg sync.WaitGroup
		next := make(chan []int)
		for range workers {
			wg.Go(func() {
				out := make([]float64, 2)
				for cfg := range next {
					if err := c.Evaluate(cfg, out); err != nil {
						t.Error(err)
					}
				}
			})
		}
		for _, cfg := range batch {
			next <- cfg
		}
		close(next)
		wg.Wait()
		row := map[string]float64{}
		tr.Columns(row)
		rows = append(rows, row)
	}
	return rows
}

func newAnytime(t *testing.T, p DesignSpace, thr float64) (*Counted, *Tracker) {
	t.Helper()
	obj, err := ObjectiveConfig{Kind: KindMinimize, Metrics: []string{"time_ns"}}.Bind(p.MetricNames())
	if err != nil {
		t.Fatal(err)
	}
	opt, err := FindOptimum(p, obj)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCounted(p)
	tr, err := NewTracker(c, obj, opt)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetThreshold(thr)
	return c, tr
}

// TestTrackerAnytime: the evaluation order gives each batch the places
// after the earlier batches' (a permutation of 1..n), does not depend on
// how many goroutines evaluated a batch or the order they finished in; the
// anytime columns (regret_at_B, evals_to_threshold, evals_to_optimum) are
// those of a scan of the designs in that order; a Counted restored from
// its records (places kept) continues with the same columns, and records
// without places (older checkpoints) still give a complete order.
func TestTrackerAnytime(t *testing.T) {
	// 60 designs; the five within 2% of the optimum (a = 0, b = 2) come in
	// the second and third batches, the optimum (c = 0) in the third.
	var cfgs, near [][]int
	for _, c := range allConfigs() {
		if c[0] == 0 && c[1] == 2 {
			near = append(near, c)
		} else {
			cfgs = append(cfgs, c)
		}
	}
	rng := rand.New(rand.NewPCG(5, 9))
	rng.Shuffle(len(cfgs), func(i, j int) { cfgs[i], cfgs[j] = cfgs[j], cfgs[i] })
	for i, at := range []int{50, 10, 15, 20, 45} {
		cfgs = slices.Insert(cfgs, at, near[i])
	}
	// Batches of 7, 25 and 28 designs, with repeats inside and across
	// batches (charged once).
	batches := [][][]int{cfgs[:7], append(slices.Clone(cfgs[7:32]), cfgs[3]), append(slices.Clone(cfgs[32:]), cfgs[10], cfgs[40])}
	const thr = 0.02

	c1, tr1 := newAnytime(t, &polySpace{}, thr)
	serial := anytimeRun(t, batches, 1, thr, c1, tr1)
	c8, tr8 := newAnytime(t, &polySpace{delay: 100e3}, thr)
	parallel := anytimeRun(t, batches, 8, thr, c8, tr8)
	for i := range serial {
		if !maps.Equal(serial[i], parallel[i]) {
			t.Fatalf("batch %d: 1 goroutine %v, 8 goroutines %v", i, serial[i], parallel[i])
		}
	}

	// The places: batch b holds exactly the places after the earlier
	// batches' new designs.
	recs := c1.Records()
	seqOf := map[string]int{}
	for _, r := range recs {
		seqOf[fmt.Sprint(r.Config)] = r.Seq
	}
	lo := 0
	seen := map[string]bool{}
	for b, batch := range batches {
		var places []int
		for _, cfg := range batch {
			if k := fmt.Sprint(cfg); !seen[k] {
				seen[k] = true
				places = append(places, seqOf[k])
			}
		}
		slices.Sort(places)
		for i, p := range places {
			if p != lo+i+1 {
				t.Fatalf("batch %d: places %v, want %d..%d", b, places, lo+1, lo+len(places))
			}
		}
		lo += len(places)
	}

	// The columns against a scan in place order.
	slices.SortFunc(recs, func(a, b CountedRecord) int { return a.Seq - b.Seq })
	obj, opt := tr1.Objective(), tr1.Optimum()
	best := math.Inf(1)
	want := map[string]float64{}
	for i, r := range recs {
		best = min(best, obj.Value(r.Metrics))
		reg := (best - opt.Value) / opt.Value
		for g := 0; BudgetGrid(g) <= len(recs); g++ {
			if BudgetGrid(g) == i+1 {
				want["regret_at_"+strconv.Itoa(BudgetGrid(g))] = reg
			}
		}
		if _, ok := want["evals_to_threshold"]; !ok && reg <= thr {
			want["evals_to_threshold"] = float64(i + 1)
		}
		if _, ok := want["evals_to_optimum"]; !ok && reg <= 0 {
			want["evals_to_optimum"] = float64(i + 1)
		}
	}
	last := serial[len(serial)-1]
	for k, v := range want {
		if last[k] != v {
			t.Errorf("%s = %v, want %v (scan in place order)", k, last[k], v)
		}
	}
	if _, ok := last["regret_at_100"]; ok {
		t.Errorf("regret_at_100 reported after 60 evaluations")
	}
	if th, op := want["evals_to_threshold"], want["evals_to_optimum"]; !(th > 7 && th <= 32 && op > 32) {
		t.Fatalf("the test's batches are not as meant: threshold at %v, optimum at %v", th, op)
	}

	// Restore after the second batch, then the third batch: the same rows.
	cA, trA := newAnytime(t, &polySpace{}, thr)
	anytimeRun(t, batches[:2], 1, thr, cA, trA)
	cB, trB := newAnytime(t, &polySpace{}, thr)
	if err := cB.Restore(cA.Records()); err != nil {
		t.Fatal(err)
	}
	resumed := anytimeRun(t, batches[2:], 3, thr, cB, trB)
	if !maps.Equal(resumed[0], last) {
		t.Fatalf("resumed %v, uninterrupted %v", resumed[0], last)
	}

	// Records without places: restored as one batch, still 1..n.
	old := cA.Records()
	for i := range old {
		old[i].Seq = 0
	}
	cO, trO := newAnytime(t, &polySpace{}, thr)
	if err := cO.Restore(old); err != nil {
		t.Fatal(err)
	}
	anytimeRun(t, batches[2:], 1, thr, cO, trO)
	var places []int
	for _, r := range cO.Records() {
		places = append(places, r.Seq)
	}
	slices.Sort(places)
	for i, p := range places {
		if p != i+1 {
			t.Fatalf("places after restoring records without them: %v", places)
		}
	}
	if err := NewCounted(&polySpace{}).Restore([]CountedRecord{{Config: []int{0, 0, 0}, Metrics: []float64{1, 2}, Seq: -1}}); err == nil {
		t.Fatal("a negative place was accepted")
	}
}

func TestBudgetGrid(t *testing.T) {
	var got []int
	for i := range 7 {
		got = append(got, BudgetGrid(i))
	}
	if want := []int{10, 30, 100, 300, 1000, 3000, 10000}; !slices.Equal(got, want) {
		t.Fatalf("BudgetGrid %v, want %v", got, want)
	}
}
