package exhaustive

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTabledAnswersLikeTheSpace: a tabled space gives every configuration
// exactly the space's numbers, without evaluating, and refuses tables that
// are not of the space or are stale.
func TestTabledAnswersLikeTheSpace(t *testing.T) {
	ds := newToy(3, 2, 4)
	path := filepath.Join(t.TempDir(), "toy.sweep")
	mustRun(t, ds, path, Options{Jobs: 1})
	tab, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := Tabled(ds, tab, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if ts.Name() != ds.Name() || !slices.Equal(ts.MetricNames(), ds.MetricNames()) {
		t.Fatalf("tabled space is %q %v", ts.Name(), ts.MetricNames())
	}
	want, got := make([]float64, 3), make([]float64, 3)
	cfg := make([]int, 3)
	rows := make([][]float64, tab.Len())
	before := ds.calls.Load()
	for i := range tab.Len() {
		tab.Config(i, cfg)
		if err := ts.Evaluate(cfg, got); err != nil {
			t.Fatal(err)
		}
		rows[i] = slices.Clone(got)
	}
	if n := ds.calls.Load() - before; n != 0 {
		t.Fatalf("the tabled space evaluated %d times", n)
	}
	for i := range tab.Len() {
		tab.Config(i, cfg)
		if err := ds.Evaluate(cfg, want); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[i], want) {
			t.Fatalf("config %v: table %v, space %v", cfg, rows[i], want)
		}
	}
	if err := ts.Evaluate([]int{3, 0, 0}, got); err == nil {
		t.Fatal("out-of-range value accepted")
	}

	other := newToy(3, 2, 4)
	other.name = "other"
	if _, err := Tabled(other, tab, 0, nil); err == nil || !strings.Contains(err.Error(), `"toy"`) {
		t.Fatalf("a table of another space: %v", err)
	}
	if _, err := Tabled(newToy(3, 2, 5), tab, 0, nil); err == nil || !strings.Contains(err.Error(), "knob 2") {
		t.Fatalf("a table with other knob values: %v", err)
	}
	stale, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stale.Data {
		stale.Data[i] *= 1 + 1e-12
	}
	if _, err := Tabled(ds, stale, 1, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("a stale table: %v", err)
	}
}
