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
	dramTraces    = flag.String("blackbox.traces", "stream,random", "comma-separated DRAM traces of BenchmarkDRAM")
	dramObjective = flag.String("blackbox.objective", "latency", "objective preset of BenchmarkDRAM (one with a shipped optimum)")
	dramBudget    = flag.Int("blackbox.budget", 2000, "unique-evaluation budget of BenchmarkDRAM")
)

// BenchmarkDRAM runs each method on the DRAM design space of each trace
// with a budget of unique evaluations and scores the best design by its
// regret against the shipped exhaustive optimum (envs/dram/optimum). Each
// benchmark iteration is one seed (seed = iteration index), so
// -benchtime=Nx averages over N seeds. Reported per method:
//
//	regret      mean final relative regret (best_value/opt - 1)
//	found       share of seeds whose best design is an exact optimum
//	to_1pct     mean unique evaluations until regret <= 1% (budget+1 if never)
//	ns/eval     wall time per unique evaluation (all workers)
//
// go test ./marl/blackbox -run '^$' -bench DRAM -benchtime=3x
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
		e, err := f.Entry(*dramObjective)
		if err != nil {
			b.Fatal(err)
		}
		obj, err := optimum.Bind(*dramObjective)
		if err != nil {
			b.Fatal(err)
		}
		for _, kind := range Kinds() {
			b.Run(fmt.Sprintf("trace=%s/obj=%s/%s", trace, *dramObjective, kind), func(b *testing.B) {
				var regret, found, to1 float64
				var wall time.Duration
				evals := 0
				for i := range b.N {
					opt := e.Value
					start := time.Now()
					// A fresh (uncached) space per seed: every seed pays for its evaluations.
					s, err := New(kind, space, obj, Config{Budget: *dramBudget, Optimum: &opt}, uint64(i))
					if err != nil {
						b.Fatal(err)
					}
					first := float64(*dramBudget + 1)
					var last map[string]float64
					for !s.Done() {
						m, err := s.Iterate(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						if m["regret"] <= 0.01 && first > float64(*dramBudget) {
							first = m["unique_evals"]
						}
						last = m
					}
					wall += time.Since(start)
					evals += s.Space().Unique()
					regret += last["regret"]
					to1 += first
					if last["regret"] == 0 {
						found++
					}
					b.Logf("%s %s seed %d: regret %.4g (best %v %s, optimum %v) after %d unique; regret <= 1%% after %v",
						trace, kind, i, last["regret"], last["best_value"], e.Unit, e.Value, s.Space().Unique(), first)
				}
				n := float64(b.N)
				b.ReportMetric(regret/n, "regret")
				b.ReportMetric(found/n, "found")
				b.ReportMetric(to1/n, "to_1pct")
				b.ReportMetric(float64(wall.Nanoseconds())/float64(evals), "ns/eval")
			})
		}
	}
}
