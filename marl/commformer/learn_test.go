package commformer

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/commgraph/commgraph/envs/predprey"
)

// BenchmarkLearnPredPreyEasy is the learning study of issue 4 at the
// reference settings: predator-prey 5x5, 3 predators, vision 1, learned graph
// with S = 0.4, 20 envs x 200 steps per iteration, 10 epochs, clip 0.05.
// Every 10 iterations it evaluates 50 deterministic episodes (cap 20) and
// logs the mean steps to finish; it reports the final value as
// eval-steps and the wall time per 1M environment steps. Iterations default
// to 250 (1M steps); set COMMFORMER_LEARN_ITERS to change, and
// COMMFORMER_LEARN_SEED for the seed, COMMFORMER_LEARN_EVERY for the
// evaluation interval. Run with -benchtime 1x; progress goes to stderr.
func BenchmarkLearnPredPreyEasy(b *testing.B) {
	iters := 250
	if s := os.Getenv("COMMFORMER_LEARN_ITERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("COMMFORMER_LEARN_ITERS: %v", err)
		}
		iters = n
	}
	seed := uint64(1)
	if s := os.Getenv("COMMFORMER_LEARN_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			b.Fatalf("COMMFORMER_LEARN_SEED: %v", err)
		}
		seed = n
	}
	every := 10
	if s := os.Getenv("COMMFORMER_LEARN_EVERY"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("COMMFORMER_LEARN_EVERY: %q", s)
		}
		every = n
	}
	for i := 0; i < b.N; i++ {
		cfg := DefaultConfig()
		cfg.Clip = 0.05
		cfg.Iterations = iters
		tr, err := New(predprey.MustNew(predprey.Easy()), cfg, seed)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var last float64
		for it := 1; it <= iters; it++ {
			m, err := tr.Iterate(bg)
			if err != nil {
				b.Fatal(err)
			}
			if it%every == 0 || it == iters {
				e, err := tr.Evaluate(bg, 50)
				if err != nil {
					b.Fatal(err)
				}
				last = e["eval_length"]
				// Printed as it happens (b.Logf output would appear only at
				// the end of a run that takes many minutes).
				fmt.Fprintf(os.Stderr, "iter %d steps %.0f: train return %.3f length %.2f | eval steps %.2f success %.2f | kl %.4f clip %.3f entropy %.3f | %.1fs/iter\n",
					it, m["env_steps"], m["episode_return"], m["episode_length"], e["eval_length"], e["eval_success"],
					m["approx_kl"], m["clip_fraction"], m["entropy"], time.Since(start).Seconds()/float64(it))
				if it == iters {
					b.Logf("final: eval steps %.2f", e["eval_length"])
				}
			}
		}
		el := time.Since(start).Seconds()
		b.ReportMetric(last, "eval-steps")
		b.ReportMetric(el/float64(tr.EnvSteps())*1e6, "s/1M-steps")
	}
}
