package synthetic

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestPlantedGraph: every knob is in 1 to 3 pairs, strengths are in [1, 2],
// the same seed gives the same landscape and another seed another one.
func TestPlantedGraph(t *testing.T) {
	for _, n := range []int{2, 5, 10, 20, 40} {
		for seed := uint64(1); seed <= 5; seed++ {
			c, err := Planted(n, 4, seed)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(c); err != nil {
				t.Fatalf("N=%d seed %d: %v", n, seed, err)
			}
			deg := make([]int, n)
			for _, p := range c.Pairs {
				deg[p.A]++
				deg[p.B]++
				if p.S < 1 || p.S > 2 {
					t.Fatalf("N=%d seed %d: strength %v outside [1, 2]", n, seed, p.S)
				}
			}
			for i, d := range deg {
				if d < 1 || d > 3 {
					t.Fatalf("N=%d seed %d: knob %d in %d pairs", n, seed, i, d)
				}
			}
			again, _ := Planted(n, 4, seed)
			if len(again.Pairs) != len(c.Pairs) || again.Pairs[0] != c.Pairs[0] {
				t.Fatalf("N=%d seed %d: not reproducible", n, seed)
			}
		}
	}
	a, _ := Planted(20, 4, 1)
	b, _ := Planted(20, 4, 2)
	same := len(a.Pairs) == len(b.Pairs)
	for i := 0; same && i < len(a.Pairs); i++ {
		same = a.Pairs[i].A == b.Pairs[i].A && a.Pairs[i].B == b.Pairs[i].B
	}
	if same {
		t.Fatal("seeds 1 and 2 plant the same graph")
	}
	if _, err := Planted(1, 4, 1); err == nil {
		t.Fatal("1 knob accepted")
	}
}

// TestBestGivenExact: the variable-elimination optimum equals brute force on
// small planted spaces, for random pinned subsets (none, some, all).
func TestBestGivenExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 30; trial++ {
		n, v := 3+rng.IntN(5), 2+rng.IntN(3)
		c, err := Planted(n, v, uint64(trial))
		if err != nil {
			t.Fatal(err)
		}
		s := MustNew(c)
		pinned := make([]int, n)
		for i := range pinned {
			pinned[i] = -1
			if rng.IntN(3) == 0 || trial%10 == 9 {
				pinned[i] = rng.IntN(v)
			}
		}
		design, y, err := s.BestGiven(pinned)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pinned {
			if p >= 0 && design[i] != p {
				t.Fatalf("trial %d: pinned knob %d changed", trial, i)
			}
		}
		if got := s.F(design); math.Abs(got-y) > 1e-9 {
			t.Fatalf("trial %d: f(design) = %v, reported %v", trial, got, y)
		}
		// brute force over the free knobs
		best := math.Inf(1)
		cfg := make([]int, n)
		var rec func(i int)
		rec = func(i int) {
			if i == n {
				best = min(best, s.F(cfg))
				return
			}
			if pinned[i] >= 0 {
				cfg[i] = pinned[i]
				rec(i + 1)
				return
			}
			for x := 0; x < v; x++ {
				cfg[i] = x
				rec(i + 1)
			}
		}
		rec(0)
		if math.Abs(best-y) > 1e-9 {
			t.Fatalf("trial %d (N=%d V=%d pinned %v): optimum %v, brute force %v", trial, n, v, pinned, y, best)
		}
	}
}

// TestBestGivenLarge: the N = 40 planted spaces solve exactly (no table
// blow-up) with nothing pinned and with half pinned.
func TestBestGivenLarge(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		c, _ := Planted(40, 4, seed)
		s := MustNew(c)
		pinned := make([]int, 40)
		for i := range pinned {
			pinned[i] = -1
		}
		_, all, err := s.BestGiven(pinned)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 40; i += 2 {
			pinned[i] = i % 4
		}
		_, half, err := s.BestGiven(pinned)
		if err != nil {
			t.Fatal(err)
		}
		if half < all-1e-9 {
			t.Fatalf("seed %d: pinning improved the optimum (%v < %v)", seed, half, all)
		}
	}
}

// TestDRAMLikeEnvConfig: graph = "dramlike" builds the DRAM-shaped space
// with its three pairs from space_seed, and asks for knobs = 10.
func TestDRAMLikeEnvConfig(t *testing.T) {
	c := DefaultEnvConfig()
	c.Graph = "dramlike"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "knobs = 8:") {
		t.Fatalf("knobs = 8 with graph = dramlike: got %v, want an error on knobs", err)
	}
	c.Knobs, c.SpaceSeed = 10, 7
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	sc := c.Space()
	want := DRAMLike(7)
	if !reflect.DeepEqual(sc, want) {
		t.Fatalf("Space() = %+v, want %+v", sc, want)
	}
	sp := MustNew(sc)
	if len(sp.Knobs()) != 10 || len(sp.Pairs()) != 3 || sp.Knobs()[3].Values == nil || len(sp.Knobs()[3].Values) != 8 {
		t.Fatalf("dramlike space: %d knobs, %d pairs, knob 3 has %d values", len(sp.Knobs()), len(sp.Pairs()), len(sp.Knobs()[3].Values))
	}
}
