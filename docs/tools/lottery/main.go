// Command lottery measures how easy each task of the method-vs-baseline
// study (the four-channel system and the one-channel DDR3 spaces) is for a
// sampler that draws designs uniformly: the fraction p of the designs within
// the study's regret threshold,
// estimated from a seeded uniform sample, and what that fraction implies for
// the study's measure (evaluations to <= 1% regret, IQM over 10 seeds) when
// a method's first evaluations are uniform draws, as every method's first
// iteration is. It answers whether a task can separate methods at all: where
// p is large, the IQM of 10 runs is a lottery whose spread covers the
// differences between methods (docs/results.md, session 22).
//
//	go run ./docs/tools/lottery -samples 20000 -seed 1
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/multichan"
	"github.com/commgraph/commgraph/experiments"
)

func main() {
	samples := flag.Int("samples", 20000, "uniform designs drawn per trace")
	seed := flag.Uint64("seed", 1, "seed of the draws")
	seeds := flag.Int("runs", 10, "runs per method and task (the study's seeds)")
	methods := flag.Int("methods", 8, "methods compared with the best of them (the study's baselines)")
	thr := flag.Float64("threshold", 0.01, "regret threshold (the study's eval.threshold)")
	flag.Parse()
	if *samples < 1 || *seeds < 4 || *methods < 1 || !(*thr >= 0) {
		fmt.Fprintln(os.Stderr, "lottery: -samples >= 1, -runs >= 4, -methods >= 1, -threshold >= 0")
		os.Exit(2)
	}
	fmt.Printf("| task | p (within %g%%) [95%% CI] | reference within? | uniform sampler: IQM of %d runs, median [2.5%%, 97.5%%] | best of %d such methods: median IQM [2.5%%, 97.5%%] | P(one more such method's IQM <= the best one's upper 95%% CI bound) |\n",
		*thr*100, *seeds, *methods)
	fmt.Println("|---|---|---|---|---|---|")
	systems := [][]string{multichan.DefaultTraces()} // the four-channel system first, as the study
	for _, t := range multichan.DefaultTraces() {
		systems = append(systems, []string{t})
	}
	for _, traces := range systems {
		trace := traces[0]
		if len(traces) > 1 {
			trace = "four-channel"
		}
		space, err := multichan.New(traces)
		if err != nil {
			fail(err)
		}
		objs := []string{"latency", "edp", "archgym_latency"}
		type task struct {
			obj *envs.Objective
			opt *envs.Optimum
		}
		tasks := make([]task, len(objs))
		for i, name := range objs {
			c := multichan.DefaultEnvConfig()
			c.Traces, c.Objective = traces, name
			oc, err := c.ObjectiveConfig()
			if err != nil {
				fail(err)
			}
			obj, err := oc.Bind(space.MetricNames())
			if err != nil {
				fail(err)
			}
			opt, err := c.Optimum(c.Traces, obj)
			if err != nil || opt == nil {
				fail(fmt.Errorf("%s %s: no optimum (%v)", trace, name, err))
			}
			tasks[i] = task{obj, opt}
		}
		knobs := space.Knobs()
		cfg := make([]int, len(knobs))
		m := make([]float64, len(space.MetricNames()))
		within := func(t task) bool {
			return t.obj.Violation(m) == 0 && envs.RegretOf(t.obj, t.opt.Value, t.obj.Value(m)) <= *thr
		}
		// The reference design: every knob at its first value, the
		// study's evaluation 1.
		if err := space.Evaluate(cfg, m); err != nil {
			fail(err)
		}
		ref := make([]bool, len(tasks))
		for i, t := range tasks {
			ref[i] = within(t)
		}
		hits := make([]int, len(tasks))
		rng := rand.New(rand.NewPCG(*seed, 0x6c6f7474))
		for s := 0; s < *samples; s++ {
			for k := range cfg {
				cfg[k] = rng.IntN(len(knobs[k].Values))
			}
			if err := space.Evaluate(cfg, m); err != nil {
				fail(err)
			}
			for i, t := range tasks {
				if within(t) {
					hits[i]++
				}
			}
		}
		for i, name := range objs {
			p := float64(hits[i]) / float64(*samples)
			lo, hi := wilson(hits[i], *samples)
			one, best := simulate(p, ref[i], *seeds, *methods, rng)
			pass := inside(p, ref[i], *seeds, *methods, rng)
			fmt.Printf("| %s %s | %.3g [%.3g, %.3g] | %v | %s | %s | %.2f |\n", trace, name, p, lo, hi, ref[i], one, best, pass)
		}
	}
}

// simulate draws 20,000 studies of a sampler whose evaluation 1 is the
// reference and every later one a uniform draw (within the threshold with
// probability p, independently: the sample is small against the space):
// the IQM over runs of one method, and the smallest IQM of that many
// such methods. It returns both as "median [2.5%, 97.5%]".
func simulate(p float64, ref bool, runs, methods int, rng *rand.Rand) (string, string) {
	const studies = 20000
	one := make([]float64, studies)
	best := make([]float64, studies)
	x := make([]float64, runs)
	for s := range studies {
		best[s] = math.Inf(1)
		for m := range methods {
			for r := range x {
				x[r] = draw(p, ref, rng)
			}
			v := experiments.IQM(x)
			if m == 0 {
				one[s] = v
			}
			best[s] = min(best[s], v)
		}
	}
	return quantiles(one), quantiles(best)
}

// inside simulates 2,000 studies of methods+1 uniform samplers and returns
// the fraction in which the last one's IQM is at or below the upper end of
// the 95% bootstrap interval (the reports' experiments.IQMInterval, with 500
// resamples against their 2,000, for time) of the method with the fewest
// IQM among the others: how often item 5's DDR3 criterion holds for a
// method that is no better than the baselines, when the baselines are
// uniform samplers too.
func inside(p float64, ref bool, runs, methods int, rng *rand.Rand) float64 {
	const studies, resamples = 2000, 500
	x := make([]float64, runs)
	bestX := make([]float64, runs)
	pass := 0
	for range studies {
		best := math.Inf(1)
		for range methods {
			for r := range x {
				x[r] = draw(p, ref, rng)
			}
			if v := experiments.IQM(x); v < best {
				best = v
				copy(bestX, x)
			}
		}
		_, upper := experiments.IQMInterval(bestX, resamples, 0.95, rng)
		for r := range x {
			x[r] = draw(p, ref, rng)
		}
		if experiments.IQM(x) <= upper {
			pass++
		}
	}
	return float64(pass) / studies
}

// draw is the evaluation at which a uniform sampler first gets within the
// threshold ("never" = 3,001, the study's convention, past the budget).
func draw(p float64, ref bool, rng *rand.Rand) float64 {
	if ref {
		return 1
	}
	if p <= 0 {
		return 3001
	}
	// 1 + a geometric number of draws: the first success at draw k.
	k := math.Ceil(math.Log1p(-rng.Float64()) / math.Log1p(-p))
	return min(1+max(k, 1), 3001)
}

func quantiles(v []float64) string {
	s := slices.Clone(v)
	sort.Float64s(s)
	q := func(f float64) float64 { return s[int(f*float64(len(s)-1))] }
	return fmt.Sprintf("%.3g [%.3g, %.3g]", q(0.5), q(0.025), q(0.975))
}

// wilson is the 95% Wilson score interval of a binomial proportion.
func wilson(k, n int) (float64, float64) {
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	d := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / d
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / d
	return math.Max(0, c-h), math.Min(1, c+h)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "lottery:", err)
	os.Exit(1)
}
