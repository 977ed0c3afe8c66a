package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDraw: the reference within the threshold is evaluation 1; otherwise
// 1 + a geometric number of uniform draws (mean 1 + 1/p); p = 0 is never
// (3,001), and long waits are capped there.
func TestDraw(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if d := draw(0.5, true, rng); d != 1 {
		t.Errorf("reference within: %v, want 1", d)
	}
	if d := draw(0, false, rng); d != 3001 {
		t.Errorf("p = 0: %v, want 3001", d)
	}
	if d := draw(1, false, rng); d != 2 {
		t.Errorf("p = 1: %v, want 2 (the first draw after the reference)", d)
	}
	const n = 200000
	sum, ones := 0.0, 0
	for range n {
		d := draw(0.25, false, rng)
		sum += d
		if d == 2 {
			ones++
		}
	}
	if m := sum / n; math.Abs(m-5) > 0.05 {
		t.Errorf("mean evaluations at p = 0.25: %v, want 5 (1 + 1/p)", m)
	}
	if f := float64(ones) / n; math.Abs(f-0.25) > 0.005 {
		t.Errorf("P(first draw within) = %v, want 0.25", f)
	}
	if d := draw(1e-9, false, rng); d != 3001 {
		t.Errorf("a tiny p: %v, want the 3,001 cap", d)
	}
}

// TestWilson: the interval holds the estimate, stays in [0, 1] and matches
// a textbook value (k = 10 of n = 100: [0.0552, 0.1744]).
func TestWilson(t *testing.T) {
	lo, hi := wilson(10, 100)
	if math.Abs(lo-0.0552) > 5e-4 || math.Abs(hi-0.1744) > 5e-4 {
		t.Errorf("wilson(10, 100) = [%v, %v], want [0.0552, 0.1744]", lo, hi)
	}
	if lo, hi := wilson(0, 50); lo != 0 || hi <= 0 || hi > 0.1 {
		t.Errorf("wilson(0, 50) = [%v, %v]", lo, hi)
	}
}

// TestInside: a method drawn like the others is at or inside the best one's
// interval most of the time but not always (the best of 8 is a selection);
// a method that always hits at its first draw is always inside.
func TestInside(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	if f := inside(0.3, false, 10, 8, rng); f < 0.5 || f > 0.95 {
		t.Errorf("equal methods: inside %v of studies, want between 0.5 and 0.95", f)
	}
	if f := inside(0.3, true, 10, 8, rng); f != 1 {
		t.Errorf("reference within: inside %v, want 1 (every run ties at 1)", f)
	}
}
