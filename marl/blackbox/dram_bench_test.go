package blackbox

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/dram/optimum"
)

var (
	dramTraces     = flag.String("blackbox.traces", "stream,random", "comma-separated DRAM traces of BenchmarkDRAM")
	dramObjectives = flag.String("blackbox.objectives", "latency", "comma-separated objective presets of BenchmarkDRAM (each with a shipped optimum)")
	dramKinds      = flag.String("blackbox.kinds", strings.Join(Kinds(), ","), "comma-separated methods of BenchmarkDRAM")
	dramBudget     = flag.Int("blackbox.budget", 2000, "unique-evaluation budget of BenchmarkDRAM")
	dramSeeds      = flag.Int("blackbox.seeds", 3, "seeds per benchmark iteration of BenchmarkDRAM")
)

// BenchmarkDRAM runs each method on the DRAM design space of each trace
// with a budget of unique evaluations and scores the best design by its
// regret against the shipped exhaustive optimum (envs/dram/optimum). One
// benchmark iteration runs -blackbox.seeds seeds (iteration i uses seeds
// i*seeds ...), so run it with -benchtime=1x. Reported per method, as means
// over the seeds:
//
//	regret      final relative regret, best_value/opt - 1
//	found       share of seeds whose best design is an exact optimum
//	to_1pct     unique evaluations until regret <= 1% (budget+1 if never)
//	to_opt      unique evaluations until an exact optimum (budget+1 if never)
//	ns/eval     wall time per unique evaluation (all workers; dominated by
//	            the simulator)
//
//	go test ./marl/blackbox -run '^$' -bench DRAM -benchtime=1x
func BenchmarkDRAM(b *testing.B) {
	for _, trace := range strings.Split(*dramTraces, ",") {
		space, err := dram.NewTraceSpace(trace)
		if err != nil {
			b.Fatal(err)
		}
		f, err := optimum.Load(trace)
		if err != nil {
			b.Fatal(err)
		}
		for _, objective := range strings.Split(*dramObjectives, ",") {
			e, err := f.Entry(objective)
			if err != nil {
				b.Fatal(err)
			}
			obj, err := optimum.Bind(objective)
			if err != nil {
				b.Fatal(err)
			}
			for _, kind := range strings.Split(*dramKinds, ",") {
				b.Run(fmt.Sprintf("trace=%s/obj=%s/%s", trace, objective, kind), func(b *testing.B) {
					var regret, found, to1, toOpt float64
					var wall time.Duration
					evals, runs := 0, 0
					for i := range b.N {
						for j := range *dramSeeds {
							seed := uint64(i**dramSeeds + j)
							opt := e.Value
							start := time.Now()
							// New wraps the space in a fresh cache: every seed pays for its evaluations.
							s, err := New(kind, space, obj, Config{Budget: *dramBudget, Optimum: &opt}, seed)
							if err != nil {
								b.Fatal(err)
							}
							var last map[string]float64
							for !s.Done() {
								if last, err = s.Iterate(context.Background()); err != nil {
									b.Fatal(err)
								}
							}
							wall += time.Since(start)
							evals += s.Space().Unique()
							runs++
							first1, firstOpt := float64(*dramBudget+1), float64(*dramBudget+1)
							for n, v := range s.BestCurve() {
								if r := s.regret(v); r <= 0.01 && first1 > float64(*dramBudget) {
									first1 = float64(n + 1)
								}
								if v == e.Value {
									firstOpt = float64(n + 1)
									break
								}
							}
							regret += last["regret"]
							to1 += first1
							toOpt += firstOpt
							if last["regret"] == 0 {
								found++
							}
							cfg, _, _ := s.Best()
							b.Logf("%s %s %s seed %d: regret %.4g (best %v %s at %v, optimum %v) after %d unique; regret <= 1%% after %v, optimum after %v",
								trace, objective, kind, seed, last["regret"], last["best_value"], e.Unit, cfg, e.Value, s.Space().Unique(), first1, firstOpt)
						}
					}
					n := float64(runs)
					b.ReportMetric(regret/n, "regret")
					b.ReportMetric(found/n, "found")
					b.ReportMetric(to1/n, "to_1pct")
					b.ReportMetric(toOpt/n, "to_opt")
					b.ReportMetric(float64(wall.Nanoseconds())/float64(evals), "ns/eval")
				})
			}
		}
	}
}
