package multichan

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Objectives lists the objectives whose exact system optimum Solve
// computes: latency, energy, power, edp (minimisation) and archgym_latency,
// archgym_power (ArchGym's target form on the system's makespan or power).
func Objectives() []string {
	return []string{"latency", "energy", "power", "edp", "archgym_latency", "archgym_power"}
}

// maxSums bounds the sums one half of the meet-in-the-middle search of
// archgym_power enumerates (see Solve).
const maxSums = 1 << 21

// Solution is the exact optimum of a system: one point per channel and the
// system's metrics.
type Solution struct {
	Points   []Point // per channel
	TimeNS   float64 // max over channels
	EnergyPJ float64 // sum over channels, in channel order
	PowerMW  float64 // EnergyPJ / TimeNS
	// Exact is false when archgym_power was too large to search
	// exhaustively: the solution is then the best of a thinned search, an
	// upper bound on the optimum's distance (which is >= 0), found below
	// 1e-10 of the target when Solve stopped early.
	Exact bool
}

// Metrics returns time_ns, energy_pJ, power_mW.
func (s *Solution) Metrics() []float64 { return []float64{s.TimeNS, s.EnergyPJ, s.PowerMW} }

func newSolution(pts []Point) *Solution {
	s := &Solution{Points: slices.Clone(pts)}
	for _, p := range pts {
		s.TimeNS = max(s.TimeNS, p.TimeNS)
		s.EnergyPJ += p.EnergyPJ
	}
	s.PowerMW = s.EnergyPJ / s.TimeNS
	return s
}

// channel indexes one channel's points (time ascending) for the queries of
// Solve: the least and the most energy among the designs no slower than a
// time.
type channel struct {
	pts    []Point // time ascending (then energy)
	minArg []int   // minArg[i]: the least-energy point among pts[:i+1]
	maxArg []int   // maxArg[i]: the most-energy point among pts[:i+1]
}

func newChannel(pts []Point) (*channel, error) {
	if len(pts) == 0 {
		return nil, fmt.Errorf("a channel without points")
	}
	c := &channel{pts: slices.Clone(pts)}
	slices.SortStableFunc(c.pts, func(a, b Point) int { return cmp.Compare(a.TimeNS, b.TimeNS) })
	for i, p := range c.pts {
		lo, hi := i, i
		if i > 0 {
			lo, hi = c.minArg[i-1], c.maxArg[i-1]
			if p.EnergyPJ < c.pts[lo].EnergyPJ {
				lo = i
			}
			if p.EnergyPJ > c.pts[hi].EnergyPJ {
				hi = i
			}
		}
		c.minArg = append(c.minArg, lo)
		c.maxArg = append(c.maxArg, hi)
	}
	return c, nil
}

// upTo returns the number of points with time <= t.
func (c *channel) upTo(t float64) int {
	return sort.Search(len(c.pts), func(i int) bool { return c.pts[i].TimeNS > t })
}

