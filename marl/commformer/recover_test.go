package commformer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/synthetic"
)

// tinyRecoveryConfig is the gradient recovery recipe (alpha_source =
// gradient; the planted configs now measure the graph instead, see
// TestInfluenceSource) on a 4-agent task: dense alpha-weighted warm-up,
// alpha learning from a third of it, then the exact top-1 graph frozen.
func tinyRecoveryConfig() Config {
	c := DefaultConfig()
	c.Embed = 32
	c.Senders = 1
	c.Warmup = 150
	c.AlphaStart = 50
	c.AlphaLR = 1e-2
	c.AlphaEvery = 2
	c.PostStable = true
	c.Iterations = 200
	c.PostRatio = 0.75
	c.LR = 2e-3
	c.Epochs = 10
	c.Envs, c.Steps = 16, 16
	c.Workers = 1
	return c
}

// tinyInfluenceConfig is the planted configs' recipe (alpha_source =
// influence) on the same 4-agent task: a dense unweighted warm-up, the
// measured influence averaged from a third of it and turned into pair
// scores (alpha_symmetric), then the top-1 graph frozen. Its observations
// carry the agent index (see the test).
func tinyInfluenceConfig() Config {
	c := tinyRecoveryConfig()
	c.AlphaSource = "influence"
	c.InfluenceEvery = 5
	c.AlphaSymmetric = true
	return c
}

// tinyPayoffConfig measures the graph from the rewards (alpha_source =
// payoff): a short dense warm-up whose rollouts fill the pair tables, then
// the top-1 graph of the symmetric pair scores frozen.
func tinyPayoffConfig() Config {
	c := tinyRecoveryConfig()
	c.AlphaSource = "payoff"
	c.AlphaStart = 0
	c.Warmup = 20
	c.PostRatio = 0.1
	c.AlphaSymmetric = true
	return c
}

// TestTinyPlantedRecovery: four knobs of three values, one strong planted
// pair (k0, k1), main effects half as strong, the design-revision form
// with half the knobs pinned. Agent 0's best value depends on knob 1's and
// vice versa; agents 2 and 3 need nobody. With k = 1 the learned graph must
// pick the planted partner for both agents of the pair in at least 9 of 10
// seeds (each seed also draws a new landscape), for both ways of setting
// alpha: CommFormer's gradient (anonymous messages, as the DRAM recovery
// configs), the measured influence (agent index in the observation) and
// the pair payoffs of the rewards. Chance is 1/3 per row, 1/9 per seed.
func TestTinyPlantedRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("learning test (a few minutes on 2 cores)")
	}
	for _, recipe := range []struct {
		name    string
		cfg     Config
		agentID bool
	}{
		{"gradient", tinyRecoveryConfig(), false},
		{"influence", tinyInfluenceConfig(), true},
		{"payoff", tinyPayoffConfig(), false},
	} {
		t.Run(recipe.name, func(t *testing.T) {
			const seeds = 10
			found := make([]bool, seeds)
			var wg sync.WaitGroup
			sem := make(chan struct{}, 2)
			for s := range seeds {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					seed := uint64(s + 1)
					space := synthetic.MustNew(synthetic.Config{Values: []int{3, 3, 3, 3},
						Pairs: []synthetic.Pair{{A: 0, B: 1, S: 3}}, MainScale: 0.5, Seed: seed})
					obj, err := envs.ObjectiveConfig{Name: "min_exp_y", Kind: envs.KindMinimize, Metrics: []string{synthetic.MetricExpY}}.Bind(space.MetricNames())
					if err != nil {
						t.Error(err)
						return
					}
					env, err := envs.NewRevisionEnv(space, envs.RevisionConfig{Objective: obj, Length: 1, Pinned: 0.5,
						ObsMetrics: []string{synthetic.MetricExpY}, Oracle: space.Oracle, AgentID: recipe.agentID})
					if err != nil {
						t.Error(err)
						return
					}
					tr, err := New(env, recipe.cfg, seed)
					if err != nil {
						t.Error(err)
						return
					}
					// Stop once the graph is frozen: its logits (and so the
					// exact top-k) no longer change, only the policy does.
					for i := 0; i < tr.Config().Iterations && tr.trainMode() != comm.ModeFrozen; i++ {
						if _, err := tr.Iterate(context.Background()); err != nil {
							t.Error(err)
							return
						}
					}
					if tr.trainMode() != comm.ModeFrozen {
						t.Errorf("seed %d: graph not frozen at the end", seed)
					}
					a := tr.Graph().Exact()
					found[s] = a[0*4+1] == 1 && a[1*4+0] == 1
					t.Logf("seed %d: row 0 logits %.2f, row 1 logits %.2f, pair found %v", seed, tr.Graph().Logits()[0:4], tr.Graph().Logits()[4:8], found[s])
				}()
			}
			wg.Wait()
			n := 0
			for _, f := range found {
				if f {
					n++
				}
			}
			if n < 9 {
				t.Fatalf("the planted partner was found by both agents of the pair in %d of %d seeds, want >= 9", n, seeds)
			}
		})
	}
}

// BenchmarkRevisionActing measures acting plus environment stepping in the
// revision form of a planted synthetic space with N = 40 agents (k = 2,
// exact graph, the recovery configs' model): one op is one rollout of
// num_envs x rollout_steps; it reports agent-steps per second (agents x
// environment steps per wall second) and agent-steps per CPU second of the
// process. Run with -cpu 1 for one core.
func BenchmarkRevisionActing(b *testing.B) {
	for _, n := range []int{10, 40} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			c, err := synthetic.Planted(n, 4, 1)
			if err != nil {
				b.Fatal(err)
			}
			space := synthetic.MustNew(c)
			obj, err := envs.ObjectiveConfig{Name: "min_exp_y", Kind: envs.KindMinimize, Metrics: []string{synthetic.MetricExpY}}.Bind(space.MetricNames())
			if err != nil {
				b.Fatal(err)
			}
			env, err := envs.NewRevisionEnv(space, envs.RevisionConfig{Objective: obj, Length: 1, Pinned: 0.5,
				ObsMetrics: []string{synthetic.MetricExpY}, Oracle: space.Oracle, Credit: "difference", Counterfactual: space.Evaluate})
			if err != nil {
				b.Fatal(err)
			}
			cfg := tinyRecoveryConfig()
			cfg.Senders = 2
			cfg.Warmup, cfg.AlphaStart, cfg.PostStable = 0, 0, false
			tr, err := New(env, cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := tr.rollout(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			steps := float64(b.N * cfg.Envs * cfg.Steps * n)
			b.ReportMetric(steps/time.Since(start).Seconds(), "agent-steps/s")
			// Per CPU second of this process: what one idle core would do
			// (the wall rate is inflated by other load on a shared machine).
			b.ReportMetric(steps/(float64(cpuTime()-c0)/1e9), "agent-steps/cpu-s")
		})
	}
}
