package multichan

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteForce returns the best objective value over every combination of
// one point per channel.
func bruteForce(chans [][]Point, value func(*Solution) float64) float64 {
	best := math.Inf(1)
	pick := make([]Point, len(chans))
	var rec func(c int)
	rec = func(c int) {
		if c == len(chans) {
			best = min(best, value(newSolution(pick)))
			return
		}
		for _, p := range chans[c] {
			pick[c] = p
			rec(c + 1)
		}
	}
	rec(0)
	return best
}

// valueOf is each objective's figure of merit, written out independently
// of Solve.
func valueOf(objective string, tt, tp float64) func(*Solution) float64 {
	return func(s *Solution) float64 {
		switch objective {
		case "latency":
			return s.TimeNS
		case "energy":
			return s.EnergyPJ
		case "power":
			return s.PowerMW
		case "edp":
			return s.TimeNS * s.EnergyPJ
		case "archgym_latency":
			return math.Abs(s.TimeNS-tt) / tt
		case "archgym_power":
			return math.Abs(s.PowerMW-tp) / tp
		}
		panic(objective)
	}
}

// randomChannels draws C channels of n points on a coarse grid, so that
// times and energies tie across and within channels (as the simulator's
// quantised metrics do).
func randomChannels(r *rand.Rand, C, n int) [][]Point {
	out := make([][]Point, C)
	for c := range out {
		var pts []Point
		for i := range n {
			pts = append(pts, Point{Index: i, TimeNS: float64(10 + r.IntN(20)), EnergyPJ: float64(5 + r.IntN(30))})
		}
		out[c] = distinct(pts)
	}
	return out
}

// TestSolveMatchesBruteForce checks every objective's exact optimum against
// enumeration of all systems, on random channel sets of 1 to 4 channels.
func TestSolveMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	for trial := range 60 {
		C := 1 + trial%4
		chans := randomChannels(r, C, 2+r.IntN(7))
		tt := float64(8 + r.IntN(30))
		tp := 0.5 + 3*r.Float64()
		for _, obj := range Objectives() {
			v := valueOf(obj, tt, tp)
			sol, err := Solve(chans, obj, tt, tp)
			if err != nil {
				t.Fatalf("trial %d %s: %v", trial, obj, err)
			}
			// The solution is a real system: each point one of its channel's.
			for c, p := range sol.Points {
				found := false
				for _, q := range chans[c] {
					found = found || q == p
				}
				if !found {
					t.Fatalf("trial %d %s: channel %d point %+v is not one of the channel's", trial, obj, c, p)
				}
			}
			got, want := v(sol), bruteForce(chans, v)
			if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Errorf("trial %d (C=%d) %s: Solve %v, brute force %v", trial, C, obj, got, want)
			}
		}
	}
}

func TestSolveErrors(t *testing.T) {
	if _, err := Solve(nil, "latency", 1, 1); err == nil {
		t.Error("no channels: no error")
	}
	if _, err := Solve([][]Point{{{Index: 0, TimeNS: 1, EnergyPJ: 1}}}, "archgym_both", 1, 1); err == nil {
		t.Error("unsupported objective: no error")
	}
	if _, err := Solve([][]Point{{}}, "latency", 1, 1); err == nil {
		t.Error("empty channel: no error")
	}
}