// Solve returns the exact optimum of the system whose channel c reaches the
// (time, energy) pairs chans[c] (a Summary's points: every pair its
// controller can reach), for the named objective; targetTimeNS and
// targetPowerMW are the targets of archgym_latency and archgym_power.
//
// The system's makespan is the slowest channel's, its energy the sum, so:
//
//   - latency: each channel at its fastest design; the optimum is the
//     largest of the channels' minimum makespans, tau0.
//   - energy: each channel at its least-energy design.
//   - edp: for a bound tau on the makespan, the least system energy is
//     E(tau) = sum_c min{e : (t, e) of c, t <= tau}; every design is no
//     better than tau*E(tau) at its own makespan tau, and the channels'
//     choices for E(tau) reach at most tau, so the optimum is the minimum
//     of (makespan of those choices)*E(tau) over the candidate makespans
//     tau >= tau0 (every channel's times).
//   - power = energy/makespan: the slowest channel c* at (t*, e*), every
//     other channel at its least energy no slower than t*; the minimum
//     over c* and its points with t* >= tau0.
//   - archgym_latency (|makespan - T|/T): the reachable makespans are the
//     channels' times >= tau0 (the other channels at their fastest).
//   - archgym_power (|power - P|/P): for each slowest channel c* at
//     (t*, e*), the other channels' energies among their designs no slower
//     than t* must sum closest to P*t* - e*; a meet-in-the-middle search
//     (the other channels split in two halves, the sums of each half
//     sorted, one merge) finds it exactly. A target outside the system's
//     power range is met by its least or most powerful design, exactly.
//     Inside the range, when a half has more than exactWork sums (the
//     shipped traces have 181 to about 1,400 distinct energies each, so
//     any system of three or more), each channel's energies are thinned
//     evenly to a few dozen and the search stops at a distance of 1e-10 of
//     the target: the solution is then an upper bound on a distance that
//     is >= 0 (Solution.Exact is false).
//
// Ties go to the first candidate in channel, then time order. Value the
// solution with the objective bound to the system's metrics for the
// figure of merit.
func Solve(chans [][]Point, objective string, targetTimeNS, targetPowerMW float64) (*Solution, error) {
	if len(chans) == 0 {
		return nil, fmt.Errorf("solve: no channels")
	}
	cs := make([]*channel, len(chans))
	tau0 := 0.0
	for i, pts := range chans {
		c, err := newChannel(pts)
		if err != nil {
			return nil, fmt.Errorf("solve: channel %d: %w", i, err)
		}
		cs[i] = c
		tau0 = max(tau0, c.pts[0].TimeNS)
	}
	pick := make([]Point, len(cs))
	// leastUpTo fills pick with every channel's least-energy design no
	// slower than tau (all exist when tau >= tau0).
	leastUpTo := func(tau float64) {
		for i, c := range cs {
			pick[i] = c.pts[c.minArg[c.upTo(tau)-1]]
		}
	}
	var best *Solution
	bestV := math.Inf(1)
	consider := func(v float64) float64 {
		if v < bestV {
			bestV = v
			best = newSolution(pick)
		}
		return bestV
	}
	exact := true
	switch objective {
	case "latency":
		for i, c := range cs {
			pick[i] = c.pts[0]
		}
		consider(0)
	case "energy":
		for i, c := range cs {
			pick[i] = c.pts[c.minArg[len(c.pts)-1]]
		}
		consider(0)
	case "edp":
		for _, c := range cs {
			for _, p := range c.pts {
				if p.TimeNS < tau0 {
					continue
				}
				leastUpTo(p.TimeNS)
				s := newSolution(pick)
				consider(s.TimeNS * s.EnergyPJ)
			}
		}
	case "power", "archgym_latency":
		for ci, c := range cs {
			for _, p := range c.pts {
				if p.TimeNS < tau0 {
					continue
				}
				if objective == "power" {
					leastUpTo(p.TimeNS)
				} else {
					for i, o := range cs {
						pick[i] = o.pts[0]
					}
				}
				pick[ci] = p
				s := newSolution(pick)
				if objective == "power" {
					consider(s.PowerMW)
				} else {
					consider(math.Abs(s.TimeNS - targetTimeNS))
				}
			}
		}
	case "archgym_power":
		var err error
		if exact, err = solveTargetPower(cs, tau0, targetPowerMW, pick, consider); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("solve: no exact optimum for objective %q (have %v)", objective, Objectives())
	}
	if best == nil {
		return nil, fmt.Errorf("solve: %s: no candidate", objective)
	}
	best.Exact = exact
	return best, nil
}

// half enumerates the distinct energy sums of a group of channels, each
// channel choosing among its designs with time <= tau (one point per
// distinct energy): sums sorted ascending, with the choice of each sum as
// one option index per channel in choice[k*len(opts):].
type half struct {
	opts   [][]Point // per channel of the group, its options
	e      []float64 // sums, ascending
	choice []int32   // len(opts) option indices per sum
}

func newHalf(cs []*channel, tau float64, limit int) (*half, error) {
	h := &half{}
	n := 1
	for _, c := range cs {
		opts := distinctEnergies(c.pts[:c.upTo(tau)])
		if len(opts) > limit {
			slices.SortStableFunc(opts, func(a, b Point) int { return cmp.Compare(a.EnergyPJ, b.EnergyPJ) })
			thin := make([]Point, limit)
			for i := range thin {
				thin[i] = opts[i*(len(opts)-1)/(limit-1)]
			}
			opts = thin
		}
		h.opts = append(h.opts, opts)
		n *= len(opts)
		if n > maxSums {
			return nil, fmt.Errorf("solve archgym_power: more than %d energy sums in one half of the channels; the exact search covers systems of about 6 channels of the shipped traces", maxSums)
		}
	}
	k := len(cs)
	type entry struct {
		e  float64
		id int
	}
	es := make([]entry, n)
	for id := range es {
		r, s := id, 0.0
		for g := k - 1; g >= 0; g-- {
			m := len(h.opts[g])
			s += h.opts[g][r%m].EnergyPJ
			r /= m
		}
		es[id] = entry{s, id}
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Or(cmp.Compare(a.e, b.e), cmp.Compare(a.id, b.id)) })
	h.e = make([]float64, n)
	h.choice = make([]int32, n*k)
	for i, en := range es {
		h.e[i] = en.e
		r := en.id
		for g := k - 1; g >= 0; g-- {
			m := len(h.opts[g])
			h.choice[i*k+g] = int32(r % m)
			r /= m
		}
	}
	return h, nil
}

// fill writes the points of sum i into pick at the channel positions at.
func (h *half) fill(i int, pick []Point, at []int) {
	k := len(h.opts)
	for g := range k {
		pick[at[g]] = h.opts[g][h.choice[i*k+g]]
	}
}

// exactWork bounds the sums per half for which archgym_power is searched
// exactly over every slowest-channel point; larger systems get the
// near-exact search (see Solve).
const exactWork = 1 << 14

// powerRange returns the least and the most system power (exact: for the
// most, the slowest channel c* at (t*, e*) and every other channel at its
// most energy no slower than t*; pick is scratch).
func powerRange(cs []*channel, tau0 float64, pick []Point) (lo, hi *Solution) {
	loV, hiV := math.Inf(1), math.Inf(-1)
	for ci, c := range cs {
		for _, p := range c.pts {
			if p.TimeNS < tau0 {
				continue
			}
			for _, most := range []bool{false, true} {
				for i, o := range cs {
					n := o.upTo(p.TimeNS)
					if most {
						pick[i] = o.pts[o.maxArg[n-1]]
					} else {
						pick[i] = o.pts[o.minArg[n-1]]
					}
				}
				pick[ci] = p
				s := newSolution(pick)
				if !most && s.PowerMW < loV {
					loV, lo = s.PowerMW, s
				}
				if most && s.PowerMW > hiV {
					hiV, hi = s.PowerMW, s
				}
			}
		}
	}
	return lo, hi
}

// solveTargetPower searches, for each slowest channel c* and its point
// (t*, e*), the other channels' energies whose sum is closest to
// P*t* - e*. It returns whether the search was exhaustive.
func solveTargetPower(cs []*channel, tau0, target float64, pick []Point, consider func(float64) float64) (bool, error) {
	lo, hi := powerRange(cs, tau0, pick)
	switch {
	case target <= lo.PowerMW:
		copy(pick, lo.Points)
		consider(math.Abs(lo.PowerMW - target))
		return true, nil
	case target >= hi.PowerMW:
		copy(pick, hi.Points)
		consider(math.Abs(hi.PowerMW - target))
		return true, nil
	}
	// Exact when each half's sums are few, else each channel's options
	// are thinned to at most limit energies (evenly spread in energy
	// order) and the search stops at a relative distance of 1e-10.
	halfSize := func(chs []*channel) float64 {
		n := 1.0
		for _, c := range chs {
			n *= float64(len(distinctEnergies(c.pts)))
		}
		return n
	}
	exact := true
	for ci := range cs {
		var rest []*channel
		for i, o := range cs {
			if i != ci {
				rest = append(rest, o)
			}
		}
		h := len(rest) / 2
		exact = exact && halfSize(rest[:h]) <= exactWork && halfSize(rest[h:]) <= exactWork
	}
	limit := math.MaxInt
	if !exact {
		limit = max(2, int(math.Pow(exactWork, 1/math.Ceil(float64(len(cs)-1)/2))))
	}
	for ci, c := range cs {
		var lo, hi []*channel
		var atLo, atHi []int
		for i, o := range cs {
			switch {
			case i == ci:
			case len(atLo) < (len(cs)-1)/2:
				lo, atLo = append(lo, o), append(atLo, i)
			default:
				hi, atHi = append(hi, o), append(atHi, i)
			}
		}
		for _, p := range c.pts {
			if p.TimeNS < tau0 {
				continue
			}
			want := target*p.TimeNS - p.EnergyPJ
			// Outside the other channels' reachable energy sums, the
			// closest is all at their least (or most) energy.
			var sumLo, sumHi float64
			for i, o := range cs {
				if i != ci {
					n := o.upTo(p.TimeNS)
					sumLo += o.pts[o.minArg[n-1]].EnergyPJ
					sumHi += o.pts[o.maxArg[n-1]].EnergyPJ
				}
			}
			if want <= sumLo || want >= sumHi {
				for i, o := range cs {
					n := o.upTo(p.TimeNS)
					if want <= sumLo {
						pick[i] = o.pts[o.minArg[n-1]]
					} else {
						pick[i] = o.pts[o.maxArg[n-1]]
					}
				}
				pick[ci] = p
				consider(math.Abs(newSolution(pick).PowerMW - target))
				continue
			}
			a, err := newHalf(lo, p.TimeNS, limit)
			if err != nil {
				return false, err
			}
			b, err := newHalf(hi, p.TimeNS, limit)
			if err != nil {
				return false, err
			}
			// a ascending; j(i), the last b with a+b <= want, falls as a
			// rises: the closest sum for a[i] is b[j] or b[j+1].
			j := len(b.e) - 1
			for i := range a.e {
				for j >= 0 && a.e[i]+b.e[j] > want {
					j--
				}
				for _, jj := range [2]int{j, j + 1} {
					if jj < 0 || jj >= len(b.e) {
						continue
					}
					a.fill(i, pick, atLo)
					b.fill(jj, pick, atHi)
					pick[ci] = p
					s := newSolution(pick)
					best := consider(math.Abs(s.PowerMW - target))
					if best == 0 {
						return true, nil // the target itself: no distance is smaller
					}
					if !exact && best <= 1e-10*target {
						return false, nil
					}
				}
			}
		}
	}
	return exact, nil
}

// distinctEnergies returns one point per distinct energy, in first-seen
// order.
func distinctEnergies(pts []Point) []Point {
	var out []Point
	seen := map[float64]bool{}
	for _, p := range pts {
		if !seen[p.EnergyPJ] {
			seen[p.EnergyPJ] = true
			out = append(out, p)
		}
	}
	return out
}
